"""Upper bounds on every size of a DDPM: the UNet's architecture, the schedule, training crops and batches
(issue 23 item 10: absurd configs once tried to allocate 12 GB to 17 TB). Fixed bounds that refuse what no
model of this project needs; the annotations of ``unet.UNetConfig`` apply them, and memory.py compares
what a run or a weights file needs with what the machine holds.
"""
MAX_CHANNELS = 8192       # widest level (the release UNet: 512; Stable Diffusion's: 1280)
MAX_LEVELS = 8            # resolution levels (channels entries); the stride is 2 ** (levels - 1)
MAX_LAYERS = 32           # residual blocks per level
MAX_IO_CHANNELS = 64      # in_channels, out_channels
MAX_TIME_DIM = 4 * MAX_CHANNELS
MAX_TIMESTEPS = 100_000   # schedule length T (diffusers' models: 1000)
MAX_CROP = 4096           # training crop side
MAX_WORKING_SIZE = 8192   # the shorter side a model works at
MAX_BATCH = 4096          # training batch per process

"""Named salts for ``derive_seeds`` and stream numbers for ``SampleRandom.fork``.

Every random draw in the project comes from (seed, salt...) through ``core/random.py``; two draws
that share a salt are the same draw. Each constant below names one sub-stream and says what it
separates. The values are part of the replay contract: changing one changes every result that
depends on it (the golden-value tests pin them).
"""
from __future__ import annotations

# --- whole-batch seeds (core/random.py: as_seed_tensor) -------------------------------------------
BATCH_SEED = 0x5EED       # an int seed for a whole batch: the batch's own stream ...
BATCH_POSITION = 0x1D     # ... xor-ed with a stream per position i, so sample i differs from sample j

# --- per-sample streams of a degradation stage (SampleRandom.fork) ---------------------------------
# Real-ESRGAN's two orders (degrade/realesrgan.py): each parameter group of each order has its own
# stream, so adding a draw to one group does not shift the others.
FIRST_BLUR = 1
FIRST_RESIZE = 2
FIRST_NOISE = 3
SECOND_BLUR = 4
SECOND_RESIZE = 5
SECOND_NOISE = 6
BLUR_KERNEL = 1           # the kernel draws of the blur block and the classical model, apart from their other draws

# --- per-sample noise fields (derive_seeds(seeds, salt)) -------------------------------------------
NOISE_FIELD = 1           # the seed of a stage's one noise field (classical, bsrgan, the noise block, the first order)
SECOND_NOISE_FIELD = 2    # the seed of Real-ESRGAN's second-order noise field
DETAIL_FIELD = 3          # the seed of the camera stage's detail-residual field (degrade/camera.py)

# --- training and streaming ------------------------------------------------------------------------
TRAIN_STEP_NOISE = 0x7EA1  # diffusion/train_loop.py: t and epsilon of (step, rank), apart from the crops
PAIR_CROP = 0xC209         # stream/pair_stream.py and the BasicSR dataset: where a sample's HQ crop lies

# --- the face degradation (degrade/face.py): each group of draws has its own stream ----------------
FACE_BLUR = 11            # the kernel of the normal ranges
FACE_BLUR_LARGE = 12      # the kernel of CodeFormer's large ranges (drawn always, used where chosen)
FACE_COLOUR = 13          # colour shift and gray
FACE_COLOUR_PT = 14       # GFPGAN's second colour jitter (brightness, contrast, saturation, hue)

# --- sample keys (stream/seeds.py): BLAKE2b of the text "tag|seed|...|key" ----------------------------
KEY_HASH = b"ds-seed"      # BLAKE2b personalisation of every per-sample seed hash, apart from other hashes
TAG_EPOCH = "e"            # the seed of a key in an epoch ...
TAG_VARIANT = "v"          # ... apart from the seed of a cached variant of the key ...
TAG_ORDER = "p"            # ... and from the order in which a block of epochs visits the variants
CONTENT_HASH = b"ds-content"  # BLAKE2b personalisation of the key made from an image's pixels (content_keys)

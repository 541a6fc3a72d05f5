# mmagic config: MSRResNet x4 trained on degrade_stream pairs made on the model's device.
# Run:  python -m degrade_stream.plugins.mmagic.train msrresnet_x4_degrade_stream.py --work-dir work_dirs/msrresnet
# Model, optimiser and schedule follow mmagic's configs/srgan_resnet/msrresnet_x4c64b16_1xb16-1000k_div2k.py;
# the pipeline loads HQ crops only and DegradeStreamDataPreprocessor makes the LQ inputs per batch.
# For per-sample CPU synthesis in the workers instead, use data_preprocessor=dict(type='DataPreprocessor', ...)
# and add dict(type='DegradeStream', config=chain, scale=scale) to the pipeline before PackInputs.
custom_imports = dict(imports=['degrade_stream.plugins.mmagic'], allow_failed_imports=False)
default_scope = 'mmagic'

scale = 4
chain = 'realesrgan'          # a shipped degrade_stream chain name or a chain YAML path
gt_size = 128
hq_folder = 'data/hq'         # HQ images (ann_file='' lists the whole folder)

model = dict(
    type='BaseEditModel',
    generator=dict(type='MSRResNet', in_channels=3, out_channels=3, mid_channels=64, num_blocks=16,
                   upscale_factor=scale),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    train_cfg=dict(),
    test_cfg=dict(),
    data_preprocessor=dict(type='DegradeStreamDataPreprocessor', config=chain, scale=scale, seed=0,
                           mean=[0., 0., 0.], std=[255., 255., 255.]))

train_pipeline = [
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
    dict(type='Crop', keys=['gt'], crop_size=(gt_size, gt_size), random_crop=True),
    dict(type='Flip', keys=['gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='Flip', keys=['gt'], flip_ratio=0.5, direction='vertical'),
    dict(type='RandomTransposeHW', keys=['gt'], transpose_ratio=0.5),
    dict(type='PackInputs', keys=[], meta_keys=['key']),
]

train_dataloader = dict(
    num_workers=4,
    batch_size=16,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='BasicImageDataset', data_root=hq_folder, data_prefix=dict(gt=''), ann_file='',
                 pipeline=train_pipeline))

train_cfg = dict(type='IterBasedTrainLoop', max_iters=1_000_000)
val_cfg = None
val_dataloader = None
val_evaluator = None

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.9, 0.999)))
param_scheduler = dict(type='CosineRestartLR', by_epoch=False, periods=[250000, 250000, 250000, 250000],
                       restart_weights=[1, 1, 1, 1], eta_min=1e-7)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=5000, by_epoch=False, save_optimizer=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=1),
               dist_cfg=dict(backend='nccl'))
log_level = 'INFO'
log_processor = dict(type='LogProcessor', window_size=100, by_epoch=False)
randomness = dict(seed=0)
load_from = None
resume = False

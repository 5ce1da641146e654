# Tiny config for tests and laptop smoke runs: a tiny random CLIP, 64 px VOC
# layout data (tests write it; --cfg-options *.dataset.data_root=... points
# at it), a few iterations. Same registered modules as the real configs.
_base_ = [
    './_base_/models/reclip_vit-b16.py', './_base_/clips/tiny_random_clip.py',
    './_base_/datasets/voc20.py', './_base_/default_runtime.py',
    './_base_/schedules/schedule_20k.py'
]
crop_size = (64, 64)
data_root = 'data/synthetic_voc'
model = dict(
    clip={{_base_.tiny_clip}},
    decode_head=dict(
        _delete_=True,
        type='BiasRectificationHead',
        class_names='PascalVOC20Dataset',
        in_channels=32,
        pos_channels=64,
        norm_cfg=dict(type='BN')),
    hypothesis=dict(window=32, stride=16, batch_size=16))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResize',
        scale=(256, 64),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]
        ])
]
train_cfg = dict(max_iters=4, val_interval=2)
param_scheduler = [dict(type='PolyLR', power=0.9, end=4, by_epoch=False)]
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2),
    visualization=dict(type='SegVisualizationHook'))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# Without device_ids, DDP also wraps CPU models (torchrun on a laptop).
model_wrapper_cfg = dict(
    type='DDPIfTrainable',
    device_ids=None,
    broadcast_buffers=False,
    find_unused_parameters=False)

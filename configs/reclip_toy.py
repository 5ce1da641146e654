# ReCLIP++ in the toy world (README "Toy world"): the same registered
# modules as configs/reclip_voc.py, only sizes and paths differ. The tiny
# CLIP was pretrained on captions of this world by
# tools/toy/pretrain_tiny_clip.py; its checkpoint ships with the package.
# Run it all (data, training, both evaluations): python tools/toy_quickstart.py
_base_ = [
    './_base_/models/reclip_vit-b16.py', './_base_/clips/toy_clip.py',
    './_base_/datasets/toy_world.py', './_base_/default_runtime.py',
    './_base_/schedules/schedule_20k.py'
]
templates = ['a photo of a {}.']  # the captions' own phrasing
data_preprocessor = dict(size_divisor=8, test_cfg=dict(size_divisor=8))
model = dict(
    data_preprocessor=data_preprocessor,
    clip={{_base_.toy_clip}},
    decode_head=dict(
        class_names='ToyWorldDataset',
        templates=templates,
        in_channels=64,
        pos_channels=96,
        norm_cfg=dict(type='BN', requires_grad=True)),
    hypothesis=dict(window=32, stride=16, clip_size=64, batch_size=64))
iters = 2000
train_cfg = dict(max_iters=iters, val_interval=iters)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=iters,
        by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=iters, max_keep_ckpts=1),
    visualization=dict(type='SegVisualizationHook'))
env_cfg = dict(dist_cfg=dict(backend='gloo'))

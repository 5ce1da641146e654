# ReCLIP++ in the toy world (README "Toy world"): the same registered
# modules as configs/reclip_voc.py, only sizes and paths differ. The tiny
# CLIP was pretrained on captions of this world by
# tools/toy/pretrain_tiny_clip.py; its checkpoint ships with the package.
# Run it all (data, training, both evaluations): python tools/toy_quickstart.py
_base_ = [
    './_base_/models/reclip_vit-b16.py', './_base_/datasets/toy_world.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_20k.py'
]
# = reclip_mmseg.toy.TOY_CLIP (tests check they agree)
toy_clip = dict(
    embed_dim=64,
    quick_gelu=True,
    vision_cfg=dict(image_size=64, patch_size=8, width=96, layers=4,
                    head_width=32),
    text_cfg=dict(
        context_length=32, vocab_size=49408, width=64, heads=2, layers=2))
toy_clip_pretrained = '{{ fileDirname }}/../reclip_mmseg/toy/toy_clip.pt'
templates = ['a photo of a {}.']  # the captions' own phrasing
data_preprocessor = dict(size_divisor=8, test_cfg=dict(size_divisor=8))
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        clip_model=dict(toy_clip, _delete_=True),
        pretrained=toy_clip_pretrained),
    decode_head=dict(
        class_names='ToyWorldDataset',
        clip_model=dict(toy_clip, _delete_=True),  # replaces the base's str
        pretrained=toy_clip_pretrained,
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

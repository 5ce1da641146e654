# Training-free MaskCLIP baseline in the toy world (same tiny CLIP and
# templates as configs/reclip_toy.py):
#   python tools/test.py configs/maskclip_toy.py
_base_ = [
    './_base_/models/maskclip_vit-b16.py', './_base_/clips/toy_clip.py',
    './_base_/datasets/toy_world.py', './_base_/default_runtime.py',
    './_base_/schedules/schedule_20k.py'
]
data_preprocessor = dict(size_divisor=8, test_cfg=dict(size_divisor=8))
model = dict(
    data_preprocessor=data_preprocessor,
    clip={{_base_.toy_clip}},
    decode_head=dict(
        class_names='ToyWorldDataset',
        templates=['a photo of a {}.'],
        in_channels=64))
env_cfg = dict(dist_cfg=dict(backend='gloo'))

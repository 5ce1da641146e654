# Training-free MaskCLIP baseline in the toy world (same tiny CLIP and
# templates as configs/reclip_toy.py):
#   python tools/test.py configs/maskclip_toy.py
_base_ = [
    './_base_/models/maskclip_vit-b16.py', './_base_/datasets/toy_world.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_20k.py'
]
toy_clip = dict(
    embed_dim=64,
    quick_gelu=True,
    vision_cfg=dict(image_size=64, patch_size=8, width=96, layers=4,
                    head_width=32),
    text_cfg=dict(
        context_length=32, vocab_size=49408, width=64, heads=2, layers=2))
toy_clip_pretrained = '{{ fileDirname }}/../reclip_mmseg/toy/toy_clip.pt'
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
        templates=['a photo of a {}.'],
        in_channels=64))
env_cfg = dict(dist_cfg=dict(backend='gloo'))

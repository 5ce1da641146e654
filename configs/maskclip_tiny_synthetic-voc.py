# Training-free MaskCLIP baseline on the tiny test world (see
# reclip_tiny_synthetic-voc.py): tools/test.py runs it without a checkpoint.
_base_ = ['./reclip_tiny_synthetic-voc.py']
model = dict(
    _delete_=True,
    type='CLIPSegmentor',
    data_preprocessor={{_base_.data_preprocessor}},
    clip={{_base_.tiny_clip}},
    backbone=dict(type='MaskCLIPViT'),
    decode_head=dict(
        type='MaskCLIPHead',
        class_names='PascalVOC20Dataset',
        in_channels=32),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

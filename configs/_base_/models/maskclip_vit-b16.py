# Training-free MaskCLIP baseline on a frozen OpenAI CLIP ViT-B/16.
# OpenAI's weights were trained with QuickGELU: this name builds it for every
# form of them (tag, TorchScript archive, state-dict or open_clip hub file).
# For other weights use the plain name, e.g. model.clip.model='ViT-B-16' with
# model.clip.pretrained='laion2b_s34b_b88k' (README "CLIP weights").
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[122.771, 116.746, 104.094],
    std=[68.501, 66.632, 70.323],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='CLIPSegmentor',
    data_preprocessor=data_preprocessor,
    # the one CLIP: its visual tower is the backbone's, its text tower the
    # head's (built once)
    clip=dict(model='ViT-B-16-quickgelu', pretrained='openai'),
    backbone=dict(type='MaskCLIPViT'),
    decode_head=dict(
        type='MaskCLIPHead',
        class_names=None,  # set by the leaf config
        in_channels=512),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

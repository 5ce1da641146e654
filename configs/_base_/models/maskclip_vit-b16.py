# Training-free MaskCLIP baseline on a frozen OpenAI CLIP ViT-B/16.
# OpenAI's weights were trained with QuickGELU: this name builds it for every
# form of them (tag, TorchScript archive, state-dict or open_clip hub file).
# For other weights use the plain name, e.g. clip_model='ViT-B-16' with
# pretrained='laion2b_s34b_b88k' (README "CLIP weights").
clip_model = 'ViT-B-16-quickgelu'
clip_pretrained = 'openai'
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
    backbone=dict(
        type='MaskCLIPViT', clip_model=clip_model, pretrained=clip_pretrained),
    decode_head=dict(
        type='MaskCLIPHead',
        class_names=None,  # set by the leaf config
        clip_model=clip_model,
        pretrained=clip_pretrained,
        in_channels=512),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

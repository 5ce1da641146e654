# ReCLIP++ on a frozen OpenAI CLIP ViT-B/16 (released-code defaults).
# `pretrained` may be an open_clip tag ('openai') or a local file, e.g.
# --cfg-options model.backbone.pretrained=/path/ViT-B-16.pt \
#               model.decode_head.pretrained=/path/ViT-B-16.pt
# OpenAI's weights were trained with QuickGELU: this name builds it for every
# form of them (tag, TorchScript archive, state-dict or open_clip hub file).
# For other weights use the plain name, e.g. clip_model='ViT-B-16' with
# pretrained='laion2b_s34b_b88k' (README "CLIP weights").
clip_model = 'ViT-B-16-quickgelu'
clip_pretrained = 'openai'
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[122.771, 116.746, 104.094],  # CLIP's, RGB
    std=[68.501, 66.632, 70.323],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='ReCLIPPlusPlus',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='MaskCLIPViT', clip_model=clip_model, pretrained=clip_pretrained),
    decode_head=dict(
        type='BiasRectificationHead',
        class_names=None,  # set by the leaf config (a list or a dataset name)
        clip_model=clip_model,
        pretrained=clip_pretrained,
        in_channels=512,
        pos_channels=768,
        prompt_cfg=dict(normalize='global'),
        decoder_kernel=5,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        gumbel_scale=100.0,
        gumbel_tau=1.0,
        loss_decode=dict(type='MaskedContrastiveLoss', loss_weight=1.0)),
    hypothesis=dict(
        type='SlidingWindowHypothesis',
        window=56,
        stride=28,
        min_votes=1,
        fallback_topk=1),
    train_cfg=dict(),
    # postprocess: registered test-time steps on the head's logits, e.g.
    # [dict(type='PromptDenoise', threshold=1.0)] (README "Post-processing")
    test_cfg=dict(mode='whole', postprocess=[]))

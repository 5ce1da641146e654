# ReCLIP++ on a frozen OpenAI CLIP ViT-B/16 (released-code defaults).
# `model.clip.pretrained` may be an open_clip tag ('openai') or a local file,
# e.g. --cfg-options model.clip.pretrained=/path/ViT-B-16.pt
# OpenAI's weights were trained with QuickGELU: this name builds it for every
# form of them (tag, TorchScript archive, state-dict or open_clip hub file).
# For other weights use the plain name, e.g. model.clip.model='ViT-B-16' with
# model.clip.pretrained='laion2b_s34b_b88k' (README "CLIP weights").
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
    # the one CLIP: its visual tower is the backbone's, its text tower the
    # head's (built once)
    clip=dict(model='ViT-B-16-quickgelu', pretrained='openai'),
    backbone=dict(type='MaskCLIPViT'),
    decode_head=dict(
        type='BiasRectificationHead',
        class_names=None,  # set by the leaf config (a list or a dataset name)
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

# A tiny random CLIP (embed 32, ViT 64 wide / 2 layers / patch 16 / 224 px,
# text 64 wide / 2 layers / 77 tokens) for tests and laptop smoke runs.
# A leaf config uses it as the model's one CLIP setting:
#   model = dict(clip={{_base_.tiny_clip}})
tiny_clip = dict(
    _delete_=True,  # replaces the model base's ViT-B/16 setting as a whole
    model=dict(
        embed_dim=32,
        quick_gelu=True,
        vision_cfg=dict(
            image_size=224, layers=2, width=64, head_width=32, patch_size=16),
        text_cfg=dict(
            context_length=77, vocab_size=49408, width=64, heads=2,
            layers=2)),
    pretrained=None)

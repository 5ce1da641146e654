# The toy world's tiny CLIP (= reclip_mmseg.toy.TOY_CLIP; tests check they
# agree), pretrained on captions of a biased version of the world by
# tools/toy/pretrain_tiny_clip.py; its checkpoint ships with the package.
# A leaf config uses it as the model's one CLIP setting:
#   model = dict(clip={{_base_.toy_clip}})
toy_clip = dict(
    _delete_=True,  # replaces the model base's ViT-B/16 setting as a whole
    model=dict(
        embed_dim=64,
        quick_gelu=True,
        vision_cfg=dict(
            image_size=64, patch_size=8, width=96, layers=4, head_width=32),
        text_cfg=dict(
            context_length=32, vocab_size=49408, width=64, heads=2,
            layers=2)),
    pretrained='{{ fileDirname }}/../../../reclip_mmseg/toy/toy_clip.pt')

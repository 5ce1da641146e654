# ReCLIP++ (residual decoder, configs/reclip_toy_residual.py) trained on top
# of the naclip last-block rule: the Query logits, the decoder and the loss see
# naclip's dense features; the hypotheses keep CLIP's own global embedding.
# Only the backbone's rule changes (same CLIP, recipe and test protocol):
#   python tools/train.py configs/toy/reclip_naclip_toy_residual.py
_base_ = ['../reclip_toy_residual.py']
model = dict(backbone=dict(last_block='naclip', last_block_cfg=dict(sigma=5.0)))

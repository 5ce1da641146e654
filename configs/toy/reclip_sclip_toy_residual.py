# ReCLIP++ (residual decoder, configs/reclip_toy_residual.py) trained on top
# of the sclip last-block rule: the Query logits, the decoder and the loss see
# sclip's dense features; the hypotheses keep CLIP's own global embedding.
# Only the backbone's rule changes (same CLIP, recipe and test protocol):
#   python tools/train.py configs/toy/reclip_sclip_toy_residual.py
_base_ = ['../reclip_toy_residual.py']
model = dict(backbone=dict(last_block='sclip'))

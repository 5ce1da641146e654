# SCLIP (training-free) in the toy world: configs/maskclip_toy.py (same tiny
# CLIP, templates and data) with SCLIP's last block (correlative
# self-attention, residual and MLP kept), the peers' positional-embedding
# resize (a no-op at the toy's pretraining size) and SCLIP's probabilities;
# no PAMR (SCLIP's default):
#   python tools/test.py configs/toy/sclip_toy.py
_base_ = ['../maskclip_toy.py', './_base_/peer_steps.py']
model = dict(
    backbone=dict(last_block='sclip', pos_embed_resize='scale_factor'),
    test_cfg=dict(postprocess_merged=[{{_base_.sclip_probs}}]))

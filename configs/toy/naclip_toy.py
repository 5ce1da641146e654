# NACLIP (training-free) without PAMR in the toy world: configs/maskclip_toy.py
# with NACLIP's last block (k-k attention plus a Gaussian of the patch
# distance, sigma 5 patches as released; no residual, no MLP), the peers'
# positional-embedding resize (a no-op at 64 px) and its probabilities:
#   python tools/test.py configs/toy/naclip_toy.py
_base_ = ['../maskclip_toy.py', './_base_/peer_steps.py']
model = dict(
    backbone=dict(
        last_block='naclip',
        last_block_cfg=dict(sigma=5.0),
        pos_embed_resize='scale_factor'),
    test_cfg=dict(postprocess_merged=[{{_base_.naclip_probs}}]))

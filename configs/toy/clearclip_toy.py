# ClearCLIP (training-free) in the toy world: configs/maskclip_toy.py with
# ClearCLIP's last block (q-q attention, no residual, no MLP), the peers'
# positional-embedding resize (a no-op at 64 px) and its probabilities
# (logit scale 50):
#   python tools/test.py configs/toy/clearclip_toy.py
_base_ = ['../maskclip_toy.py', './_base_/peer_steps.py']
model = dict(
    backbone=dict(last_block='clearclip', pos_embed_resize='scale_factor'),
    test_cfg=dict(postprocess_merged=[{{_base_.clearclip_probs}}]))

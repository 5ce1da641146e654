# ReCLIP++ on NACLIP (configs/toy/reclip_naclip_toy_residual.py) with
# NACLIP's PAMR at test time on the head's output logits (10 iterations,
# dilations 8 and 16 px, as configs/toy/naclip-pamr_toy.py). Training is
# unchanged (PAMR is test-time only), so a checkpoint of
# reclip_naclip_toy_residual.py tests with it:
#   python tools/test.py configs/toy/reclip_naclip-pamr_toy_residual.py CKPT
_base_ = ['./reclip_naclip_toy_residual.py', './_base_/peer_steps.py']
model = dict(test_cfg=dict(postprocess_merged=[{{_base_.pamr}}]))

# NACLIP with PAMR, its released default, in the toy world: configs/toy/
# naclip_toy.py with PAMR first in the chain, on the raw cosine logits at the
# image size, guided by the normalised input, before the logit scale:
#   python tools/test.py configs/toy/naclip-pamr_toy.py
_base_ = ['./naclip_toy.py']
model = dict(
    test_cfg=dict(
        postprocess_merged=[{{_base_.pamr}}, {{_base_.naclip_probs}}]))

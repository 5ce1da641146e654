# ReCLIP++ on top of NACLIP's last block: configs/reclip_cocostuff27.py
# (ReCLIP++'s recipe and test protocol, unchanged) with NACLIP's rule (sigma
# 5) for the backbone's dense features; the hypotheses keep CLIP's global
# embedding (CLIP's own last block).
_base_ = ['../reclip_cocostuff27.py']
model = dict(
    backbone=dict(last_block='naclip', last_block_cfg=dict(sigma=5.0)))

# NACLIP ('reduced' architecture): softmax(k kT s + w), w a Gaussian of the
# patch distance (sigma 5, peak 1), no residual, no MLP; without PAMR
# (./naclip-pamr.py adds it, NACLIP's released default).
_base_ = ['./training_free.py']
model = dict(
    backbone=dict(last_block='naclip', last_block_cfg=dict(sigma=5.0)))

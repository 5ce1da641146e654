# SCLIP: correlative self-attention softmax(q qT s) + softmax(k kT s) in the
# last block, residual and MLP kept (SCLIP's custom_attn(csa=True)). Its PAMR
# is off by default, as released.
_base_ = ['./training_free.py']
model = dict(backbone=dict(last_block='sclip'))

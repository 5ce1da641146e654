# MaskCLIP's last block (value path only, residual and MLP kept; the
# project's default) under the peers' test protocol: the leaf configs give it
# NACLIP's protocol column, so it differs from NACLIP by the last block only.
_base_ = ['./training_free.py']
model = dict(backbone=dict(last_block='maskclip'))

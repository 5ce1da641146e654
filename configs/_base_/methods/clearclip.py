# ClearCLIP: softmax(q qT s) in the last block, no residual, no MLP (the
# paper's method and demo; its shipped base config's 'vanilla' mode is a
# slip). No PAMR.
_base_ = ['./training_free.py']
model = dict(backbone=dict(last_block='clearclip'))

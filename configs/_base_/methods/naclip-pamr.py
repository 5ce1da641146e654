# NACLIP + PAMR, NACLIP's released default (test_all.sh "reduced naclip 5
# on"): PAMR with NACLIP's settings (10 iterations, dilations 8 and 16) on
# the merged raw cosine logits at the original image size, before the logit
# scale and softmax. Its published numbers are this method's.
_base_ = ['./naclip.py']
pamr_steps = [dict(type='PAMR', num_iter=10, dilations=(8, 16))]

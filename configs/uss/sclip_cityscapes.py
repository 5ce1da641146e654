# SCLIP on Cityscapes-19 (USS), training-free: the same test set, labels and
# dataset class as the OVSS benchmark cityscapes, so the SCLIP protocol of
# configs/ovss/sclip_cityscapes.py applies as it is.
_base_ = ['../ovss/sclip_cityscapes.py']

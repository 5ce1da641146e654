# NACLIP on Cityscapes-19 (USS), training-free: the same test set, labels and
# dataset class as the OVSS benchmark cityscapes, so the NACLIP protocol of
# configs/ovss/naclip_cityscapes.py applies as it is.
_base_ = ['../ovss/naclip_cityscapes.py']

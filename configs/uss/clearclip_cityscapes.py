# ClearCLIP on Cityscapes-19 (USS), training-free: the same test set, labels
# and dataset class as the OVSS benchmark cityscapes, so the ClearCLIP
# protocol of configs/ovss/clearclip_cityscapes.py applies as it is.
_base_ = ['../ovss/clearclip_cityscapes.py']

# ClearCLIP on VOC-20 (USS), training-free: the same test set, labels and
# dataset class as the OVSS benchmark voc20, so the ClearCLIP protocol of
# configs/ovss/clearclip_voc20.py applies as it is.
_base_ = ['../ovss/clearclip_voc20.py']

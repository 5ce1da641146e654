# NACLIP on VOC-20 (USS), training-free: the same test set, labels and
# dataset class as the OVSS benchmark voc20, so the NACLIP protocol of
# configs/ovss/naclip_voc20.py applies as it is.
_base_ = ['../ovss/naclip_voc20.py']

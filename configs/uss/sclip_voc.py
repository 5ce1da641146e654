# SCLIP on VOC-20 (USS), training-free: the same test set, labels and dataset
# class as the OVSS benchmark voc20, so the SCLIP protocol of
# configs/ovss/sclip_voc20.py applies as it is.
_base_ = ['../ovss/sclip_voc20.py']

# NACLIP on ADE-150 (USS), training-free: the same test set, labels and
# dataset class as the OVSS benchmark ade20k, so the NACLIP protocol of
# configs/ovss/naclip_ade20k.py applies as it is.
_base_ = ['../ovss/naclip_ade20k.py']

# SCLIP on Context-59 (USS), training-free: the same test set, labels and
# dataset class as the OVSS benchmark context59, so the SCLIP protocol of
# configs/ovss/sclip_context59.py applies as it is.
_base_ = ['../ovss/sclip_context59.py']

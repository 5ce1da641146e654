# ClearCLIP on Context-59 (USS), training-free: the same test set, labels and
# dataset class as the OVSS benchmark context59, so the ClearCLIP protocol of
# configs/ovss/clearclip_context59.py applies as it is.
_base_ = ['../ovss/clearclip_context59.py']

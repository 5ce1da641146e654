# NACLIP + PAMR on Context-59 (USS), training-free: the same test set, labels
# and dataset class as the OVSS benchmark context59, so the NACLIP protocol
# of configs/ovss/naclip-pamr_context59.py applies as it is.
_base_ = ['../ovss/naclip-pamr_context59.py']

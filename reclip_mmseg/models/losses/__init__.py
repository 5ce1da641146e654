from .masked_contrastive_loss import (MaskedContrastiveLoss,
                                      hypothesis_to_mask,
                                      masked_contrastive_loss)

__all__ = [
    'MaskedContrastiveLoss', 'masked_contrastive_loss', 'hypothesis_to_mask'
]

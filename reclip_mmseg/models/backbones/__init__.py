from .last_block_rules import LAST_BLOCK_RULES, get_last_block_rule
from .maskclip_vit import CLIPFeatures, CLIPFeaturesWithGlobal, MaskCLIPViT
from .pos_embed_resize import (POS_EMBED_RESIZERS, resample_patch_pos_embed,
                               resample_patch_pos_embed_scale_factor)

__all__ = [
    'MaskCLIPViT', 'CLIPFeatures', 'CLIPFeaturesWithGlobal',
    'resample_patch_pos_embed', 'resample_patch_pos_embed_scale_factor',
    'POS_EMBED_RESIZERS', 'LAST_BLOCK_RULES', 'get_last_block_rule'
]

from .maskclip_vit import (CLIPFeatures, CLIPFeaturesWithGlobal, MaskCLIPViT,
                           resample_patch_pos_embed)

__all__ = [
    'MaskCLIPViT', 'CLIPFeatures', 'CLIPFeaturesWithGlobal',
    'resample_patch_pos_embed'
]

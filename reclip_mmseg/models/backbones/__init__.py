from .maskclip_vit import MaskCLIPViT, resample_patch_pos_embed

__all__ = ['MaskCLIPViT', 'resample_patch_pos_embed']

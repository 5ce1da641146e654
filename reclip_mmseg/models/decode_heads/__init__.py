from .bias_rectification_head import BiasRectificationHead
from .maskclip_head import MaskCLIPHead, prompt_denoise

__all__ = ['MaskCLIPHead', 'BiasRectificationHead', 'prompt_denoise']

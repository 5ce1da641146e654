from .bias_rectification_head import BiasRectificationHead
from .maskclip_head import MaskCLIPHead

__all__ = ['MaskCLIPHead', 'BiasRectificationHead']

from .clip_segmentor import CLIPSegmentor
from .reclip_plus_plus import ReCLIPPlusPlus

__all__ = ['CLIPSegmentor', 'ReCLIPPlusPlus']

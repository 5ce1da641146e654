from .reclip_plus_plus import ReCLIPPlusPlus

__all__ = ['ReCLIPPlusPlus']

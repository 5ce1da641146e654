"""Importers for the files the ReCLIP++ authors released (dogehhh/ReCLIP)."""
from .checkpoint import (CLIP_TO_MODEL, FROZEN_CLIP, TRAINED_KEYS,
                         convert_official_checkpoint)

__all__ = [
    'TRAINED_KEYS', 'FROZEN_CLIP', 'CLIP_TO_MODEL',
    'convert_official_checkpoint'
]

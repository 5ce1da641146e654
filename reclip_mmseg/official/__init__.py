"""Importers for the files the ReCLIP++ authors released (dogehhh/ReCLIP)."""
from .checkpoint import (CLIP_TO_MODEL, FROZEN_CLIP, TRAINED_KEYS,
                         convert_official_checkpoint)
from .hypotheses import (hypotheses_by_image, imported_fingerprint,
                         read_official_hypotheses)

__all__ = [
    'TRAINED_KEYS', 'FROZEN_CLIP', 'CLIP_TO_MODEL',
    'convert_official_checkpoint', 'read_official_hypotheses',
    'hypotheses_by_image', 'imported_fingerprint'
]

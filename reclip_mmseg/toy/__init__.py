"""The toy world: synthetic shapes and a tiny CLIP pretrained on them.

See :mod:`reclip_mmseg.toy.world`; the dataset class is
:class:`reclip_mmseg.datasets.ToyWorldDataset`, the pretraining script
``tools/toy/pretrain_tiny_clip.py``.
"""
from .world import (CLASSES, CONFUSABLE_PAIRS, PALETTE, PRETRAIN_BIAS,
                    TOY_CLIP, TOY_CLIP_CHECKPOINT, TOY_CLIP_CHECKPOINTS,
                    WORLD_VERSION,
                    PretrainBias, caption, caption_classes, evaluate_toy_clip,
                    format_caption, format_evaluation, is_near_centre,
                    sample_scene, write_dataset)

__all__ = [
    'CLASSES', 'PALETTE', 'CONFUSABLE_PAIRS', 'PretrainBias',
    'PRETRAIN_BIAS', 'WORLD_VERSION', 'TOY_CLIP', 'TOY_CLIP_CHECKPOINT',
    'TOY_CLIP_CHECKPOINTS',
    'sample_scene', 'caption', 'caption_classes', 'format_caption',
    'is_near_centre', 'write_dataset', 'evaluate_toy_clip',
    'format_evaluation'
]

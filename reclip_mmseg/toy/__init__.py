"""The toy world: synthetic shapes and a tiny CLIP pretrained on them.

:mod:`reclip_mmseg.toy.world` renders scenes and captions,
:mod:`reclip_mmseg.toy.writer` writes the segmentation dataset; the dataset
class is :class:`reclip_mmseg.datasets.ToyWorldDataset`. The tiny CLIP's
pretraining and its own zero-shot evaluation are tools
(``tools/toy/pretrain_tiny_clip.py``, ``tools/toy/toy_clip_eval.py``).
"""
from .world import (CLASSES, CONFUSABLE_PAIRS, PALETTE, PRETRAIN_BIAS,
                    TOY_CLIP, TOY_CLIP_CHECKPOINT, TOY_CLIP_CHECKPOINTS,
                    WORLD_VERSION, PretrainBias, caption, caption_classes,
                    format_caption, is_near_centre, sample_scene, scene_rng)
from .writer import write_dataset

__all__ = [
    'CLASSES', 'PALETTE', 'CONFUSABLE_PAIRS', 'PretrainBias',
    'PRETRAIN_BIAS', 'WORLD_VERSION', 'TOY_CLIP', 'TOY_CLIP_CHECKPOINT',
    'TOY_CLIP_CHECKPOINTS', 'sample_scene', 'caption', 'caption_classes',
    'format_caption', 'is_near_centre', 'scene_rng', 'write_dataset'
]

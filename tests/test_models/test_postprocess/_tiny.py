"""Tiny CLIP segmentors (MaskCLIP and ReCLIP++) for the post-processing
tests."""
import copy

import torch
from conftest import TINY_CLIP
from mmengine.config import ConfigDict
from mmseg.registry import MODELS

NAMES = ['cat', 'dog', 'car', 'tree', 'sky']


def _build(segmentor, head, test_cfg):
    torch.manual_seed(0)
    model = MODELS.build(
        ConfigDict(
            type=segmentor,
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[122.771, 116.746, 104.094],
                std=[68.501, 66.632, 70.323],
                bgr_to_rgb=True,
                size_divisor=16),
            clip=dict(model=copy.deepcopy(TINY_CLIP), pretrained=None),
            backbone=dict(type='MaskCLIPViT'),
            decode_head=dict(
                class_names=NAMES,
                in_channels=32,
                **head),
            test_cfg=dict(dict(mode='whole'), **test_cfg)))
    model.init_weights()
    return model.eval()


def tiny_maskclip(**test_cfg):
    """The training-free MaskCLIP baseline (``CLIPSegmentor``), tiny."""
    return _build('CLIPSegmentor', dict(type='MaskCLIPHead'), test_cfg)


def tiny_segmentor(**test_cfg):
    """ReCLIP++ (``ReCLIPPlusPlus``), tiny."""
    return _build(
        'ReCLIPPlusPlus',
        dict(type='BiasRectificationHead', pos_channels=64,
             norm_cfg=dict(type='BN')), test_cfg)

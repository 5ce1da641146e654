"""The hypothesis refactor (issue 18 item 2) changes no result.

Expectations were computed by the generator as it was before the narrow
interface (``reclip_mmseg/models/utils/hypothesis.py`` at bd140c0, handed
the whole segmentor) on the tiny CLIP of ``tiny_clip_file`` (seed 0) and the
three synthetic images below; the refactored code must reproduce them.
"""
import cv2
import numpy as np
import pytest
import torch
from conftest import TINY_CLIP
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

NAMES = ['cat', 'dog', 'car', 'tree', 'sky']
#: ``window_logits`` of image 0 (64 x 80, window 32, stride 16): 12 x 5.
WINDOW_LOGITS_0 = [
    15.927, 18.2129, 10.2756, 19.106, 14.6482, 18.3235, 20.7827, 12.8804,
    22.2469, 17.1121, 27.4275, 29.6182, 23.1388, 32.7782, 27.0928, 31.5117,
    33.4474, 28.4956, 37.541, 31.9572, 15.0972, 17.611, 9.4288, 18.4893,
    13.669, 18.5367, 20.9416, 13.0194, 22.1778, 17.3764, 27.8666, 29.8501,
    23.5081, 32.9348, 27.6242, 31.5117, 33.4474, 28.4956, 37.541, 31.9572,
    14.9201, 17.5647, 9.3578, 18.4779, 13.575, 19.097, 21.7169, 13.7746,
    23.0152, 17.9206, 28.3817, 30.6515, 24.1447, 33.5041, 28.074, 31.5117,
    33.4474, 28.4956, 37.541, 31.9572
]
#: Global (whole-image) logits of image 0.
GLOBAL_LOGITS_0 = [24.3096, 26.4051, 19.2934, 28.6409, 23.7449]


def segmentor(clip_path, hypothesis):
    return MODELS.build(
        ConfigDict(
            type='ReCLIPPlusPlus',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[122.771, 116.746, 104.094],
                std=[68.501, 66.632, 70.323],
                bgr_to_rgb=True,
                size_divisor=16),
            clip=dict(model=TINY_CLIP, pretrained=clip_path),
            backbone=dict(type='MaskCLIPViT'),
            decode_head=dict(
                type='BiasRectificationHead',
                class_names=NAMES,
                in_channels=32,
                pos_channels=64,
                norm_cfg=dict(type='BN')),
            hypothesis=hypothesis,
            test_cfg=dict(mode='whole')))


@pytest.fixture
def images(tmp_path):
    paths = []
    for i, (h, w) in enumerate([(64, 80), (48, 48), (40, 96)]):
        img = np.random.default_rng(i).integers(0, 255, (h, w, 3),
                                                dtype=np.uint8)
        img[:, w // 2:] = (20 + 60 * i, 200 - 50 * i, 30 + 40 * i)
        paths.append(str(tmp_path / f'img{i}.png'))
        cv2.imwrite(paths[-1], img)
    return paths


@pytest.mark.parametrize('hypothesis, expected', [
    (dict(type='SlidingWindowHypothesis', window=32, stride=16,
          batch_size=5), [[3], [3], [1, 3]]),
    (dict(type='SlidingWindowHypothesis', window=24, stride=8, min_votes=4,
          fallback_topk=2), [[3], [3], [1, 3]]),
    (dict(type='GlobalThresholdHypothesis', threshold=0.0,
          topk=2), [[0, 1, 2, 3, 4]] * 3),
    (dict(type='GlobalThresholdHypothesis', threshold=26.0,
          topk=2), [[1, 3], [3], [1, 3]]),
])
def test_hypotheses_as_before(tiny_clip_file, images, hypothesis, expected):
    seg = segmentor(tiny_clip_file[0], hypothesis)
    samples = [SegDataSample(metainfo=dict(img_path=p)) for p in images]
    assert seg.hypothesis(seg, samples) == expected


def test_logits_as_before(tiny_clip_file, images):
    seg = segmentor(tiny_clip_file[0],
                    dict(type='SlidingWindowHypothesis', window=32,
                         stride=16))
    gen = seg.hypothesis
    image = gen.load_image(seg, images[0])
    assert image.shape == (3, 64, 80)
    torch.testing.assert_close(
        gen.window_logits(seg, image),
        torch.tensor(WINDOW_LOGITS_0).view(12, 5), atol=2e-4, rtol=0)
    torch.testing.assert_close(
        gen._global_logits(seg, image[None])[0],
        torch.tensor(GLOBAL_LOGITS_0), atol=2e-4, rtol=0)


def test_in_memory_inputs_as_before(tiny_clip_file):
    seg = segmentor(tiny_clip_file[0],
                    dict(type='SlidingWindowHypothesis', window=32,
                         stride=16))
    torch.manual_seed(1)
    inputs = torch.randn(2, 3, 64, 64)
    samples = [SegDataSample(metainfo=dict(img_shape=(48, 64))),
               SegDataSample(metainfo=dict(img_shape=(64, 40)))]
    assert seg.hypothesis(seg, samples, inputs) == [[3], [3]]

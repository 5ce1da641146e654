"""Hypothesis generators on a world where windows disagree.

A stand-in CLIP whose global embedding is the mean colour of its (already
normalised) input, and four class vectors red / green / blue / white, so a
window's top-1 class is its dominant colour. The test image is a grid of
16 px coloured cells: the 15 windows (32 px, stride 16) vote red 7, green 4,
blue 3, white 1, so window positions, crops, colour order, ``min_votes`` and
the fallback each change the answer.
"""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS, TASK_UTILS
from mmseg.structures import SegDataSample

from reclip_mmseg.models.backbones import CLIPFeaturesWithGlobal
from reclip_mmseg.models.utils import hypothesis as hypothesis_module

MEAN = [122.771, 116.746, 104.094]
STD = [68.501, 66.632, 70.323]
RGB = dict(r=(230, 30, 20), g=(20, 210, 40), b=(30, 40, 220),
           w=(235, 235, 235))
LAYOUT = ['rrgwbb',
          'rrgwbb',
          'rrrrgg',
          'wwrrgg']  # 16 px cells: a 64 x 96 image
#: Query vectors of the classes red, green, blue, white (in RGB space).
QUERY = F.normalize(torch.tensor([[1., 0, 0], [0, 1, 0], [0, 0, 1],
                                  [1, 1, 1]]), dim=1)
WINDOW, STRIDE = 32, 16


class MeanColourCLIP(nn.Module):
    """Stand-in backbone: global embedding = mean of each input channel."""

    def forward(self, x, return_global=False):
        assert return_global
        return CLIPFeaturesWithGlobal(None, None, x.mean((2, 3)))


def standin_segmentor():
    pre = MODELS.build(
        dict(type='SegDataPreProcessor', mean=MEAN, std=STD,
             bgr_to_rgb=True))
    head = SimpleNamespace(query_features=QUERY, class_names=list('rgbw'))
    return SimpleNamespace(
        data_preprocessor=pre, backbone=MeanColourCLIP(), decode_head=head)


def rgb_image():
    img = np.zeros((64, 96, 3), np.uint8)
    for i, row in enumerate(LAYOUT):
        for j, c in enumerate(row):
            img[16 * i:16 * i + 16, 16 * j:16 * j + 16] = RGB[c]
    return img


@pytest.fixture
def image_file(tmp_path):
    path = str(tmp_path / 'cells.png')  # lossless: colours are exact
    cv2.imwrite(path, rgb_image()[..., ::-1])  # files are BGR
    return path


def normalised(rgb):
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float()
    return (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(
        STD)[:, None, None]


def clip_logits(crop):
    """``(K,)`` logits of one crop as the generator computes them."""
    crop = F.interpolate(crop[None], (224, 224), mode='bilinear',
                         align_corners=False)
    return 100 * F.normalize(crop.mean((2, 3)), dim=-1)[0] @ QUERY.T


def hand_votes(rgb):
    """Votes over the 3 x 5 windows at y in (0, 16, 32), x in (0, ..., 64)."""
    x = normalised(rgb)
    votes = torch.zeros(4, dtype=torch.long)
    for y in (0, 16, 32):
        for x0 in (0, 16, 32, 48, 64):
            votes[clip_logits(x[:, y:y + 32, x0:x0 + 32]).argmax()] += 1
    return votes.tolist()


def generate(image_file, sample=None, **cfg):
    gen = TASK_UTILS.build(
        dict(type='SlidingWindowHypothesis', window=WINDOW, stride=STRIDE,
             **cfg))
    sample = sample or SegDataSample(metainfo=dict(img_path=image_file))
    return gen(standin_segmentor(), [sample])[0]


def test_world_has_disagreeing_windows():
    assert hand_votes(rgb_image()) == [7, 4, 3, 1]
    # colour order matters: read as BGR, blue wins most windows
    assert hand_votes(rgb_image()[..., ::-1]) == [2, 3, 9, 1]
    # the whole image: red, then white (the fallback's answer)
    whole = clip_logits(normalised(rgb_image()))
    assert whole.topk(2).indices.tolist() == [0, 3]


@pytest.mark.parametrize('min_votes, expected', [(1, [0, 1, 2, 3]),
                                                 (2, [0, 1, 2]),
                                                 (4, [0, 1]), (5, [0]),
                                                 (7, [0])])
def test_votes_follow_window_counts(image_file, min_votes, expected):
    assert generate(image_file, min_votes=min_votes) == expected


@pytest.mark.parametrize('topk, expected', [(1, [0]), (2, [0, 3]),
                                            (3, [0, 1, 3])])
def test_fallback_is_whole_image_topk(image_file, topk, expected):
    # no class has 8 of the 15 votes: the whole image decides
    assert generate(image_file, min_votes=8, fallback_topk=topk) == expected


def test_window_logits_are_per_window(image_file):
    gen = TASK_UTILS.build(
        dict(type='SlidingWindowHypothesis', window=WINDOW, stride=STRIDE))
    segmentor = standin_segmentor()
    image = gen.load_image(segmentor, image_file)
    logits = gen.window_logits(segmentor, image)
    x = normalised(rgb_image())
    expected = torch.stack([
        clip_logits(x[:, y:y + 32, x0:x0 + 32]) for y in (0, 16, 32)
        for x0 in (0, 16, 32, 48, 64)
    ])
    torch.testing.assert_close(logits, expected)


def test_load_image_is_normalised_rgb(image_file):
    image = hypothesis_module.BaseHypothesis().load_image(
        standin_segmentor(), image_file)
    torch.testing.assert_close(image, normalised(rgb_image()))


def test_global_threshold_on_whole_image(image_file):
    gen = TASK_UTILS.build(
        dict(type='GlobalThresholdHypothesis', threshold=10.0, topk=3))
    sample = SegDataSample(metainfo=dict(img_path=image_file))
    # logits 100 * cos: red 89, white 15, green -24, blue -39
    assert gen(standin_segmentor(), [sample]) == [[0, 3]]
    gen = TASK_UTILS.build(
        dict(type='GlobalThresholdHypothesis', threshold=95.0, topk=3))
    assert gen(standin_segmentor(), [sample]) == [[0, 1, 3]]


class LabelTrap(SegDataSample):
    """A data sample whose label raises if anything reads it."""

    @property
    def gt_sem_seg(self):
        raise AssertionError('the hypothesis read a label')


@pytest.mark.parametrize('method', ['SlidingWindowHypothesis',
                                    'GlobalThresholdHypothesis'])
def test_no_label_is_read(image_file, tmp_path, monkeypatch, method):
    """Samples carry a label (file and map, all blue, which would change
    the answer); reading either raises, and the answer is the image's."""
    label_file = str(tmp_path / 'cells_label.png')
    cv2.imwrite(label_file, np.full((64, 96), 2, np.uint8))
    read = []
    get = hypothesis_module.fileio.get

    def guarded_get(path, *args, **kwargs):
        read.append(path)
        if path == label_file:
            raise AssertionError('the hypothesis read the label file')
        return get(path, *args, **kwargs)

    monkeypatch.setattr(hypothesis_module.fileio, 'get', guarded_get)
    plain = SegDataSample(
        metainfo=dict(img_path=image_file, seg_map_path=label_file))
    plain.gt_sem_seg = PixelData(data=torch.full((1, 64, 96), 2))
    trap = LabelTrap(
        metainfo=dict(img_path=image_file, seg_map_path=label_file))
    gen = TASK_UTILS.build(dict(type=method))
    gen.cache.clear()
    first = gen(standin_segmentor(), [trap])
    gen.cache.clear()
    assert gen(standin_segmentor(), [plain]) == first
    assert read == [image_file, image_file]
    assert 2 not in first  # the label says blue everywhere; the image not


def test_scores_are_what_the_rules_threshold(image_file):
    """``scores`` (the ranking tools/analyze_hypotheses.py uses): window
    votes, and the whole image's logits."""
    seg = standin_segmentor()
    gen = TASK_UTILS.build(
        dict(type='SlidingWindowHypothesis', window=WINDOW, stride=STRIDE))
    image = gen.load_image(seg, image_file)
    assert gen.scores(seg, image).tolist() == hand_votes(rgb_image())
    gen = TASK_UTILS.build(dict(type='GlobalThresholdHypothesis'))
    torch.testing.assert_close(gen.scores(seg, image),
                               clip_logits(normalised(rgb_image())))

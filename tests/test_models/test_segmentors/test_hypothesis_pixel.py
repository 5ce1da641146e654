"""PixelTagHypothesis (TTD's tag selection from the nearest pixels).

The stand-in backbone's dense feature of a 16 px patch is its mean colour;
on the cell image of ``test_hypothesis_standin`` (16 px cells: red 10,
green 6, white 4, blue 4 of the 24 patches) each patch is one cell, so the
per-patch class probabilities are known per colour and every relevance is
a mean of sorted numbers, computed here by hand with plain Python lists.
"""
import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import TASK_UTILS
from mmseg.structures import SegDataSample
from test_hypothesis import build_segmentor
from test_hypothesis_standin import (LAYOUT, MEAN, QUERY, RGB, STD, LabelTrap,
                                     rgb_image, standin_segmentor)

from reclip_mmseg.models.backbones import LAST_BLOCK_RULES, CLIPFeatures
from reclip_mmseg.models.utils import hypothesis as hypothesis_module
from reclip_mmseg.models.utils import hypothesis_clip, relevance_hypothesis
from reclip_mmseg.models.utils.hypothesis_rules import (max_relevance,
                                                        top_mean_relevance)


class PatchColourCLIP(nn.Module):
    """Stand-in backbone: dense feature of each 16 px patch = its mean
    (normalised) colour, L2-normalised; records its input shapes."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def forward(self, x, return_global=False):
        assert not return_global  # the pixel rule needs no global pass
        self.shapes.append(tuple(x.shape))
        x = F.pad(x, (0, -x.shape[3] % 16, 0, -x.shape[2] % 16))
        return CLIPFeatures(F.normalize(F.avg_pool2d(x, 16), dim=1), None)


def pixel_segmentor():
    seg = standin_segmentor()
    seg.backbone = PatchColourCLIP()
    return seg


@pytest.fixture
def image_file(tmp_path):
    path = str(tmp_path / 'cells.png')
    cv2.imwrite(path, rgb_image()[..., ::-1])  # files are BGR
    return path


def hand_relevance(scale, statistic, top_ratio):
    """Per class: the probabilities of the 24 cells, sorted, then the mean
    of the best ceil(top_ratio * 24) (or the best one)."""
    mean, std = np.array(MEAN), np.array(STD)
    query = QUERY.numpy().astype(np.float64)
    per_class = [[] for _ in range(4)]
    for row in LAYOUT:
        for c in row:
            x = (np.array(RGB[c], np.float64) - mean) / std
            logits = scale * query @ (x / np.linalg.norm(x))
            p = np.exp(logits - logits.max())
            for k, v in enumerate(p / p.sum()):
                per_class[k].append(v)
    n = 1 if statistic == 'max' else int(np.ceil(top_ratio * 24))
    return [sum(sorted(v, reverse=True)[:n]) / n for v in per_class]


def generate(image_file, seg=None, **cfg):
    gen = TASK_UTILS.build(dict(type='PixelTagHypothesis', **cfg))
    sample = SegDataSample(metainfo=dict(img_path=image_file))
    return gen(seg or pixel_segmentor(), [sample])[0]


@pytest.mark.parametrize('statistic, top_ratio', [('top_mean', 0.5),
                                                  ('top_mean', 1 / 6),
                                                  ('top_mean', 1.0),
                                                  ('max', 0.5)])
def test_scores_are_hand_relevance(image_file, statistic, top_ratio):
    gen = TASK_UTILS.build(
        dict(type='PixelTagHypothesis', statistic=statistic,
             top_ratio=top_ratio, logit_scale=5.0))
    seg = pixel_segmentor()
    image = gen.load_image(seg, image_file)
    torch.testing.assert_close(
        gen.scores(seg, image),
        torch.tensor(hand_relevance(5.0, statistic, top_ratio),
                     dtype=torch.float32))
    assert seg.backbone.shapes == [(1, 3, 64, 96)]  # one pass, whole image


def test_world_separates_the_rules():
    # scale 5: red 0.83, green 0.52, blue 0.36, white 0.25 over the best 12
    r = hand_relevance(5.0, 'top_mean', 0.5)
    assert r[0] > 0.8 and 0.5 < r[1] < 0.55 and r[2] < 0.5 and r[3] < 0.3
    # the best 4 patches: every coloured class ~0.98, white 0.73
    r = hand_relevance(5.0, 'top_mean', 1 / 6)
    assert min(r[:3]) > 0.98 and 0.7 < r[3] < 0.75
    # the best patch: red > blue > green
    r = hand_relevance(5.0, 'max', 1.0)
    assert r[0] > r[2] > r[1] > 0.98


@pytest.mark.parametrize('cfg, expected', [
    (dict(top_ratio=0.5, threshold=0.5), [0, 1]),
    (dict(top_ratio=0.5, threshold=0.3), [0, 1, 2]),
    (dict(top_ratio=0.5, threshold=0.2), [0, 1, 2, 3]),
    (dict(top_ratio=1 / 6, threshold=0.8), [0, 1, 2]),
    (dict(statistic='max', threshold=0.7), [0, 1, 2, 3]),
    (dict(statistic='max', threshold=0.99), [0]),  # fallback: the top-1
    (dict(statistic='max', threshold=0.99, fallback_topk=2), [0, 2]),
])
def test_selection(image_file, cfg, expected):
    assert generate(image_file, logit_scale=5.0, **cfg) == expected


def test_short_side_resizes_before_the_pass(image_file):
    seg = pixel_segmentor()
    generate(image_file, seg, short_side=32)
    assert seg.backbone.shapes == [(1, 3, 32, 48)]


def test_defaults():
    # chosen on the toy world's train split (README "Which hypothesis")
    gen = TASK_UTILS.build(dict(type='PixelTagHypothesis'))
    assert gen.params() == dict(logit_scale=10.0, statistic='top_mean',
                                top_ratio=0.02, threshold=0.15,
                                fallback_topk=1, short_side=None)


def test_pure_rules():
    probs = torch.tensor([[0.9, 0.1, 0.5, 0.3], [0.1, 0.9, 0.5, 0.7]])
    torch.testing.assert_close(top_mean_relevance(probs, 0.5),
                               torch.tensor([0.7, 0.8]))
    # ceil(0.3 * 4) = 2 patches; 0.25 * 4 = 1 exactly; all of them
    torch.testing.assert_close(top_mean_relevance(probs, 0.3),
                               torch.tensor([0.7, 0.8]))
    torch.testing.assert_close(top_mean_relevance(probs, 0.25),
                               torch.tensor([0.9, 0.9]))
    torch.testing.assert_close(top_mean_relevance(probs, 1.0),
                               torch.tensor([0.45, 0.55]))
    torch.testing.assert_close(max_relevance(probs, 0.5),
                               torch.tensor([0.9, 0.9]))
    assert relevance_hypothesis(torch.tensor([0.2, 0.6, 0.5]), 0.5, 1) == [1, 2]
    assert relevance_hypothesis(torch.tensor([0.2, 0.3, 0.1]), 0.5, 2) == [0, 1]


@pytest.mark.parametrize('cfg, match', [
    (dict(statistic='median'), "unknown statistic 'median'"),
    (dict(top_ratio=0.0), 'top_ratio must be in'),
    (dict(fallback_topk=0), 'fallback_topk must be >= 1'),
    (dict(short_side=0), 'short_side must be'),
])
def test_bad_keys_are_named(cfg, match):
    with pytest.raises((KeyError, ValueError), match=match):
        TASK_UTILS.build(dict(type='PixelTagHypothesis', **cfg))


def test_no_label_is_read(image_file, tmp_path, monkeypatch):
    """Samples carry an all-blue label (file and map); reading either
    raises, and the answer is the image's (blue is not its top class)."""
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
    gen = TASK_UTILS.build(
        dict(type='PixelTagHypothesis', logit_scale=5.0, top_ratio=0.5,
             threshold=0.5))
    first = gen(pixel_segmentor(), [trap])
    gen.cache.clear()
    assert gen(pixel_segmentor(), [plain]) == first == [[0, 1]]
    assert read == [image_file, image_file]


def test_tiny_clip_uses_the_backbones_rule(tiny_clip_file, tmp_path):
    """Real MaskCLIPViT: the scores are the hand relevance of its own dense
    features, under each last-block rule; the rule is in the fingerprint, so
    a file made under another rule is rejected."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (48, 80, 3), dtype=np.uint8)
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, img)
    cfg = dict(type='PixelTagHypothesis', top_ratio=0.25, threshold=0.3)
    scores = {}
    for rule in ('maskclip', 'sclip'):
        seg = build_segmentor(tiny_clip_file, cfg)
        seg.backbone.last_block = LAST_BLOCK_RULES[rule]
        gen = seg.hypothesis
        image = gen.load_image(seg, path)
        with torch.no_grad():
            dense = seg.backbone(image[None]).dense[0].flatten(1)  # (D, 15)
        cos = seg.decode_head.query_features @ dense
        probs = (10 * cos).softmax(0).tolist()  # the default scale
        hand = [sum(sorted(p, reverse=True)[:4]) / 4 for p in probs]
        scores[rule] = gen.scores(seg, image)
        torch.testing.assert_close(scores[rule], torch.tensor(hand))
        assert gen.fingerprint(seg)['dense'] == dict(
            last_block=rule, last_block_cfg={}, pos_embed_resize='bicubic')
        sample = SegDataSample(metainfo=dict(img_path=path))
        assert gen(seg, [sample])[0] == relevance_hypothesis(
            torch.tensor(hand), 0.3, 1)
        gen.save(str(tmp_path / f'{rule}.json'), seg)
    assert not torch.allclose(scores['maskclip'], scores['sclip'])
    stale = build_segmentor(
        tiny_clip_file, dict(cfg, file=str(tmp_path / 'maskclip.json')))
    stale.backbone.last_block = seg.backbone.last_block  # sclip
    with pytest.raises(ValueError, match='dense'):
        stale.hypothesis(stale, [SegDataSample(metainfo=dict(img_path=path))])


def test_view_without_dense_features_is_refused(image_file):
    view = hypothesis_clip(pixel_segmentor())
    view = type(view)(**dict(view.__dict__, encode_dense=None))
    with pytest.raises(TypeError, match='encode_dense'):
        generate(image_file, view)

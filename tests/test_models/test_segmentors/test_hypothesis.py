import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_CLIP
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from reclip_mmseg.models.utils import (BaseHypothesis, threshold_hypothesis,
                                       vote_hypothesis, window_boxes)

NAMES = ['cat', 'dog', 'car', 'tree', 'sky']


def build_segmentor(tiny_clip_file, hypothesis):
    path, _ = tiny_clip_file
    return MODELS.build(
        ConfigDict(
            type='ReCLIPPlusPlus',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[122.771, 116.746, 104.094],
                std=[68.501, 66.632, 70.323],
                bgr_to_rgb=True,
                size_divisor=16),
            clip=dict(model=TINY_CLIP, pretrained=path),
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
def image_file(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)
    img[:, 40:] = (20, 200, 30)  # a flat half
    path = str(tmp_path / 'img.jpg')
    cv2.imwrite(path, img)
    return path


def test_window_boxes():
    assert window_boxes(64, 80, 32, 16) == [(y, x, y + 32, x + 32)
                                            for y in (0, 16, 32)
                                            for x in (0, 16, 32, 48)]
    # the last window is aligned to the border when the stride misses it
    assert [b[1] for b in window_boxes(32, 70, 32, 16)] == [0, 16, 32, 38]
    assert window_boxes(20, 10, 32, 16) == [(0, 0, 20, 10)]


def test_vote_and_threshold_rules():
    logits = torch.tensor([[9., 1, 0], [0, 9, 1], [8, 1, 0]])
    assert vote_hypothesis(logits, 1) == [0, 1]
    assert vote_hypothesis(logits, 2) == [0]
    assert vote_hypothesis(logits, 3) == []
    assert threshold_hypothesis(torch.tensor([24., 22, 23.5]), 23, 2) == [0, 2]
    assert threshold_hypothesis(torch.tensor([1., 3, 2]), 23, 2) == [1, 2]


def _hand_votes(segmentor, clip, image_path, window, stride):
    img = cv2.imread(image_path)[..., ::-1].copy()  # RGB
    x = torch.from_numpy(img).permute(2, 0, 1).float()
    mean = torch.tensor([122.771, 116.746, 104.094])[:, None, None]
    std = torch.tensor([68.501, 66.632, 70.323])[:, None, None]
    x = (x - mean) / std
    query = segmentor.decode_head.query_features
    votes = torch.zeros(len(NAMES), dtype=torch.long)
    h, w = x.shape[1:]
    ys = list(range(0, h - window + 1, stride))
    xs = list(range(0, w - window + 1, stride))
    for y in ys:
        for x0 in xs:
            crop = F.interpolate(
                x[None, :, y:y + window, x0:x0 + window], (224, 224),
                mode='bilinear',
                align_corners=False)
            with torch.no_grad():
                emb = F.normalize(clip.encode_image(crop), dim=-1)
            votes[(100 * emb @ query.T).argmax()] += 1
    return votes, len(ys) * len(xs)


@pytest.mark.parametrize('min_votes', [1, 3])
def test_sliding_window_votes_match_hand_count(tiny_clip_file, image_file,
                                               min_votes):
    segmentor = build_segmentor(
        tiny_clip_file,
        dict(
            type='SlidingWindowHypothesis',
            window=32,
            stride=16,
            min_votes=min_votes,
            fallback_topk=2))
    votes, n = _hand_votes(segmentor, tiny_clip_file[1], image_file, 32, 16)
    assert n == 12 and votes.sum() == 12
    expected = torch.nonzero(votes >= min_votes).flatten().tolist()
    sample = SegDataSample(metainfo=dict(img_path=image_file))
    got = segmentor.hypothesis(segmentor, [sample])[0]
    if expected:
        assert got == expected
    else:  # fallback: image-level top-2
        assert len(got) == 2


def test_fallback_topk_when_no_class_has_enough_votes(tiny_clip_file,
                                                      image_file):
    segmentor = build_segmentor(
        tiny_clip_file,
        dict(
            type='SlidingWindowHypothesis',
            window=32,
            stride=16,
            min_votes=13,  # more than the 12 windows
            fallback_topk=3))
    gen = segmentor.hypothesis
    image = gen.load_image(segmentor, image_file)
    whole = gen._global_logits(segmentor, image[None])[0]
    expected = sorted(whole.topk(3).indices.tolist())
    got = gen(segmentor, [SegDataSample(metainfo=dict(img_path=image_file))])
    assert got == [expected]


def test_hypothesis_cached_and_file_checked(tiny_clip_file, image_file,
                                           tmp_path, monkeypatch):
    cfg = dict(type='SlidingWindowHypothesis', window=32, stride=16)
    segmentor = build_segmentor(tiny_clip_file, cfg)
    gen = segmentor.hypothesis
    loads = []
    original = BaseHypothesis.load_image
    monkeypatch.setattr(
        BaseHypothesis, 'load_image',
        lambda self, c, p: loads.append(p) or original(self, c, p))
    sample = SegDataSample(metainfo=dict(img_path=image_file))
    first = gen(segmentor, [sample])
    for _ in range(3):
        assert gen(segmentor, [sample]) == first
    assert loads == [image_file]  # computed once, then reused

    path = str(tmp_path / 'hyp.json')
    gen.save(path, segmentor)
    from_file = build_segmentor(tiny_clip_file, dict(cfg, file=path))
    assert from_file.hypothesis(from_file, [sample]) == first
    assert loads == [image_file]  # read from the file, not recomputed
    other = SegDataSample(metainfo=dict(img_path=str(tmp_path / 'new.jpg')))
    with pytest.raises(KeyError, match='new.jpg'):
        from_file.hypothesis(from_file, [other])
    # a stale file (other window) is rejected, naming what differs
    stale = build_segmentor(tiny_clip_file, dict(cfg, window=48, file=path))
    with pytest.raises(ValueError, match='params'):
        stale.hypothesis(stale, [sample])


def test_undecodable_image_names_file(tiny_clip_file, tmp_path):
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not an image at all')
    segmentor = build_segmentor(tiny_clip_file,
                                dict(type='SlidingWindowHypothesis'))
    with pytest.raises(ValueError, match='broken.jpg'):
        segmentor.hypothesis(segmentor,
                             [SegDataSample(metainfo=dict(img_path=str(bad)))])


def test_global_threshold_hypothesis(tiny_clip_file, image_file):
    segmentor = build_segmentor(
        tiny_clip_file,
        dict(type='GlobalThresholdHypothesis', threshold=1e9, topk=2))
    got = segmentor.hypothesis(
        segmentor, [SegDataSample(metainfo=dict(img_path=image_file))])
    assert len(got[0]) == 2


def test_segmentor_loss_attaches_hypotheses(tiny_clip_file, image_file):
    segmentor = build_segmentor(
        tiny_clip_file,
        dict(type='SlidingWindowHypothesis', window=32, stride=16))
    segmentor.train()
    samples = [
        SegDataSample(
            metainfo=dict(img_path=image_file, img_shape=(64, 64)))
    ]
    losses = segmentor.loss(torch.randn(1, 3, 64, 64), samples)
    assert set(losses) == {'decode.loss_contrast'}
    assert samples[0].hypothesis == segmentor.hypothesis.cache[image_file]
    losses['decode.loss_contrast'].backward()
    assert all(p.grad is None for p in segmentor.backbone.parameters())


def test_training_step_reads_no_label(tiny_clip_file, image_file):
    """A whole training step (hypothesis, head, loss) on samples whose
    label raises if read."""

    class LabelTrap(SegDataSample):

        @property
        def gt_sem_seg(self):
            raise AssertionError('training read a label')

    segmentor = build_segmentor(
        tiny_clip_file,
        dict(type='SlidingWindowHypothesis', window=32, stride=16))
    segmentor.train()
    samples = [
        LabelTrap(metainfo=dict(img_path=image_file, img_shape=(64, 64)))
    ]
    losses = segmentor.loss(torch.randn(1, 3, 64, 64), samples)
    losses['decode.loss_contrast'].backward()
    assert samples[0].hypothesis == segmentor.hypothesis.cache[image_file]

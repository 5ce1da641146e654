"""The peers' post-processing on hand-made logits."""
import math

import pytest
import torch
from mmseg.registry import TASK_UTILS

from reclip_mmseg.models.postprocess.peer_probs import (
    area_threshold, background_threshold, query_class_index, synonym_softmax)

NAMES = [['sky', 'wall'], 'cat', ['dog', 'puppy', 'hound']]


def test_query_class_index():
    assert query_class_index(NAMES).tolist() == [0, 0, 1, 2, 2, 2]
    assert query_class_index(['a', 'b']).tolist() == [0, 1]


def test_synonym_softmax_by_hand():
    # one pixel, 6 queries (sky, wall | cat | dog, puppy, hound)
    raw = [0.2, 0.3, 0.25, 0.1, 0.28, 0.0]
    logits = torch.tensor(raw).reshape(1, 6, 1, 1)
    out = synonym_softmax(logits, query_class_index(NAMES), 10.0)
    e = [math.exp(10 * v) for v in raw]
    p = [v / sum(e) for v in e]
    assert out.shape == (1, 3, 1, 1)
    assert out.flatten().tolist() == pytest.approx(
        [max(p[0], p[1]), p[2], max(p[3:])], abs=1e-7)


def test_synonym_softmax_is_the_softmax_with_one_query_per_class():
    logits = torch.randn(2, 4, 3, 5)
    out = synonym_softmax(logits, torch.arange(4), 40.0)
    torch.testing.assert_close(out, (40 * logits).softmax(1))


def test_area_threshold_by_hand():
    # 1 x 4 image, classes bg, a, b; argmax: a, a, a, b -> fg area 4;
    # b has 1 pixel = 0.25 of it.
    probs = torch.tensor([[0.1, 0.2, 0.1, 0.2],
                          [0.6, 0.5, 0.7, 0.3],
                          [0.3, 0.3, 0.2, 0.5]]).reshape(1, 3, 1, 4)
    kept = area_threshold(probs, 0.25)  # at most 0.25 -> zeroed
    assert kept[0, 2].abs().sum() == 0
    torch.testing.assert_close(kept[0, :2], probs[0, :2])
    assert kept[0].argmax(0).flatten().tolist() == [1, 1, 1, 1]
    torch.testing.assert_close(area_threshold(probs, 0.24), probs)
    # background pixels do not count in the foreground area
    probs2 = probs.clone()
    probs2[0, 0, 0, :2] = 0.9  # two bg pixels; fg: a 1 px, b 1 px
    out2 = area_threshold(probs2, 0.49)
    torch.testing.assert_close(out2, probs2)


def test_area_threshold_per_image():
    a = torch.zeros(1, 3, 1, 4)
    a[0, 1] = 1  # all class 1
    b = torch.zeros(1, 3, 1, 4)
    b[0, 2, 0, :3] = 1  # class 2 on three pixels
    b[0, 1, 0, 3] = 1  # class 1 on one pixel (0.25 of fg)
    out = area_threshold(torch.cat([a, b]), 0.3)
    torch.testing.assert_close(out[0], a[0])  # class 1 kept in image 0
    assert out[1, 1].abs().sum() == 0 and torch.equal(out[1, 2], b[0, 2])


def test_background_threshold_by_hand():
    probs = torch.tensor([[0.2, 0.1], [0.5, 0.3], [0.3, 0.6]]).reshape(
        1, 3, 1, 2)
    out = background_threshold(probs, 0.55)
    assert out[0].argmax(0).flatten().tolist() == [0, 2]
    assert out[0, :, 0, 0].tolist() == [1, 0, 0]
    torch.testing.assert_close(out[0, :, 0, 1], probs[0, :, 0, 1])
    torch.testing.assert_close(background_threshold(probs, 0.5), probs)


def test_steps_in_the_peers_order():
    steps = [
        TASK_UTILS.build(dict(type='SynonymSoftmax', logit_scale=50,
                              class_names=NAMES)),
        TASK_UTILS.build(dict(type='AreaThreshold', area_thd=0.1)),
        TASK_UTILS.build(dict(type='BackgroundThreshold', prob_thd=0.5)),
    ]
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 4, 5) * 0.05
    x = logits
    for s in steps:
        x = s(x, None, [{}, {}])
    ref = background_threshold(
        area_threshold(synonym_softmax(logits, query_class_index(NAMES), 50),
                       0.1), 0.5)
    torch.testing.assert_close(x, ref)
    assert steps[0].out_channels(6) == 3
    with pytest.raises(ValueError, match='SynonymSoftmax: 3 query logits '
                       'but class_names give 6 queries'):
        steps[0](torch.zeros(1, 3, 2, 2), None, [{}])

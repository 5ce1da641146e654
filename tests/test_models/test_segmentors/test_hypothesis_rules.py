"""Edge rules of the hypothesis generators that a precomputed file must
record and that a threshold must apply inclusively."""
import pytest
import torch
from mmseg.registry import TASK_UTILS

from reclip_mmseg.models.utils.hypothesis import threshold_hypothesis

DEFAULTS = dict(window=56, stride=28, min_votes=1, fallback_topk=1,
                clip_size=224)


@pytest.mark.parametrize('key', sorted(DEFAULTS))
def test_every_sliding_window_parameter_is_in_the_fingerprint(key):
    """A file computed with other settings must be refused: each setting
    that changes the answer changes ``params()`` (the fingerprint's part)."""
    base = TASK_UTILS.build(dict(type='SlidingWindowHypothesis', **DEFAULTS))
    other = TASK_UTILS.build(
        dict(type='SlidingWindowHypothesis',
             **dict(DEFAULTS, **{key: DEFAULTS[key] * 2})))
    assert base.params() != other.params()
    assert base.params()[key] == DEFAULTS[key]


def test_threshold_is_inclusive():
    # exactly at the threshold: kept (ReCLIP: logit >= threshold)
    assert threshold_hypothesis(torch.tensor([23., 1, 2]), 23, 2) == [0]
    assert threshold_hypothesis(torch.tensor([22.9, 1, 2]), 23, 2) == [0, 2]

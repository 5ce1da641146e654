"""PerClassIoUMetric: IoUMetric's numbers plus each class's IoU, by hand."""
import math

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

ABCD = ('a', 'b', 'c', 'd')


def _sample(pred, gt):
    ds = SegDataSample()
    ds.pred_sem_seg = PixelData(data=torch.as_tensor(np.asarray(pred))[None])
    ds.gt_sem_seg = PixelData(data=torch.as_tensor(np.asarray(gt))[None])
    return ds.to_dict()


def _evaluate(type_, pairs):
    metric = METRICS.build(dict(type=type_, iou_metrics=['mIoU']))
    metric.dataset_meta = dict(classes=ABCD)
    metric.process({}, [_sample(p, g) for p, g in pairs])
    return metric.compute_metrics(metric.results)


def test_per_class_iou_by_hand():
    # two images; 255 is ignored; class d never appears anywhere
    pairs = [([[0, 0, 1], [1, 2, 2]], [[0, 1, 1], [1, 2, 255]]),
             ([[2, 2, 0]], [[2, 0, 0]])]
    got = _evaluate('PerClassIoUMetric', pairs)
    # summed over both images (pixels labelled 255 are skipped):
    # a: intersection 1 + 1, union 2 + 2 -> 50
    # b: intersection 2, union 3 -> 66.67
    # c: intersection 1 + 1, union 1 + 2 -> 66.67
    assert got['IoU.a'] == pytest.approx(50.0)
    assert got['IoU.b'] == pytest.approx(66.67)
    assert got['IoU.c'] == pytest.approx(66.67)
    assert math.isnan(got['IoU.d'])
    # IoUMetric's own keys and values are unchanged
    plain = _evaluate('IoUMetric', pairs)
    assert set(plain) < set(got)
    assert all(got[k] == plain[k] for k in plain)
    assert got['mIoU'] == pytest.approx(
        round((50 + 200 / 3 + 200 / 3) / 3, 2))


def test_bias_scores_equal_a_separate_bias_metric():
    # two batches, the second of two images; the bias metric's arguments
    # reach it; results stay per image (collected across ranks as pairs)
    rng = np.random.default_rng(0)
    batches = [[(rng.integers(0, 4, (9, 11)), rng.integers(0, 4, (9, 11)))],
               [(rng.integers(0, 4, (9, 11)), rng.integers(0, 4, (9, 11))),
                (rng.integers(0, 4, (9, 11)), rng.integers(0, 4, (9, 11)))]]
    both = METRICS.build(
        dict(type='PerClassIoUMetric', iou_metrics=['mIoU'],
             bias_scores=dict(num_bins=3, min_object_pixels=2)))
    iou = METRICS.build(dict(type='PerClassIoUMetric', iou_metrics=['mIoU']))
    bias = METRICS.build(
        dict(type='BiasScoreMetric', num_bins=3, min_object_pixels=2))
    for m in (both, iou, bias):
        m.dataset_meta = dict(classes=ABCD)
        for pairs in batches:
            m.process({}, [_sample(p, g) for p, g in pairs])
    assert len(both.results) == 3
    got = both.compute_metrics(both.results)
    want = dict(iou.compute_metrics(iou.results))
    want.update(bias.compute_metrics(bias.results))
    assert 'SpacePref_bin2' in got and 'SpacePref_bin3' not in got
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k] or (math.isnan(got[k])
                                     and math.isnan(want[k])), k


def test_bias_scores_must_be_a_dict():
    with pytest.raises(TypeError, match='bias_scores must be a dict'):
        METRICS.build(dict(type='PerClassIoUMetric', bias_scores=True))


def test_toy_config_uses_it():
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/datasets/toy_world.py')
    assert cfg.val_evaluator['type'] == 'PerClassIoUMetric'
    assert cfg.val_evaluator['bias_scores'] == {}

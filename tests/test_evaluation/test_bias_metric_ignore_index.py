"""BiasScoreMetric with an ignore_index inside the class range (e.g. 0 to
leave out a background class): those pixels count nowhere, exactly as if
they were labelled 255."""
import math

import numpy as np

from reclip_mmseg.evaluation import BiasScoreMetric
from test_bias_metric import centre_corner_gt, sample


def _evaluate(pairs, ignore_index):
    metric = BiasScoreMetric(ignore_index=ignore_index)
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process({}, [sample(p, g).to_dict() for p, g in pairs])
    return metric.evaluate(len(pairs))


def test_ignore_index_inside_the_class_range():
    gt = centre_corner_gt()  # class 0 is the background
    pred = gt.copy()
    pred[16:20, 16:24] = 2  # half of the centre square predicted as c
    pred[30:, 30:] = 1  # background predicted as b
    with_zero = _evaluate([(pred, gt)], ignore_index=0)
    as_255 = gt.copy()
    as_255[gt == 0] = 255
    with_255 = _evaluate([(pred, as_255)], ignore_index=255)
    counted = _evaluate([(pred, gt)], ignore_index=255)
    for key, value in with_255.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(with_zero[key]), key
        else:
            assert with_zero[key] == value, key
    # and it matters: counting the background changes the scores
    assert counted['ClassPref'] != with_zero['ClassPref']


def test_space_score_is_the_mean_of_three_unequal_slopes():
    """Four objects at distances in bins 0-3 with IoU 100, 50, 100, 0: the
    slopes are -250, +250, -500 (per unit distance between bin centres
    0.1 ... 0.7), so the score is their mean -166.67 (median: -250)."""
    gt = np.full((100, 100), 255, np.int64)  # unlabelled background
    boxes = [(48, 48), (48, 68), (48, 83), (85, 85)]  # (y, x) of 4x4 boxes
    for y, x in boxes:
        gt[y:y + 4, x:x + 4] = 1
    pred = np.zeros_like(gt)
    pred[gt == 1] = 1
    pred[48:52, 68:70] = 2  # half of object 2 wrong -> IoU 50
    pred[85:89, 85:89] = 2  # object 4 all wrong -> IoU 0
    m = _evaluate([(pred, gt)], ignore_index=255)
    assert [m[f'SpacePref_bin{b}'] for b in range(4)] == [100, 50, 100, 0]
    assert m['SpacePref'] == round((-250 + 250 - 500) / 3, 2)

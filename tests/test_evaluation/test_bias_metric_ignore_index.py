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

"""Hypothesis quality (precision, recall, F1, AP) against hand counts."""
import numpy as np
import pytest

from reclip_mmseg.evaluation.hypothesis_quality import (average_precision,
                                                        hypothesis_quality,
                                                        label_classes)

#: 4 images, classes 0-2 of 4 (class 3 in no label: outside the means).
TRUTHS = [[0, 1], [0], [1, 2], [2]]
HYPOTHESES = [[0], [0, 1], [1], [0, 2]]
SCORES = np.array([[0.9, 0.4, 0.2, 0.0], [0.8, 0.6, 0.3, 0.0],
                   [0.1, 0.6, 0.5, 0.0], [0.7, 0.1, 0.9, 0.0]])
NAMES = ['a', 'b', 'c', 'd']


def test_per_class_counts_by_hand():
    q = hypothesis_quality(HYPOTHESES, TRUTHS, SCORES, NAMES)
    a, b, c, d = (q['per_class'][n] for n in NAMES)
    # a: predicted in images 0, 1, 3, present in 0, 1: TP 2, FP 1, FN 0
    assert (a['precision'], a['recall']) == pytest.approx((2 / 3, 1.0))
    assert a['f1'] == pytest.approx(0.8)
    # b: predicted 1, 2, present 0, 2: TP 1, FP 1, FN 1
    assert (b['precision'], b['recall'], b['f1']) == pytest.approx(
        (0.5, 0.5, 0.5))
    # c: predicted 3, present 2, 3: TP 1, FP 0, FN 1
    assert (c['precision'], c['recall'], c['f1']) == pytest.approx(
        (1.0, 0.5, 2 / 3))
    assert (a['images'], a['hypothesised'], c['images']) == (2, 3, 2)
    # d: never present, never predicted
    assert d['precision'] == 0.0 and np.isnan(d['recall'])
    assert np.isnan(d['ap'])


def test_ap_with_a_tie_by_hand():
    q = hypothesis_quality(HYPOTHESES, TRUTHS, SCORES, NAMES)['per_class']
    # a: ranking 0 (T), 1 (T), 3, 2: AP 1
    assert q['a']['ap'] == pytest.approx(1.0)
    # b: images 1 (F) and 2 (T) tie at 0.6: P 1/2 at R 1/2; then image 0
    # (T) at 0.4: P 2/3 at R 1 -> 0.5 * 0.5 + 0.5 * 2/3
    assert q['b']['ap'] == pytest.approx(0.25 + 1 / 3)
    assert q['c']['ap'] == pytest.approx(1.0)
    # without the tie (image 2 first) b's AP is (1 + 2/3) / 2
    assert average_precision([0.4, 0.5, 0.6, 0.1],
                             [True, False, True, False]) == pytest.approx(
                                 (1 + 2 / 3) / 2)
    # a tie counts as one step whichever image comes first: P 1/2 at R 1/2
    # (not P 1 for a positive listed first), then P 2/3 at R 1
    assert average_precision([0.6, 0.6, 0.4],
                             [True, False, True]) == pytest.approx(
                                 0.25 + 1 / 3)
    # the ranking the other way: 1/2, 2/3 -> (1/2 + 2/3) / 2
    assert average_precision([0.4, 0.6, 0.5, 0.1],
                             [True, False, True, False]) == pytest.approx(
                                 (0.5 + 2 / 3) / 2)


def test_means_and_micro_by_hand():
    q = hypothesis_quality(HYPOTHESES, TRUTHS, SCORES, NAMES)
    m = q['mean']
    assert m['precision'] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert m['recall'] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert m['f1'] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m['mAP'] == pytest.approx((1 + 0.25 + 1 / 3 + 1) / 3)
    # pooled: TP 4, FP 2, FN 2
    assert q['micro'] == pytest.approx(
        dict(precision=4 / 6, recall=4 / 6, f1=4 / 6))
    assert q['mean_hypothesis_size'] == pytest.approx(6 / 4)
    assert q['mean_label_size'] == pytest.approx(6 / 4)
    assert q['num_images'] == 4


def test_perfect_hypotheses_score_one():
    q = hypothesis_quality(TRUTHS, TRUTHS, SCORES, NAMES)
    assert q['mean']['precision'] == q['mean']['recall'] == 1.0
    assert q['mean']['f1'] == 1.0


def test_label_classes_skip_ignore_index():
    label = np.array([[255, 3, 3], [0, 255, 7]], np.uint8)
    assert label_classes(label, 5) == [0, 3]  # 7 >= K, 255 ignored


def test_mismatched_inputs_are_named():
    with pytest.raises(ValueError, match=r'scores \(4, 4\)'):
        hypothesis_quality(HYPOTHESES, TRUTHS, SCORES[:, :3], NAMES)

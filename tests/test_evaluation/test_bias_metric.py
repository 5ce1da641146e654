"""BiasScoreMetric on hand-made predictions with hand-computed answers."""
import math

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

from reclip_mmseg.evaluation import BiasScoreMetric
from reclip_mmseg.evaluation import bias_metric as bias_metric_module

ABC = ('a', 'b', 'c')


def sample(pred, gt):
    """A ``SegDataSample`` as the model returns it, ``(1, H, W)`` masks."""
    ds = SegDataSample()
    ds.pred_sem_seg = PixelData(data=torch.as_tensor(np.asarray(pred))[None])
    ds.gt_sem_seg = PixelData(data=torch.as_tensor(np.asarray(gt))[None])
    return ds


def evaluate(pairs, classes=ABC, **kwargs):
    metric = BiasScoreMetric(**kwargs)
    metric.dataset_meta = dict(classes=classes)
    # process() receives dicts, as mmengine's Evaluator passes them
    metric.process({}, [sample(p, g).to_dict() for p, g in pairs])
    return metric.evaluate(len(pairs))


def centre_corner_gt():
    """40 x 40: class 0 background, class 1 8 x 8 square at the centre
    (distance 0 -> bin 0), class 2 6 x 6 square in the top-left corner
    (centroid (3, 3), distance hypot(17, 17) / hypot(40, 40) * 2 = 0.85 ->
    bin 4). The background's centroid is (20.41, 20.41): distance 0.02, bin
    0."""
    gt = np.zeros((40, 40), np.int64)
    gt[16:24, 16:24] = 1
    gt[0:6, 0:6] = 2
    return gt


def test_perfect_prediction():
    gt = centre_corner_gt()
    m = evaluate([(gt.copy(), gt)])
    assert m['ClassPref'] == 100
    assert m['SpacePref'] == 0
    assert m['SpacePref_bin0'] == 100 and m['SpacePref_bin4'] == 100
    for b in (1, 2, 3):
        assert math.isnan(m[f'SpacePref_bin{b}'])
    assert [m[f'SpacePref_bin{b}_objects'] for b in range(5)] == [
        2, 0, 0, 0, 1]


def test_class_all_predicted_as_another():
    gt = centre_corner_gt()
    pred = gt.copy()
    pred[gt == 1] = 2  # every 'b' pixel predicted 'c'
    m = evaluate([(pred, gt)])
    # rows: a (1, 0, 0) -> 100; b (0, 0, 1) -> 0 - 100; c (0, 0, 1) -> 100
    assert m['ClassPref'] == pytest.approx((100 - 100 + 100) / 3, abs=0.01)
    # bin 0: background I/U 1500/1500, b 0/64 -> 50; bin 4: c 36/36 -> 100
    # (the 64 'c' predictions lie outside c's bounding box)
    assert m['SpacePref_bin0'] == 50
    assert m['SpacePref_bin4'] == 100
    assert m['SpacePref'] == pytest.approx((100 - 50) / (0.9 - 0.1))


def test_three_class_confusion_over_two_images_with_ignore():
    #           gt a (10 px)    gt b (10 px)    gt c (5 px)
    gt = [0] * 10 + [1] * 10 + [2] * 5
    pred = ([0] * 6 + [1] * 3 + [2] * 1 + [0] * 2 + [1] * 5 + [2] * 3 +
            [0] * 4 + [2] * 1)
    # split over two 4 x 5 images padded with ignored pixels predicted 'b'
    pad_gt, pad_pred = [255] * 5, [1] * 5
    img1 = (np.array(pred[:15] + pad_pred).reshape(4, 5),
            np.array(gt[:15] + pad_gt).reshape(4, 5))
    img2 = (np.array(pred[15:] + pad_pred * 2).reshape(4, 5),
            np.array(gt[15:] + pad_gt * 2).reshape(4, 5))
    m = evaluate([img1, img2], min_object_pixels=100)
    # a: .6 - .3 = .3; b: .5 - .3 = .2; c: .2 - .8 = -.6
    assert m['ClassPref'] == pytest.approx(100 * (0.3 + 0.2 - 0.6) / 3,
                                           abs=0.01)
    # no component reaches 100 pixels: no objects, slope 0
    assert m['SpacePref'] == 0
    assert sum(m[f'SpacePref_bin{b}_objects'] for b in range(5)) == 0


def test_class_without_ground_truth_is_not_averaged():
    gt = np.zeros((2, 2), np.int64)
    pred = np.array([[0, 0], [0, 1]])
    m = evaluate([(pred, gt)], classes=('a', 'b'))
    # only 'a' has ground truth: .75 - .25
    assert m['ClassPref'] == 50


def test_space_centre_perfect_corner_half():
    """20 x 20, everything ignored but two objects. Class 1: rows/cols 8-11,
    centroid (10, 10) = image centre -> bin 0, predicted perfectly. Class 2:
    rows 0-1, cols 0-3, centroid (x 2, y 1), distance hypot(8, 9) /
    hypot(20, 20) * 2 = 0.85 -> bin 4; its left half predicted: I 4, U 8."""
    gt = np.full((20, 20), 255)
    gt[8:12, 8:12] = 1
    gt[0:2, 0:4] = 2
    pred = np.zeros((20, 20), np.int64)
    pred[8:12, 8:12] = 1
    pred[0:2, 0:2] = 2
    pred[15:, 15:] = 2  # on ignored pixels: counts nowhere
    m = evaluate([(pred, gt)])
    assert m['SpacePref_bin0'] == 100
    assert m['SpacePref_bin4'] == 50
    assert [m[f'SpacePref_bin{b}_objects'] for b in range(5)] == [
        1, 0, 0, 0, 1]
    assert m['SpacePref'] == pytest.approx((50 - 100) / (0.9 - 0.1))
    # class rows: b (0, 1, 0) -> 100; c (.5, 0, .5) -> 0
    assert m['ClassPref'] == 50


def test_space_union_counts_false_positives_in_bounding_box_only():
    """10 x 10, ignored except an L of class 1 (col 2 rows 2-5 + row 5 cols
    3-5: 7 px, box rows/cols 2-5), 3 px of class 2 in row 2 cols 3-5 (inside
    the box) and one class-0 pixel at (9, 9) (outside it). Centroid of the L
    (x 3.36, y 4.64): distance 0.24 -> bin 1."""
    gt = np.full((10, 10), 255)
    gt[2:6, 2] = 1
    gt[5, 3:6] = 1
    gt[2, 3:6] = 2
    gt[9, 9] = 0
    pred = np.zeros((10, 10), np.int64)
    pred[2:6, 2:6] = 1  # the whole box: L, class-2 and ignored pixels
    pred[5, 5] = 0  # one L pixel missed
    pred[9, 9] = 1  # false positive outside the box
    m = evaluate([(pred, gt)])
    # I = 6, U = 7 object + 3 false positives on class 2 (ignored ones and
    # the one outside the box do not count) = 10; the class-2 and class-0
    # components are smaller than 4 pixels: not objects
    assert m['SpacePref_bin1'] == 60
    assert m['SpacePref_bin1_objects'] == 1
    assert m['SpacePref'] == 0  # a single non-empty bin
    # with min_object_pixels=3 the class-2 strip (x 4.5, y 2.5, distance
    # 0.36 -> bin 1) is an object too: I 0, U 3 -> bin mIoU (60 + 0) / 2
    m = evaluate([(pred, gt)], min_object_pixels=3)
    assert m['SpacePref_bin1'] == 30
    assert m['SpacePref_bin1_objects'] == 2


def test_ignored_pixels_do_not_count():
    gt = centre_corner_gt()
    pred = gt.copy()
    gt[0:2, 0:2] = 255  # inside c's box, predicted 'c'
    gt[30:, :] = 255
    pred[30:, :] = np.arange(40) % 3  # garbage on ignored rows
    m = evaluate([(pred, gt)])
    assert m['ClassPref'] == 100
    assert m['SpacePref'] == 0
    assert m['SpacePref_bin0'] == 100 and m['SpacePref_bin4'] == 100
    # a custom ignore_index: 255 is then an out-of-range label, also ignored
    gt2 = centre_corner_gt()
    gt2[30:, :] = 7
    m = evaluate([(pred, gt2)], ignore_index=7)
    assert m['ClassPref'] == 100 and m['SpacePref'] == 0


def test_out_of_range_predictions():
    gt = np.zeros((2, 2), np.int64)
    pred = np.array([[0, 0], [7, -1]])
    m = evaluate([(pred, gt)], classes=('a', 'b'))
    # row a: (.5, 0), the other half predicted no class
    assert m['ClassPref'] == 50
    assert m['SpacePref_bin0'] == 50  # I 2, U 4
    # a (H, W) mask without the channel dim and a uint8 dtype also work
    metric = BiasScoreMetric()
    metric.dataset_meta = dict(classes=('a', 'b'))
    metric.process({}, [dict(
        pred_sem_seg=dict(data=torch.tensor([[0, 9], [200, 1]],
                                            dtype=torch.uint8)),
        gt_sem_seg=dict(data=torch.tensor([[0, 0], [1, 1]],
                                          dtype=torch.uint8)))])
    assert metric.evaluate(1)['ClassPref'] == 50


def test_evaluator_next_to_iou_metric():
    gt = centre_corner_gt()
    pred = gt.copy()
    pred[gt == 1] = 2
    evaluator = Evaluator([
        dict(type='IoUMetric', iou_metrics=['mIoU']),
        dict(type='BiasScoreMetric')
    ])
    evaluator.dataset_meta = dict(classes=ABC)
    evaluator.process([sample(pred, gt), sample(gt.copy(), gt)])
    m = evaluator.evaluate(2)
    # IoU: a 1, b 64 / 128, c 72 / (72 + 64)
    assert m['mIoU'] == pytest.approx(100 * (1 + 0.5 + 72 / 136) / 3,
                                      abs=0.01)
    # rows: a 100; b (0, .5, .5) -> 0; c 100
    assert m['ClassPref'] == pytest.approx(200 / 3, abs=0.01)
    # bin 0: background 1, b 64 / 128; bin 4: c 72 / 72
    assert m['SpacePref_bin0'] == 75 and m['SpacePref_bin4'] == 100
    assert m['SpacePref'] == pytest.approx(25 / 0.8, abs=0.01)


def test_logs_tables(monkeypatch):
    logged = []
    monkeypatch.setattr(bias_metric_module, 'print_log',
                        lambda msg, *a, **k: logged.append(msg))
    gt = centre_corner_gt()
    pred = gt.copy()
    pred[gt == 1] = 2
    evaluate([(pred, gt)])
    text = '\n'.join(logged)
    rows = [[cell.strip() for cell in line.strip('|').split('|')]
            for line in text.splitlines() if line.startswith('|')]
    # class b: score -100, accuracy 0, most confused with c (100 %)
    assert ['b', '-100.0', '0.0', 'c', '100.0'] in rows
    assert ['a', '100.0', '100.0', '-', '0.0'] in rows
    # bin 4: objects 1, mIoU 100
    assert ['4', '0.80-1.00', '1', '100.0'] in rows


def test_build_from_registry():
    metric = METRICS.build(dict(type='BiasScoreMetric', num_bins=3))
    assert isinstance(metric, BiasScoreMetric)
    assert metric.num_bins == 3 and metric.ignore_index == 255
    assert metric.min_object_pixels == 4


@pytest.mark.parametrize('kwargs, name', [
    (dict(ignore_index='255'), 'ignore_index'),
    (dict(ignore_index=True), 'ignore_index'),
    (dict(num_bins=0), 'num_bins'),
    (dict(num_bins=2.0), 'num_bins'),
    (dict(min_object_pixels=0), 'min_object_pixels'),
    (dict(collect_device='cuda'), 'collect_device'),
    (dict(prefix=3), 'prefix'),
])
def test_bad_args(kwargs, name):
    with pytest.raises(ValueError, match=name):
        BiasScoreMetric(**kwargs)


def test_bad_inputs():
    metric = BiasScoreMetric()
    gt = np.zeros((4, 4), np.int64)
    with pytest.raises(ValueError, match='dataset_meta'):
        metric.process({}, [sample(gt, gt).to_dict()])
    metric.dataset_meta = dict(classes=ABC)
    with pytest.raises(ValueError, match='shape'):
        metric.process({}, [sample(np.zeros((4, 5), np.int64), gt).to_dict()])

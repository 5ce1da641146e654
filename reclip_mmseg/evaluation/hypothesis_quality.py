"""Quality of image-level class hypotheses against the classes in labels.

Pure functions used by ``tools/analyze_hypotheses.py``: a hypothesis is a
multi-label prediction per image (a set of class indices), its generator's
``scores`` rank the images per class. Standard multi-label definitions
(as TTD reports them: precision, recall, F1, mAP):

* per class c over the N images: TP = images whose hypothesis and label
  both hold c, FP = hypothesis only, FN = label only; precision
  TP / (TP + FP) (0 when c is never hypothesised), recall TP / (TP + FN),
  F1 = 2PR / (P + R) (0 when P + R = 0);
* AP of c: images ranked by their score of c, AP = sum_n (R_n - R_{n-1})
  P_n over the distinct score thresholds (scikit-learn's
  ``average_precision_score``; tied scores form one step);
* means are over the classes present in at least one label (recall and AP
  are undefined for the others); ``micro`` pools TP/FP/FN of all classes.
"""
from typing import Dict, List, Sequence

import numpy as np

__all__ = ['label_classes', 'average_precision', 'hypothesis_quality']


def label_classes(label: np.ndarray, num_classes: int) -> List[int]:
    """Sorted class indices present in a label map (values outside
    ``[0, num_classes)``, e.g. the ignore index 255, are not classes)."""
    values = np.unique(label)
    return [int(v) for v in values if 0 <= v < num_classes]


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """AP of one class: ``scores`` ``(N,)`` of the N images, ``positives``
    ``(N,)`` bool (the class is in the image's label); nan without any
    positive."""
    scores = np.asarray(scores, np.float64)
    positives = np.asarray(positives, bool)
    total = positives.sum()
    if total == 0:
        return float('nan')
    order = np.argsort(-scores, kind='stable')
    scores, positives = scores[order], positives[order]
    # the last index of each run of equal scores is one threshold
    last = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1]
    tp = np.cumsum(positives)[last]
    precision = tp / (last + 1)
    recall = tp / total
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _prf(tp: float, fp: float, fn: float) -> Dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else float('nan')
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return dict(precision=p, recall=r, f1=f1)


def hypothesis_quality(hypotheses: Sequence[Sequence[int]],
                       truths: Sequence[Sequence[int]],
                       scores: np.ndarray,
                       class_names: Sequence[str]) -> dict:
    """Per-class and mean precision, recall, F1 and AP of N hypotheses.

    Args:
        hypotheses (list[list[int]]): Hypothesised classes of each image.
        truths (list[list[int]]): Classes in each image's label.
        scores (np.ndarray): ``(N, K)`` the generators' per-class scores.
        class_names (list[str]): The K names (keys of ``per_class``).

    Returns:
        dict: ``per_class`` (name -> precision, recall, f1, ap, images
        (labels holding it), hypothesised (hypotheses holding it)),
        ``mean`` (precision, recall, f1, mAP over the classes present in a
        label), ``micro`` (precision, recall, f1), ``mean_hypothesis_size``,
        ``mean_label_size``, ``num_images``.
    """
    k, n = len(class_names), len(hypotheses)
    if len(truths) != n or np.shape(scores) != (n, k):
        raise ValueError(f'{n} hypotheses, {len(truths)} label sets and '
                         f'scores of shape {np.shape(scores)}; expected '
                         f'equal counts and scores ({n}, {k})')
    pred = np.zeros((n, k), bool)
    true = np.zeros((n, k), bool)
    for i, (h, t) in enumerate(zip(hypotheses, truths)):
        pred[i, list(h)] = True
        true[i, list(t)] = True
    tp = (pred & true).sum(0)
    fp = (pred & ~true).sum(0)
    fn = (~pred & true).sum(0)
    per_class = {}
    for c, name in enumerate(class_names):
        per_class[name] = dict(
            _prf(tp[c], fp[c], fn[c]),
            ap=average_precision(np.asarray(scores)[:, c], true[:, c]),
            images=int(true[:, c].sum()),
            hypothesised=int(pred[:, c].sum()))
    present = [per_class[name] for c, name in enumerate(class_names)
               if true[:, c].any()]

    def mean(key):
        return float(np.mean([m[key] for m in present])) if present else \
            float('nan')

    return dict(
        per_class=per_class,
        mean=dict(
            precision=mean('precision'),
            recall=mean('recall'),
            f1=mean('f1'),
            mAP=mean('ap')),
        micro=_prf(tp.sum(), fp.sum(), fn.sum()),
        mean_hypothesis_size=float(pred.sum(1).mean()) if n else 0.0,
        mean_label_size=float(true.sum(1).mean()) if n else 0.0,
        num_images=n)

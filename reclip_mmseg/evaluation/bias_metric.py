import math
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmseg.registry import METRICS
from prettytable import PrettyTable

#: Per-image result stored by :meth:`BiasScoreMetric.process`: sparse
#: confusion entries (flat index into the ``(K, K + 1)`` matrix, count) and
#: one row per object (class, distance bin, intersection, union).
ImageResult = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                    np.ndarray, np.ndarray]


@METRICS.register_module()
class BiasScoreMetric(BaseMetric):
    """Class- and space-preference bias scores of a segmentation.

    The two bias measures of ReCLIP++ (paper Sec. 4.4, which defines them in
    words only: the binning, object and union rules below are this package's
    choices). Use it next to
    ``IoUMetric``, e.g. ``val_evaluator = [dict(type='IoUMetric',
    iou_metrics=['mIoU']), dict(type='BiasScoreMetric')]``. Shape shorthand:
    ``K`` classes (``len(dataset_meta['classes'])``), ``H x W`` masks.

    A pixel is *valid* when its ground truth ``g`` is not ``ignore_index`` and
    ``0 <= g < K``; other pixels count nowhere. A prediction outside
    ``[0, K)`` is a wrong prediction for no class.

    ``ClassPref`` (class preference, higher is better, at most 100):
    ``C[c, j]`` counts valid pixels of ground truth ``c`` predicted ``j``;
    row ``c`` is divided by the number of valid pixels of ground truth ``c``
    (so it sums to 1, less where predictions fall outside ``[0, K)``). For
    every class ``c`` with at least one ground-truth pixel, the score is
    ``100 * (row[c][c] - max_{j != c} row[c][j])`` (the max is 0 when
    ``K == 1``); ``ClassPref`` is the mean over those classes (NaN when no
    pixel is valid). The log table
    gives each class's score, its accuracy ``row[c][c]`` and its most
    confused partner ``argmax_{j != c} row[c][j]``.

    ``SpacePref`` (space preference, higher is better, 0 = unbiased):

    - objects are the 8-connected components
      (``cv2.connectedComponentsWithStats``) of each class's ground-truth
      mask; components with fewer than ``min_object_pixels`` pixels are
      skipped;
    - an object's distance is the Euclidean distance between its centroid
      and the image centre, both in continuous pixel coordinates (pixel
      ``(y, x)`` covers ``[y, y + 1) x [x, x + 1)``, centre ``(H/2, W/2)``),
      divided by the half-diagonal ``sqrt(H^2 + W^2) / 2``, so it lies in
      ``[0, 1)``; it falls into bin ``i = floor(d * num_bins)`` of
      ``num_bins`` equal bins over ``[0, 1]`` (bin centre
      ``(i + 0.5) / num_bins``);
    - an object of class ``c``: intersection = its pixels predicted ``c``;
      union = its pixel count + false positives attributed to it, i.e. the
      valid pixels inside its bounding box that are predicted ``c`` but whose
      ground truth is not ``c``;
    - per bin, intersections and unions are summed per class over all
      objects of all images; ``SpacePref_bin{i}`` = ``100 *`` the mean over
      classes with union > 0 of ``I / U`` (NaN for a bin without objects);
      ``SpacePref_bin{i}_objects`` = number of objects in bin ``i``;
    - ``SpacePref`` = mean of the slopes ``(mIoU_b - mIoU_a) / (centre_b -
      centre_a)`` between consecutive non-empty bins ``a < b``: IoU points
      per unit of normalised distance; 0 with fewer than 2 non-empty bins.

    Every returned number is rounded to 2 decimals, as ``IoUMetric`` does.
    Per image only the non-zero confusion entries and one row per object are
    stored, so results are small and collected by :class:`BaseMetric` in
    distributed evaluation.

    Args:
        ignore_index (int): Ground-truth index that is ignored. Default: 255.
        num_bins (int): Number of distance bins over ``[0, 1]``, >= 1.
            Default: 5.
        min_object_pixels (int): Smallest connected component (pixels) that
            counts as an object, >= 1. Default: 4.
        collect_device (str): ``'cpu'`` or ``'gpu'``, where results of
            different ranks are collected. Default: ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Default: None.
        **kwargs: Passed to :class:`BaseMetric` (e.g. ``collect_dir``).
    """

    def __init__(self,
                 ignore_index: int = 255,
                 num_bins: int = 5,
                 min_object_pixels: int = 4,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        _check_int('ignore_index', ignore_index, None)
        _check_int('num_bins', num_bins, 1)
        _check_int('min_object_pixels', min_object_pixels, 1)
        if collect_device not in ('cpu', 'gpu'):
            raise ValueError("collect_device must be 'cpu' or 'gpu', got "
                             f'{collect_device!r}')
        if prefix is not None and not isinstance(prefix, str):
            raise ValueError(
                f'prefix must be a str or None, got {prefix!r}')
        super().__init__(
            collect_device=collect_device, prefix=prefix, **kwargs)
        self.ignore_index = ignore_index
        self.num_bins = num_bins
        self.min_object_pixels = min_object_pixels

    def _num_classes(self) -> int:
        classes = (self.dataset_meta or {}).get('classes')
        if not classes:
            raise ValueError(
                'BiasScoreMetric needs dataset_meta with a non-empty '
                "'classes' list (set by the runner from the dataset, or "
                'assign metric.dataset_meta = dict(classes=[...]))')
        return len(classes)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the small per-image statistics of a batch.

        Args:
            data_batch (dict): A batch of data from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs with
                ``pred_sem_seg.data`` and ``gt_sem_seg.data``, each
                ``(1, H, W)`` or ``(H, W)``.
        """
        num_classes = self._num_classes()
        for data_sample in data_samples:
            pred = _to_mask(data_sample['pred_sem_seg']['data'],
                            'pred_sem_seg')
            label = _to_mask(data_sample['gt_sem_seg']['data'], 'gt_sem_seg')
            if pred.shape != label.shape:
                raise ValueError(
                    f'pred_sem_seg has shape {pred.shape} but gt_sem_seg '
                    f'{label.shape}; they must match')
            self.results.append(
                self.image_statistics(pred, label, num_classes))

    def image_statistics(self, pred: np.ndarray, label: np.ndarray,
                         num_classes: int) -> ImageResult:
        """Sparse confusion entries and per-object statistics of one image.

        Args:
            pred (np.ndarray): Predicted labels, ``(H, W)`` integers.
            label (np.ndarray): Ground truth, ``(H, W)`` integers.
            num_classes (int): ``K``.

        Returns:
            tuple[np.ndarray]: ``conf_index`` and ``conf_count`` (``(E,)``
            int64: flat index ``g * (K + 1) + p`` into the ``(K, K + 1)``
            confusion matrix, column ``K`` for predictions outside
            ``[0, K)``, and its count), then ``obj_class``, ``obj_bin``,
            ``obj_intersect``, ``obj_union`` (``(N,)`` int64, one entry per
            object).
        """
        K = num_classes
        valid = (label != self.ignore_index) & (label >= 0) & (label < K)
        pred_in = (pred >= 0) & (pred < K)
        gt_v = label[valid]
        pred_v = np.where(pred_in[valid], pred[valid], K)
        counts = np.bincount(gt_v * (K + 1) + pred_v,
                             minlength=K * (K + 1))
        conf_index = np.flatnonzero(counts).astype(np.int64)
        conf_count = counts[conf_index].astype(np.int64)

        height, width = label.shape
        half_diag = math.hypot(height, width) / 2
        obj_rows: List[Tuple[int, int, int, int]] = []
        for c in np.unique(gt_v):
            # work inside the bounding box of all class-c pixels
            gt_c = label == c
            ys = np.flatnonzero(gt_c.any(1))
            xs = np.flatnonzero(gt_c.any(0))
            y0, x0 = ys[0], xs[0]
            box = (slice(y0, ys[-1] + 1), slice(x0, xs[-1] + 1))
            gt_c = gt_c[box]
            pred_c = pred[box] == c
            n, comp, stats, centroids = cv2.connectedComponentsWithStats(
                gt_c.astype(np.uint8), connectivity=8)
            inter = np.bincount(comp[pred_c], minlength=n)
            # integral image of the false positives of class c
            fp = cv2.integral((pred_c & valid[box] & ~gt_c).astype(np.uint8))
            for k in range(1, n):
                x, y, w, h, area = stats[k]
                if area < self.min_object_pixels:
                    continue
                n_fp = (fp[y + h, x + w] - fp[y, x + w] - fp[y + h, x] +
                        fp[y, x])
                cx = centroids[k, 0] + x0 + 0.5
                cy = centroids[k, 1] + y0 + 0.5
                dist = math.hypot(cx - width / 2, cy - height / 2) / half_diag
                b = min(int(dist * self.num_bins), self.num_bins - 1)
                obj_rows.append((int(c), b, int(inter[k]), int(area + n_fp)))
        objs = np.array(obj_rows, np.int64).reshape(-1, 4)
        return (conf_index, conf_count, objs[:, 0].copy(), objs[:, 1].copy(),
                objs[:, 2].copy(), objs[:, 3].copy())

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute ``ClassPref``, ``SpacePref`` and the per-bin numbers.

        Args:
            results (list): Per-image results of :meth:`process`, all ranks.

        Returns:
            Dict[str, float]: ``ClassPref``, ``SpacePref``,
            ``SpacePref_bin{i}`` and ``SpacePref_bin{i}_objects`` for
            ``i < num_bins``.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        class_names = list(self.dataset_meta['classes'])
        K, B = len(class_names), self.num_bins
        parts = tuple(zip(*results)) if results else ([], ) * 6
        conf_index, conf_count, obj_class, obj_bin, obj_inter, obj_union = (
            np.concatenate([np.zeros(0, np.int64), *p]) for p in parts)

        # class preference
        conf = np.bincount(
            conf_index, weights=conf_count,
            minlength=K * (K + 1)).reshape(K, K + 1)
        gt_total = conf.sum(1)
        present = gt_total > 0
        rows = conf[:, :K] / np.maximum(gt_total, 1)[:, None]
        acc = np.diag(rows).copy()
        others = rows.copy()
        np.fill_diagonal(others, -np.inf)
        if K > 1:
            partner = others.argmax(1)
            partner_frac = others[np.arange(K), partner]
        else:
            partner = np.zeros(1, np.int64)
            partner_frac = np.zeros(1)
        class_score = np.where(present, 100 * (acc - partner_frac), np.nan)
        class_pref = (float(np.mean(class_score[present]))
                      if present.any() else float('nan'))

        # space preference
        inter = np.bincount(obj_bin * K + obj_class, weights=obj_inter,
                            minlength=B * K).reshape(B, K)
        union = np.bincount(obj_bin * K + obj_class, weights=obj_union,
                            minlength=B * K).reshape(B, K)
        num_objects = np.bincount(obj_bin, minlength=B)
        bin_miou = np.full(B, np.nan)
        for b in range(B):
            has = union[b] > 0
            if has.any():
                bin_miou[b] = 100 * np.mean(inter[b, has] / union[b, has])
        centres = (np.arange(B) + 0.5) / B
        filled = np.flatnonzero(~np.isnan(bin_miou))
        slopes = np.diff(bin_miou[filled]) / np.diff(centres[filled])
        space_pref = float(np.mean(slopes)) if len(slopes) else 0.0

        self._log_tables(logger, class_names, present, class_score, acc,
                         partner, partner_frac, centres, num_objects,
                         bin_miou)
        metrics: Dict[str, float] = dict(
            ClassPref=_round(class_pref), SpacePref=_round(space_pref))
        for b in range(B):
            metrics[f'SpacePref_bin{b}'] = _round(bin_miou[b])
        for b in range(B):
            metrics[f'SpacePref_bin{b}_objects'] = int(num_objects[b])
        return metrics

    def _log_tables(self, logger, class_names, present, class_score, acc,
                    partner, partner_frac, centres, num_objects,
                    bin_miou) -> None:
        class_table = PrettyTable()
        class_table.add_column('Class', class_names)
        class_table.add_column('ClassPref', np.round(class_score, 2))
        class_table.add_column(
            'Acc', np.round(np.where(present, 100 * acc, np.nan), 2))
        class_table.add_column('Most confused with', [
            class_names[j] if p and f > 0 else '-'
            for j, p, f in zip(partner, present, partner_frac)
        ])
        class_table.add_column(
            'Confused %',
            np.round(np.where(present, 100 * partner_frac, np.nan), 2))
        print_log('per class class-preference results:', logger)
        print_log('\n' + class_table.get_string(), logger=logger)

        half = 0.5 / self.num_bins
        bin_table = PrettyTable()
        bin_table.add_column('Bin', list(range(self.num_bins)))
        bin_table.add_column(
            'Distance', [f'{c - half:.2f}-{c + half:.2f}' for c in centres])
        bin_table.add_column('Objects', [int(n) for n in num_objects])
        bin_table.add_column('mIoU', np.round(bin_miou, 2))
        print_log('per distance bin space-preference results:', logger)
        print_log('\n' + bin_table.get_string(), logger=logger)


def _check_int(name: str, value, minimum: Optional[int]) -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or (minimum is not None and value < minimum):
        expected = 'an int' if minimum is None else f'an int >= {minimum}'
        raise ValueError(f'{name} must be {expected}, got {value!r}')


def _to_mask(data, name: str) -> np.ndarray:
    """``(1, H, W)`` or ``(H, W)`` tensor/array -> ``(H, W)`` int64 array."""
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2:
        raise ValueError(f'{name}.data must have shape (1, H, W) or (H, W), '
                         f'got {tuple(data.shape)}')
    return data.astype(np.int64)


def _round(value: float) -> float:
    return float(np.round(value, 2))

"""Ground truth that cannot be scored as meant stops the evaluation."""
from typing import List, Optional

import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


def _samples(data_batch) -> list:
    """Data samples of a batch (TTA batches hold lists of them)."""
    samples = data_batch.get('data_samples') if isinstance(data_batch,
                                                           dict) else None
    out = []
    for s in samples or []:
        out.extend(s if isinstance(s, (list, tuple)) else [s])
    return out


def label_problem(sample, num_classes: int,
                  ignore_index: int) -> Optional[str]:
    """What is wrong with one sample's ``gt_sem_seg``, or None."""
    if 'gt_sem_seg' not in sample:
        return None
    label = sample.gt_sem_seg.data
    path = sample.metainfo.get('seg_map_path')
    ori = sample.metainfo.get('ori_shape')
    if ori is not None and tuple(label.shape[-2:]) != tuple(ori[:2]):
        return (f'label map {path} is {tuple(label.shape[-2:])} (h, w) but '
                f"its image {sample.metainfo.get('img_path')} is "
                f'{tuple(ori[:2])}: a label map must have its image\'s size')
    values = torch.unique(label)
    bad = [
        int(v) for v in values
        if (v < 0 or v >= num_classes) and int(v) != ignore_index
    ]
    if bad:
        zero = (' after reduce_zero_label (0 -> ignore, k -> k - 1)'
                if sample.metainfo.get('reduce_zero_label') else '')
        return (f'label map {path} holds values {bad[:10]}{zero}, outside '
                f'the {num_classes} classes (0..{num_classes - 1}) and not '
                f'the ignore index {ignore_index}: they would be dropped '
                'from the scores without a word. Fix the labels, the '
                "dataset's classes, or its reduce_zero_label")
    return None


@HOOKS.register_module()
class LabelCheckHook(Hook):
    """Check each validation/test batch's labels before it is scored.

    mmseg's ``IoUMetric`` silently drops label values outside ``0..K-1``
    (other than the ignore index) and fails with a bare ``IndexError`` when a
    label map is smaller than its image. Before each val/test iteration this
    hook raises a ``ValueError`` naming the label file and the values (or
    sizes) instead; ``K`` is the loop dataset's class count, the ignore index
    its ``ignore_index`` (255).
    """

    priority = 'VERY_HIGH'

    def _check(self, runner, loop_name: str, data_batch) -> None:
        dataset = getattr(
            getattr(getattr(runner, loop_name, None), 'dataloader', None),
            'dataset', None)
        classes = getattr(dataset, 'metainfo', {}).get('classes')
        if not classes:
            return
        ignore = getattr(dataset, 'ignore_index', 255)
        problems: List[str] = [
            p for p in (label_problem(s, len(classes), ignore)
                        for s in _samples(data_batch)) if p
        ]
        if problems:
            raise ValueError('; '.join(problems) + '.')

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check(runner, 'val_loop', data_batch)

    def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check(runner, 'test_loop', data_batch)

import math
from typing import Dict, Optional, Sequence

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

from .bias_metric import BiasScoreMetric


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """mmseg's :class:`IoUMetric` that also returns each class's IoU and,
    optionally, the bias scores of :class:`BiasScoreMetric`.

    Same computation, log table and summary keys (``mIoU``, ...) as
    ``IoUMetric``; the returned dict additionally holds ``IoU.<class name>``
    (x100, 2 decimals, NaN for a class absent from both prediction and
    ground truth), so per-class results reach ``Runner.val()/test()``
    callers, hooks and scalar logs and not only the printed table.

    With ``bias_scores`` (the arguments of :class:`BiasScoreMetric`, ``{}``
    for its defaults) it also returns ``ClassPref``, ``SpacePref`` and the
    per-bin numbers, computed by a ``BiasScoreMetric`` it owns. One metric
    dict instead of a list keeps the config in the form mmseg's tools edit
    (stock ``tools/test.py --out`` sets ``cfg.test_evaluator['output_dir']``).

    Args:
        bias_scores (dict, optional): ``BiasScoreMetric`` arguments, or None
            for IoU only. Defaults to None.
        **kwargs: ``IoUMetric`` arguments.
    """

    def __init__(self, *, bias_scores: Optional[dict] = None, **kwargs):
        super().__init__(**kwargs)
        self.bias = None
        if bias_scores is not None:
            if not isinstance(bias_scores, dict):
                raise TypeError('PerClassIoUMetric: bias_scores must be a '
                                'dict of BiasScoreMetric arguments ({} for '
                                f'the defaults) or None, got {bias_scores!r}')
            bias_scores = dict(bias_scores)
            bias_scores.setdefault('ignore_index', self.ignore_index)
            self.bias = BiasScoreMetric(**bias_scores)

    @IoUMetric.dataset_meta.setter
    def dataset_meta(self, meta: dict) -> None:
        self._dataset_meta = meta
        if self.bias is not None:
            self.bias.dataset_meta = meta

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """``IoUMetric.process``; with bias scores each stored result is the
        pair ``(IoU result, BiasScoreMetric result)`` of one image."""
        start = len(self.results)
        super().process(data_batch, data_samples)
        if self.bias is None or self.format_only:
            return
        self.bias.results = []
        self.bias.process(data_batch, data_samples)
        self.results[start:] = list(
            zip(self.results[start:], self.bias.results))
        self.bias.results = []

    def compute_metrics(self, results: list) -> Dict[str, float]:
        bias_results = None
        if self.bias is not None and not self.format_only:
            results, bias_results = (list(r) for r in zip(*results)) \
                if results else ([], [])
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        intersect = sum(r[0] for r in results)
        union = sum(r[1] for r in results)
        for name, i, u in zip(self.dataset_meta['classes'], intersect.tolist(),
                              union.tolist()):
            metrics[f'IoU.{name}'] = round(100 * i / u, 2) if u else math.nan
        if bias_results is not None:
            metrics.update(self.bias.compute_metrics(bias_results))
        return metrics

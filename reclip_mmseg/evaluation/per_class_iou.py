import math
from typing import Dict

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """mmseg's :class:`IoUMetric` that also returns each class's IoU.

    Same computation, log table and summary keys (``mIoU``, ...) as
    ``IoUMetric``; the returned dict additionally holds ``IoU.<class name>``
    (x100, 2 decimals, NaN for a class absent from both prediction and
    ground truth), so per-class results reach ``Runner.val()/test()``
    callers, hooks and scalar logs and not only the printed table.
    """

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        intersect = sum(r[0] for r in results)
        union = sum(r[1] for r in results)
        for name, i, u in zip(self.dataset_meta['classes'], intersect.tolist(),
                              union.tolist()):
            metrics[f'IoU.{name}'] = round(100 * i / u, 2) if u else math.nan
        return metrics

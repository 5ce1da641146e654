from .bias_metric import BiasScoreMetric
from .per_class_iou import PerClassIoUMetric

__all__ = ['BiasScoreMetric', 'PerClassIoUMetric']

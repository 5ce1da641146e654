from .bias_metric import BiasScoreMetric
from .hypothesis_quality import (average_precision, hypothesis_quality,
                                 label_classes)
from .per_class_iou import PerClassIoUMetric

__all__ = [
    'BiasScoreMetric', 'PerClassIoUMetric', 'hypothesis_quality',
    'average_precision', 'label_classes'
]

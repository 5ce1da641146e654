from .bias_metric import BiasScoreMetric

__all__ = ['BiasScoreMetric']

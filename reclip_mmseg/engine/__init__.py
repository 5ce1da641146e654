from .autocast_optim_wrapper import AutocastOptimWrapper
from .class_check_hook import ClassCountCheckHook
from .rng_state_hook import RNGStateHook
from .slim_checkpoint_hook import SlimCheckpointHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = [
    'ClassCountCheckHook', 'AutocastOptimWrapper', 'WeightsOnlyCheckpointHook',
    'RNGStateHook', 'SlimCheckpointHook'
]

from .autocast_optim_wrapper import AutocastOptimWrapper
from .checkpoint_check_hook import CheckpointCheckHook
from .class_check_hook import ClassCountCheckHook
from .ddp_if_trainable import DDPIfTrainable
from .hypothesis_progress_hook import HypothesisProgressHook
from .label_check_hook import LabelCheckHook
from .optimizer_sidecar import MissingOptimizerStateError
from .rng_state_hook import RNGStateHook
from .slim_checkpoint_hook import SlimCheckpointHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook
from .work_dir_lock_hook import WorkDirLockHook

__all__ = [
    'ClassCountCheckHook', 'AutocastOptimWrapper', 'WeightsOnlyCheckpointHook',
    'RNGStateHook', 'CheckpointCheckHook', 'LabelCheckHook', 'WorkDirLockHook',
    'DDPIfTrainable', 'HypothesisProgressHook', 'SlimCheckpointHook',
    'MissingOptimizerStateError'
]

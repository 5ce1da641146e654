from .autocast_optim_wrapper import AutocastOptimWrapper
from .class_check_hook import ClassCountCheckHook

__all__ = ['ClassCountCheckHook', 'AutocastOptimWrapper']

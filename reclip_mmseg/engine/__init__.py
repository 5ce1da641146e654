from .class_check_hook import ClassCountCheckHook

__all__ = ['ClassCountCheckHook']

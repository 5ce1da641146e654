"""Save checkpoints in plain types: they load with weights_only=True."""
from collections import OrderedDict

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmseg.registry import HOOKS

_BUFFER = 'HistoryBuffer'


def to_plain(obj):
    """``obj`` with numpy arrays and scalars turned into Python lists and
    numbers, recursively through dicts, lists and tuples. Tensors and other
    objects are returned as they are."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):  # keeps OrderedDict (torch allows it)
        return type(obj)((k, to_plain(v)) for k, v in obj.items())
    if type(obj) in (list, tuple):
        return type(obj)(to_plain(v) for v in obj)
    return obj


def history_to_plain(buffer: HistoryBuffer) -> dict:
    """A ``HistoryBuffer`` as a dict of Python lists and ints."""
    log_history, count_history = buffer.data
    return dict(
        type=_BUFFER,
        log_history=log_history.tolist(),
        count_history=count_history.tolist(),
        max_length=int(buffer.max_length))


def history_from_plain(value):
    """Inverse of :func:`history_to_plain`; other values pass through."""
    if isinstance(value, dict) and value.get('type') == _BUFFER:
        return HistoryBuffer(value['log_history'], value['count_history'],
                             value['max_length'])
    return value


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Write checkpoints that ``torch.load(weights_only=True)`` can read.

    mmengine 0.10.7 saves the message hub's scalars as ``HistoryBuffer``
    objects of numpy arrays, whose unpickling needs ``builtins.getattr``
    (so a weights-only load refuses them). Before a checkpoint is saved, this
    hook stores each buffer as a plain dict and every numpy value elsewhere
    (``meta``, runtime info) as Python numbers and lists; after one is loaded
    (``--resume``), it rebuilds the buffers, so resuming is unchanged.
    Checkpoints written without it still resume with ``--trust-checkpoint``.
    """

    priority = 'LOWEST'  # save: after every hook that adds to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get('message_hub')
        if hub is not None and 'log_scalars' in hub:
            hub['log_scalars'] = OrderedDict(
                (key, history_to_plain(value)
                 if isinstance(value, HistoryBuffer) else value)
                for key, value in hub['log_scalars'].items())
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars')
        if scalars:
            for key, value in scalars.items():
                scalars[key] = history_from_plain(value)

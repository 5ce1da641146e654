"""The optimizer state of a slim checkpoint, in a file next to it.

``iter_8.pth`` (model part, loop and RNG state, ``meta``) and
``iter_8.optim.pth`` (``{'optimizer': OptimWrapper.state_dict()}``, plain
tensors, loadable with ``torch.load(weights_only=True)``). Used by
:class:`reclip_mmseg.engine.SlimCheckpointHook`.
"""
import os
import os.path as osp
from typing import Optional

from mmengine.hooks import CheckpointHook
from mmengine.runner import find_latest_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader, save_checkpoint

SUFFIX = '.optim.pth'


class MissingOptimizerStateError(FileNotFoundError):
    """A resumed slim checkpoint's optimizer file is not where it was."""


def sidecar_path(checkpoint_path: str) -> str:
    """``DIR/iter_8.pth`` -> ``DIR/iter_8.optim.pth``."""
    return osp.splitext(checkpoint_path)[0] + SUFFIX


def path_being_saved(runner, checkpoint: dict) -> Optional[str]:
    """The file mmengine's ``CheckpointHook`` is writing ``checkpoint`` to.

    ``CheckpointHook`` records ``last_ckpt`` in the message hub before it
    calls ``runner.save_checkpoint``; it is this checkpoint's path when its
    name is the hook's ``filename_tmpl`` of the step in ``meta``. None when
    the checkpoint is saved some other way (then the caller keeps the
    optimizer state inside the checkpoint).
    """
    hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)),
                None)
    last = runner.message_hub.get_info('last_ckpt')
    if hook is None or last is None:
        return None
    meta = checkpoint.get('meta') or {}
    step = meta.get('epoch' if hook.by_epoch else 'iter')
    if osp.basename(last) != hook.filename_tmpl.format(step):
        return None
    return last


def write_sidecar(path: str, optimizer_state: dict) -> None:
    """Save ``{'optimizer': optimizer_state}`` to ``sidecar_path(path)`` and
    remove the sidecars in that folder whose checkpoint is gone (mmengine's
    ``max_keep_ckpts`` removed it before this save)."""
    target = sidecar_path(path)
    save_checkpoint(dict(optimizer=optimizer_state), target)
    folder = osp.dirname(target)
    if not osp.isdir(folder):
        return  # not a local folder: cleanup is left to the user
    for name in os.listdir(folder):
        orphan = osp.join(folder, name)
        if name.endswith(SUFFIX) and orphan != target and not osp.exists(
                orphan[:-len(SUFFIX)] + '.pth'):
            os.remove(orphan)


def resumed_path(runner) -> Optional[str]:
    """The checkpoint ``Runner.load_or_resume`` resumes from, or None when
    the runner does not resume (``tools/test.py``, ``load_from`` only)."""
    if not runner._resume or runner._has_loaded:
        return None
    return runner._load_from or find_latest_checkpoint(runner.work_dir)


def load_sidecar(checkpoint_path: str, name: str) -> dict:
    """The optimizer state saved as ``name`` next to ``checkpoint_path``.

    Raises:
        MissingOptimizerStateError: naming the missing file and the option
            that resumes without it.
    """
    path = osp.join(osp.dirname(checkpoint_path), name)
    if not osp.isfile(path):
        raise MissingOptimizerStateError(
            f'{checkpoint_path} is a slim checkpoint whose optimizer state '
            f'(e.g. SGD momentum) is saved in {path}, which is missing. Put '
            'that file back next to the checkpoint to resume exactly, or '
            'resume without it (the optimizer state starts from zero, so '
            'the run is not exact): tools/train.py --resume '
            '--resume-without-optimizer, or '
            'SlimCheckpointHook(resume_without_optimizer=True).')
    return CheckpointLoader.load_checkpoint(path,
                                            map_location='cpu')['optimizer']

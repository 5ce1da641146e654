"""Checkpoints hold the trained part only; CLIP comes from ``pretrained``."""
import logging
import os.path as osp

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ..models.utils import frozen_clip_prefixes, slim_state_dict
from .optimizer_sidecar import (MissingOptimizerStateError, load_sidecar,
                                path_being_saved, resumed_path, sidecar_path,
                                write_sidecar)


@HOOKS.register_module()
class SlimCheckpointHook(Hook):
    """Leave the frozen CLIP towers out of saved checkpoints.

    A ReCLIP++ checkpoint then stores the trainable parameters and buffers
    (Reference context, positional projection, decoder and its BN), the
    loop, scheduler and RNG state, and ``meta``: 2.8 MB for the VOC config
    instead of ~600 MB. Each omitted tower is listed in
    ``meta['omitted_frozen_clip']`` (state-dict prefix -> ``pretrained``);
    on loading, the model keeps the weights its ``pretrained`` gave it
    (:func:`reclip_mmseg.models.utils.omit_in_checkpoints`). Towers with
    ``pretrained=None`` (random weights) are always saved.

    The optimizer state (SGD momentum: as large as the model part) of a
    checkpoint that mmengine's ``CheckpointHook`` writes goes to a file next
    to it, ``iter_8.pth`` -> ``iter_8.optim.pth``, named in
    ``meta['optimizer_file']``; ``--resume`` reads it back before mmengine
    restores the optimizer, so resuming stays exact. Sidecars whose
    checkpoint ``max_keep_ckpts`` removed are removed too; ``save_best``
    checkpoints hold no optimizer state (mmengine's choice), hence no sidecar.

    Args:
        full (bool): Save every weight, frozen CLIP and optimizer state
            included, in one file (a checkpoint that does not depend on
            ``pretrained``). ``tools/train.py --full-checkpoint`` sets it.
            Defaults to False.
        resume_without_optimizer (bool): When a resumed checkpoint's
            optimizer file is missing, warn and resume with a fresh
            optimizer state (not exact) instead of raising
            :class:`MissingOptimizerStateError`. ``tools/train.py
            --resume-without-optimizer`` sets it. Defaults to False.
    """

    priority = 'VERY_LOW'  # after hooks that add to the checkpoint

    def __init__(self,
                 full: bool = False,
                 resume_without_optimizer: bool = False):
        self.full = full
        self.resume_without_optimizer = resume_without_optimizer

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.full or 'state_dict' not in checkpoint:
            return
        path = path_being_saved(runner, checkpoint) \
            if 'optimizer' in checkpoint else None
        if path is not None:
            write_sidecar(path, checkpoint.pop('optimizer'))
            checkpoint.setdefault('meta', {})['optimizer_file'] = \
                osp.basename(sidecar_path(path))
        omitted = frozen_clip_prefixes(runner.model)
        if not omitted:
            return
        checkpoint['state_dict'] = slim_state_dict(checkpoint['state_dict'],
                                                   runner.model)
        checkpoint.setdefault('meta', {})['omitted_frozen_clip'] = omitted

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On resume, put the optimizer file back into ``checkpoint``; warn
        when CLIP now comes from other weights than in training."""
        name = (checkpoint.get('meta') or {}).get('optimizer_file')
        resumed = resumed_path(runner) if name else None
        if resumed is not None and 'optimizer' not in checkpoint:
            try:
                checkpoint['optimizer'] = load_sidecar(resumed, name)
            except MissingOptimizerStateError as err:
                if not self.resume_without_optimizer:
                    raise
                print_log(f'{err} Resuming without it: the optimizer state '
                          'starts afresh.', 'current', logging.WARNING)
        saved = (checkpoint.get('meta') or {}).get('omitted_frozen_clip')
        if not saved:
            return
        now = frozen_clip_prefixes(runner.model, with_random=True)
        differ = {k: (v, now.get(k)) for k, v in saved.items()
                  if now.get(k) != v}
        if differ:
            print_log(
                'The checkpoint leaves CLIP out and was trained with other '
                'CLIP weights than this model loads: ' + '; '.join(
                    f'{k}: trained with {a!r}, now {b!r}'
                    for k, (a, b) in differ.items()) +
                '. Results may differ; set `pretrained` as in training.',
                'current', logging.WARNING)

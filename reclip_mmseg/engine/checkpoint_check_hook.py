"""A checkpoint must fit the model it is loaded into, or the run stops."""
import re
from typing import List

from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmseg.registry import HOOKS

from ..models.utils.frozen_clip import frozen_clip_prefixes


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model."""


def _listing(keys: List[str], limit: int = 8) -> str:
    keys = sorted(keys)
    more = f' ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def checkpoint_mismatch(model, state_dict: dict) -> dict:
    """Missing, unexpected and mis-shaped keys of ``state_dict`` for
    ``model`` (``module.`` prefixes removed, as mmengine does)."""
    state_dict = {
        re.sub(r'^module\.', '', k): v
        for k, v in state_dict.items()
    }
    own = model.state_dict()
    # frozen CLIP towers that `pretrained` rebuilds may be left out
    omittable = tuple(frozen_clip_prefixes(model))
    return dict(
        missing=sorted(k for k in own if k not in state_dict
                       and not (omittable and k.startswith(omittable))),
        unexpected=sorted(set(state_dict) - set(own)),
        shape=sorted(f'{k} (checkpoint {tuple(v.shape)}, model '
                     f'{tuple(own[k].shape)})' for k, v in state_dict.items()
                     if k in own and hasattr(v, 'shape')
                     and tuple(v.shape) != tuple(own[k].shape)))


@HOOKS.register_module()
class CheckpointCheckHook(Hook):
    """Stop when a loaded checkpoint does not fit the model.

    mmengine loads ``load_from``, ``--resume`` and ``tools/test.py``'s
    checkpoint with ``strict=False``: a checkpoint of another config (a
    ReCLIP++ checkpoint in a MaskCLIP model, a tiny-CLIP one in the toy
    model) only logs warnings and the run reports metrics of weights it
    never loaded. This hook raises :class:`CheckpointMismatchError` naming
    the missing, unexpected and mis-shaped keys, the file and the run that
    wrote it. Frozen CLIP towers built from a ``pretrained`` tag or file may
    be absent (slim checkpoints, see
    :mod:`reclip_mmseg.models.utils.frozen_clip`); random ones
    (``pretrained=None``) may not. To load such a checkpoint anyway, set the
    config key ``checkpoint_strict = False``.
    """

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not runner.cfg.get('checkpoint_strict', True):
            return
        model = runner.model  # unwrap DDP and TTA, as Runner.load_checkpoint
        while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
            model = model.module
        state_dict = checkpoint.get('state_dict', checkpoint)
        found = checkpoint_mismatch(model, state_dict)
        if not any(found.values()):
            return
        meta = checkpoint.get('meta') or {}
        origin = meta.get('experiment_name')
        origin = f' (written by run {origin})' if origin else ''
        try:
            from ..safe_checkpoint import checkpoint_to_load
            path = checkpoint_to_load(runner.cfg)
        except Exception:  # noqa: BLE001  (the name is only a courtesy)
            path = None
        origin = (f' {path}' if path else '') + origin
        parts = [
            f'{len(v)} {what}: {_listing(v)}'
            for what, v in (('missing', found['missing']),
                            ('unexpected', found['unexpected']),
                            ('with another shape', found['shape'])) if v
        ]
        raise CheckpointMismatchError(
            f'the checkpoint{origin} does not fit '
            f'{type(model).__name__} of this config: ' + '; '.join(parts) +
            '. It probably comes from another config (model or CLIP). Load '
            'a checkpoint of this config, or, to load the matching keys '
            'only, set --cfg-options checkpoint_strict=False.')

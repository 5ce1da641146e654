"""Frozen CLIP weights that checkpoints may omit: ``pretrained`` rebuilds them.

A ReCLIP++ model is ~150 M frozen CLIP parameters and ~0.7 M trained ones.
A frozen tower built from ``pretrained`` (a tag or a file) is marked with
:func:`omit_in_checkpoints`:

* saving: :func:`slim_state_dict` drops its keys (``SlimCheckpointHook`` does
  so for every checkpoint a Runner writes, unless ``full=True``);
* loading: a state dict that holds none of its keys keeps the weights that
  ``pretrained`` gave it, in every loader (``torch``'s ``load_state_dict``,
  mmengine's ``load_checkpoint``, so ``--resume``, ``tools/test.py``,
  ``init_model``, ``MMSegInferencer``), also with ``strict=True``. A state
  dict that holds its keys (a full checkpoint) loads them as usual.

A tower with ``pretrained=None`` (random weights) is never omitted: nothing
could rebuild it, so its weights stay in the checkpoint.
"""
from typing import Dict, Optional

import torch.nn as nn

__all__ = ['omit_in_checkpoints', 'frozen_clip_prefixes', 'slim_state_dict']

_ATTR = '_reclip_pretrained'


def _keep_pretrained_weights(module, state_dict, prefix, *args) -> None:
    """Load pre-hook: a state dict without any of ``module``'s keys gets
    its current (pretrained) tensors, so nothing is reported missing."""
    if not getattr(module, _ATTR, None):
        return
    own = module.state_dict(prefix=prefix, keep_vars=False)
    if own and not any(key in state_dict for key in own):
        state_dict.update(own)


def omit_in_checkpoints(module: nn.Module, pretrained: Optional[str]) -> None:
    """Mark ``module`` (a frozen CLIP tower) as rebuilt from ``pretrained``.

    Args:
        module (nn.Module): The frozen tower.
        pretrained (str, optional): Where its weights came from; None (random
            weights) keeps them in every checkpoint.
    """
    setattr(module, _ATTR, pretrained)
    module._register_load_state_dict_pre_hook(
        _keep_pretrained_weights, with_module=True)


def frozen_clip_prefixes(model: nn.Module,
                         with_random: bool = False) -> Dict[str, str]:
    """``{state-dict prefix: pretrained}`` of the towers a checkpoint may
    omit (marked, with ``pretrained`` set; ``with_random``: also those with
    ``pretrained=None``)."""
    model = getattr(model, 'module', model)  # DDP and other wrappers
    return {
        f'{name}.' if name else '': getattr(module, _ATTR)
        for name, module in model.named_modules()
        if hasattr(module, _ATTR) and (with_random or getattr(module, _ATTR))
    }


def slim_state_dict(state_dict: dict, model: nn.Module) -> dict:
    """``state_dict`` without the keys of :func:`frozen_clip_prefixes`."""
    prefixes = tuple(frozen_clip_prefixes(model))
    if not prefixes:
        return state_dict
    slim = type(state_dict)(
        (k, v) for k, v in state_dict.items() if not k.startswith(prefixes))
    if hasattr(state_dict, '_metadata'):
        slim._metadata = state_dict._metadata
    return slim

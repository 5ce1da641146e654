"""Convert a checkpoint released with ReCLIP++ (GitHub dogehhh/ReCLIP).

A released checkpoint is ``torch.save(model.state_dict())`` of the
DDP-wrapped ``RECLIPPP``: a flat dict whose keys all start with ``module.``.
Its trained part maps onto :class:`BiasRectificationHead` one key at a time
(:data:`TRAINED_KEYS`); everything else is a frozen copy of OpenAI's CLIP
(:data:`FROZEN_CLIP`), which the converted checkpoint leaves out (``pretrained``
rebuilds it; see :mod:`reclip_mmseg.models.utils.frozen_clip`) or, with
``with_clip=True``, takes from the copy the release holds (``module.clip.*``).
Like timm's ``_convert_openai_clip``: a table, and anything the table does not
know raises.
"""
from collections import OrderedDict
from typing import Callable, Dict, Mapping, Optional, Tuple

import torch
from torch import Tensor

__all__ = [
    'TRAINED_KEYS', 'FROZEN_CLIP', 'CLIP_TO_MODEL',
    'convert_official_checkpoint'
]

PREFIX = 'module.'


def _same(x: Tensor) -> Tensor:
    return x


def _drop_batch_dim(x: Tensor) -> Tensor:
    """``(1, M, D)`` released prompt_token -> ``(M, D)`` Reference ctx."""
    if x.dim() != 3 or x.shape[0] != 1:
        raise ValueError(f'prompt_token must be (1, M, D), got {tuple(x.shape)}')
    return x[0]


#: Released key (without ``module.``) -> (our key, transform).
TRAINED_KEYS: Dict[str, Tuple[str, Callable[[Tensor], Tensor]]] = {
    'text_encoder.prompt_token': ('decode_head.reference.ctx',
                                  _drop_batch_dim),
    'pe_proj.weight': ('decode_head.pos_proj.weight', _same),
    'pe_proj.bias': ('decode_head.pos_proj.bias', _same),
    'decoder_conv2.weight': ('decode_head.conv_seg.weight', _same),
    'decoder_conv2.bias': ('decode_head.conv_seg.bias', _same),
    **{
        f'decoder_norm2.{name}': (f'decode_head.norm.{name}', _same)
        for name in ('weight', 'bias', 'running_mean', 'running_var',
                     'num_batches_tracked')
    },
}

#: Frozen CLIP copies in a release: (key prefixes, exact keys).
FROZEN_CLIP = (
    ('vit.', 'clip.', 'text_encoder.transformer.',
     'text_encoder.token_embedding.', 'text_encoder.ln_final.'),
    ('proj.weight', 'logit_scale', 'text_encoder.positional_embedding',
     'text_encoder.text_projection'),
)

#: ``with_clip``: released ``clip.`` key prefix -> our prefixes (OpenAI's
#: CLIP and open_clip's ``CLIP`` share key names).
CLIP_TO_MODEL = (
    ('clip.visual.', 'backbone.visual.'),
    ('clip.transformer.', 'decode_head.text_encoder.transformer.'),
    ('clip.token_embedding.', 'decode_head.text_encoder.token_embedding.'),
    ('clip.positional_embedding',
     'decode_head.text_encoder.positional_embedding'),
    ('clip.ln_final.', 'decode_head.text_encoder.ln_final.'),
    ('clip.text_projection', 'decode_head.text_encoder.text_projection'),
)
_CLIP_UNUSED = ('clip.logit_scale', )


def _is_frozen(key: str) -> bool:
    prefixes, exact = FROZEN_CLIP
    return key in exact or key.startswith(prefixes)


def convert_official_checkpoint(
        released: Mapping[str, Tensor],
        *,
        num_classes: Optional[int] = None,
        with_clip: bool = False) -> 'OrderedDict[str, Tensor]':
    """Released ``RECLIPPP`` state dict -> this package's state dict.

    Args:
        released (Mapping[str, Tensor]): The released checkpoint as loaded
            (keys ``module.*``; a dict with a ``state_dict`` entry is also
            accepted).
        num_classes (int, optional): K of the config it is for; a decoder
            with another class count raises.
        with_clip (bool): Also convert the release's CLIP copy
            (``module.clip.*``) into the backbone and text tower (a full
            checkpoint). Default: leave CLIP out, ``pretrained`` rebuilds it.

    Returns:
        OrderedDict[str, Tensor]: Keys of ``ReCLIPPlusPlus``'s state dict.

    Raises:
        KeyError: Keys without ``module.``, keys the tables do not know, or
            trained keys that are missing; each named.
        ValueError: A class count other than ``num_classes``.
    """
    if 'state_dict' in released and not torch.is_tensor(
            released['state_dict']):
        released = released['state_dict']
    unprefixed = sorted(k for k in released if not k.startswith(PREFIX))
    if unprefixed:
        raise KeyError(f'not a released ReCLIP++ checkpoint: keys without '
                       f'{PREFIX!r}: {unprefixed[:5]}')
    state = {k[len(PREFIX):]: v for k, v in released.items()}
    unknown = sorted(PREFIX + k for k in state
                     if k not in TRAINED_KEYS and not _is_frozen(k))
    if unknown:
        raise KeyError(f'unknown keys in the released checkpoint: {unknown}')
    missing = sorted(PREFIX + k for k in TRAINED_KEYS if k not in state)
    if missing:
        raise KeyError(f'released checkpoint lacks trained keys: {missing}')

    found = state['decoder_conv2.weight'].shape[0]
    if num_classes is not None and found != num_classes:
        raise ValueError(
            f'the released checkpoint has {found} classes '
            f'(module.decoder_conv2.weight {tuple(state["decoder_conv2.weight"].shape)}) '
            f'but the config has {num_classes}')

    out = OrderedDict()
    for key, (ours, transform) in TRAINED_KEYS.items():
        out[ours] = transform(state[key]).clone()
    if with_clip:
        clip_keys = [k for k in state if k.startswith('clip.')]
        if not clip_keys:
            raise KeyError('with_clip: the released checkpoint has no '
                           'module.clip.* copy of CLIP')
        for key in clip_keys:
            for src, dst in CLIP_TO_MODEL:
                if key.startswith(src):
                    out[dst + key[len(src):]] = state[key].float().clone()
                    break
            else:
                if key not in _CLIP_UNUSED:
                    raise KeyError(f'with_clip: no rule for {PREFIX + key}')
    return out

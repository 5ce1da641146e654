"""The one CLIP of a segmentor: its setting (``model.clip``) and the model.

A CLIP segmentor is configured with ONE CLIP setting,
``model.clip=dict(model=..., pretrained=..., cache_dir=...)``, built once
(:func:`get_clip`); the backbone takes its visual tower and the decode head its
text tower from that one model, so they cannot disagree. The backbone and the
head also accept a setting of their own when built alone (tests, tools).
"""
from typing import NamedTuple, Optional, Union

import open_clip

from .clip_loader import build_clip

__all__ = ['BuiltCLIP', 'clip_setting', 'get_clip', 'refuse_own_clip']

#: The keys of a CLIP setting and their defaults.
CLIP_DEFAULTS = dict(model='ViT-B-16', pretrained='openai', cache_dir=None)

#: The per-module keys that the one ``model.clip`` setting replaced.
MOVED_KEYS = ('clip_model', 'pretrained', 'cache_dir', 'clip')


class BuiltCLIP(NamedTuple):
    """A built CLIP and the setting it was built from.

    Attributes:
        model (open_clip.CLIP): Both towers, fp32, eval mode, on CPU.
        setting (dict): ``model`` (open_clip name or ``CLIP`` kwargs),
            ``pretrained`` (tag, local file or None), ``cache_dir``.
    """
    model: open_clip.CLIP
    setting: dict


def clip_setting(clip: Optional[dict], where: str = 'model.clip') -> dict:
    """``clip`` with its defaults filled in; an unknown key raises, naming it.

    Args:
        clip (dict, optional): ``model``, ``pretrained``, ``cache_dir``.
        where (str): The config key it came from, for error messages.
    """
    clip = dict(clip or {})
    unknown = sorted(set(clip) - set(CLIP_DEFAULTS))
    if unknown:
        hint = ("; 'clip_model' is now 'model'"
                if 'clip_model' in unknown else '')
        raise KeyError(f'{where} has unknown key(s) {unknown}; a CLIP '
                       f'setting has {sorted(CLIP_DEFAULTS)}{hint}')
    return {**CLIP_DEFAULTS, **clip}


def get_clip(clip: Union[None, dict, BuiltCLIP],
             where: str = 'model.clip') -> BuiltCLIP:
    """The :class:`BuiltCLIP` of ``clip``: itself if already built, else
    built from the setting (one ``open_clip.CLIP`` construction)."""
    if isinstance(clip, BuiltCLIP):
        return clip
    setting = clip_setting(clip, where)
    model = build_clip(setting['model'], setting['pretrained'],
                       cache_dir=setting['cache_dir'])
    return BuiltCLIP(model, setting)


def refuse_own_clip(cfg: dict, where: str) -> None:
    """Raise if a backbone/head config inside a segmentor sets its own CLIP:
    the segmentor's ``model.clip`` is the one setting."""
    found = [k for k in MOVED_KEYS if k in cfg]
    if found:
        raise ValueError(
            f'{where}.{found[0]} is set, but the CLIP is configured once, '
            'for backbone and head together: move it to model.clip='
            "dict(model=..., pretrained=..., cache_dir=...) (e.g. "
            '--cfg-options model.clip.pretrained=/path/ViT-B-16.pt; '
            "'clip_model' is now model.clip.model)")

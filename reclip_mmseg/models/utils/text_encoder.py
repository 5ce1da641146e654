"""Frozen CLIP text tower and the fixed Query text features (ReCLIP++ Sec. 3).
"""
import sys
import time
from typing import Callable, List, Optional, Sequence, Union

import open_clip
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from open_clip.zero_shot_classifier import build_zero_shot_classifier
from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES
from torch import Tensor

from .clip_loader import build_tokenizer
from .clip_setting import BuiltCLIP, get_clip
from .frozen_clip import omit_in_checkpoints

#: Seconds of text encoding after which build_query_features shows progress.
QUERY_PROGRESS_AFTER_S = 3.0

__all__ = [
    'CLIPTextEncoder', 'build_query_features', 'RECLIP_TEMPLATES',
    'SCENE_TEMPLATES'
]

#: The five scene templates the released ReCLIP++ code adds to CLIP's 80.
SCENE_TEMPLATES = (
    lambda c: f'there is a {c} in the scene.',
    lambda c: f'there is the {c} in the scene.',
    lambda c: f'this is a {c} in the scene.',
    lambda c: f'this is the {c} in the scene.',
    lambda c: f'this is one {c} in the scene.',
)

#: CLIP's 80 ImageNet templates + 5 scene templates (85, METHOD.md Sec. 2).
RECLIP_TEMPLATES = tuple(OPENAI_IMAGENET_TEMPLATES) + SCENE_TEMPLATES

ClassName = Union[str, Sequence[str]]


class CLIPTextEncoder(nn.Module):
    """The text tower of an open_clip ``CLIP`` model, frozen, in eval mode.

    Holds the text modules under open_clip's attribute names, so
    :meth:`encode_text` is open_clip's own; :meth:`encode_embeddings` runs the
    same tower on token embeddings (learnable prompts).

    Args:
        clip (dict | BuiltCLIP): The CLIP whose text tower this takes: a
            built one (the segmentor's) or a setting ``dict(model=...,
            pretrained=..., cache_dir=...)`` (:func:`.get_clip`).
    """

    def __init__(self, clip: Union[dict, BuiltCLIP, None] = None):
        super().__init__()
        built = get_clip(clip, 'model.decode_head.clip')
        clip = built.model
        if not isinstance(clip, open_clip.CLIP):
            raise ValueError('CLIPTextEncoder needs an open_clip CLIP with '
                             f'the built-in text tower, got {type(clip)}')
        for name in ('token_embedding', 'positional_embedding', 'transformer',
                     'ln_final', 'text_projection'):
            setattr(self, name, getattr(clip, name))
        self.register_buffer('attn_mask', clip.attn_mask, persistent=False)
        self.text_pool_type = clip.text_pool_type
        self.text_eos_id = getattr(clip, 'text_eos_id', None)
        if self.text_pool_type != 'argmax':
            raise ValueError('CLIPTextEncoder reads features at the EOT token '
                             "(text_pool_type='argmax'), got "
                             f'{self.text_pool_type!r}')
        self.context_length = clip.context_length
        self.tokenizer = build_tokenizer(built.setting['model'])
        self.clip_setting = built.setting
        self.requires_grad_(False).eval()
        # checkpoints may omit the tower: `pretrained` rebuilds it
        omit_in_checkpoints(self, built.setting['pretrained'])

    def train(self, mode: bool = True):
        """Stay in eval mode: the tower is frozen."""
        return super().train(False)

    @property
    def embed_dim(self) -> int:
        return self.text_projection.shape[-1]

    def tokenize(self, texts: Union[str, List[str]]) -> Tensor:
        """Token ids ``(N, context_length)`` on the tower's device."""
        return self.tokenizer(texts).to(self.token_embedding.weight.device)

    def encode_text(self, text: Tensor, normalize: bool = False) -> Tensor:
        """open_clip's ``CLIP.encode_text``: ``(N, L)`` ids -> ``(N, D)``."""
        return open_clip.CLIP.encode_text(self, text, normalize=normalize)

    def encode_embeddings(self, embeddings: Tensor,
                          eot_index: Tensor) -> Tensor:
        """Encode token embeddings, reading the feature at the EOT position.

        Args:
            embeddings (Tensor): ``(N, L, C)`` token embeddings (L = context
                length, C = text width), positions not yet added.
            eot_index (Tensor): ``(N,)`` EOT position of each sequence.

        Returns:
            Tensor: ``(N, D)``, not normalised.
        """
        # open_clip's encode_text after its token lookup (it takes ids only;
        # learnable prompts are embeddings), read at the given EOT position.
        cast_dtype = self.transformer.get_cast_dtype()
        x = embeddings.to(cast_dtype) + self.positional_embedding.to(
            cast_dtype)
        x = self.ln_final(self.transformer(x, attn_mask=self.attn_mask))
        x = x[torch.arange(x.shape[0], device=x.device), eot_index]
        if isinstance(self.text_projection, nn.Linear):
            return self.text_projection(x)
        return x @ self.text_projection


def _synonyms(name: ClassName) -> List[str]:
    names = [name] if isinstance(name, str) else list(name)
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError(f'class name must be a non-empty string or a list of '
                         f'non-empty strings (synonyms), got {name!r}')
    return names


@torch.no_grad()
def build_query_features(
        text_encoder: CLIPTextEncoder,
        class_names: Sequence[ClassName],
        templates: Sequence[Union[str, Callable]] = RECLIP_TEMPLATES,
        classes_per_batch: Optional[int] = 10) -> Tensor:
    """Fixed Query text features: a template ensemble per class.

    Per name: encode every template, L2-normalise each, average, L2-normalise
    (open_clip's ``build_zero_shot_classifier``). A class given as a list of
    synonyms averages its names' features and L2-normalises again; with one
    name this is the plain ensemble.

    Args:
        text_encoder (CLIPTextEncoder): Frozen CLIP text tower.
        class_names (Sequence[str | Sequence[str]]): K class names, each a
            string or a list of synonyms.
        templates (Sequence[str | Callable]): Prompt templates, format
            strings with ``{}`` or callables. Defaults to the 85 ReCLIP++
            templates.
        classes_per_batch (int, optional): Names encoded per text batch.

    When encoding takes longer than ``QUERY_PROGRESS_AFTER_S`` seconds (e.g.
    20 x 85 prompts through ViT-B/16's text tower on a CPU: ~1.5 min), a
    progress bar with the classes done and an ETA is shown.

    Returns:
        Tensor: ``(K, D)``, unit rows.
    """
    groups = [_synonyms(name) for name in class_names]
    flat = [name for group in groups for name in group]
    step = classes_per_batch or len(flat)
    chunks, bar, start = [], None, time.time()
    for first in range(0, len(flat), step):
        chunks.append(
            build_zero_shot_classifier(
                text_encoder,
                text_encoder.tokenizer,
                flat[first:first + step],
                list(templates),
                num_classes_per_batch=None,
                device=text_encoder.token_embedding.weight.device).T)
        done = min(first + step, len(flat))
        # a bar (classes done, rate, ETA) once it has taken a few seconds
        if (bar is None and done < len(flat) and
                time.time() - start > QUERY_PROGRESS_AFTER_S):
            print_log(
                f'Query features: {len(flat)} class names x '
                f'{len(templates)} templates through the CLIP text tower',
                'current')
            bar = ProgressBar(len(flat), file=sys.stdout)
            bar.timer._t_start = start  # rate and ETA count from the start
            bar.completed = done - step
        if bar is not None:
            bar.update(done - bar.completed)
    if bar is not None:
        sys.stdout.write('\n')
    weights = torch.cat(chunks)
    if len(flat) == len(groups):
        return weights
    group_index = torch.tensor(
        [i for i, group in enumerate(groups) for _ in group],
        device=weights.device)
    summed = weights.new_zeros(len(groups), weights.shape[1])
    summed.index_add_(0, group_index, weights)
    return F.normalize(summed, dim=-1)

from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .text_encoder import CLIPTextEncoder, _synonyms


@MODELS.register_module()
class ReferencePromptLearner(nn.Module):
    """Learnable Reference prompt: the class-preference bias (ReCLIP++ Sec. 3).

    CoOp-style: M learnable context embeddings shared by all classes, followed
    by each class name's tokens, ``[SOT] + ctx_1..ctx_M + name + [EOT] + pad``,
    ``context_length`` tokens in all, encoded by the frozen CLIP text tower
    and read at the EOT position. Only the context is trainable.

    Released-code defaults: ``num_context = context_length - 1 - name_slots``
    with 3 name slots (M = 73 for CLIP), context initialised to the embedding
    of token id 0, and the ``(K, D)`` matrix divided by ONE global Frobenius
    norm (needed to load released checkpoints). ``normalize='per_class'``
    L2-normalises each row instead.

    Args:
        text_encoder (CLIPTextEncoder): Frozen CLIP text tower.
        class_names (Sequence[str | Sequence[str]]): K class names; a class
            given as a list of synonyms uses its first name here.
        name_slots (int, optional): Token slots after the context for the
            name, its EOT and padding. A name whose tokens + EOT do not fit
            raises. None (default): 3 as released, or just enough for the
            longest name (+ EOT) if that needs more (e.g. ADE-150's
            'chest of drawers').
        num_context (int, optional): M. Defaults to
            ``context_length - 1 - name_slots``; if given, ``name_slots`` is
            ``context_length - 1 - num_context``.
        ctx_init (str, optional): Initialise the context from the token
            embeddings of this text (its token count sets M); None uses the
            embedding of token id 0 (released code).
        normalize (str): ``'global'`` (Frobenius, released) or
            ``'per_class'`` (L2 per row) or ``'none'``.
    """

    def __init__(self,
                 text_encoder: CLIPTextEncoder,
                 class_names: Sequence[str],
                 name_slots: Optional[int] = None,
                 num_context: Optional[int] = None,
                 ctx_init: Optional[str] = None,
                 normalize: str = 'global'):
        super().__init__()
        if normalize not in ('global', 'per_class', 'none'):
            raise ValueError("normalize must be 'global', 'per_class' or "
                             f"'none', got {normalize!r}")
        self.normalize = normalize
        # A plain attribute, not a submodule: the frozen tower is owned (and
        # saved) by whoever built it.
        self.__dict__['text_encoder'] = text_encoder
        length = text_encoder.context_length
        embedding = text_encoder.token_embedding

        # A class given as synonyms is named by its first name (the
        # canonical one, as in mmseg's metainfo); the Query features average
        # all synonyms (build_query_features).
        names = [_synonyms(name)[0] for name in class_names]
        tokens = text_encoder.tokenize(names)
        eot = tokens.argmax(dim=-1)  # EOT has the largest id
        # SOT + >= 1 context token leave length - 2 slots for name + EOT (a
        # name the tokenizer truncated ends at the last slot).
        too_long = [n for n, e in zip(names, eot) if e > length - 2]
        if too_long:
            raise ValueError(
                f'class names too long for the {length}-token CLIP prompt '
                f'(SOT + context + name + EOT): {too_long}; a name may have '
                f'at most {length - 3} tokens. Shorten these class names.')
        if name_slots is None:
            name_slots = max(3, int(eot.max()))

        init_embeds = None
        if ctx_init is not None:
            ids = text_encoder.tokenize([ctx_init])[0]
            n = int(ids.argmax()) - 1  # tokens between SOT and EOT
            if num_context is not None and num_context != n:
                raise ValueError(f'ctx_init {ctx_init!r} has {n} tokens but '
                                 f'num_context={num_context}')
            num_context = n
            init_embeds = embedding(ids[1:1 + n])
        if num_context is None:
            num_context = length - 1 - name_slots
        name_slots = length - 1 - num_context
        if num_context < 1 or name_slots < 2:
            raise ValueError(
                f'num_context={num_context} leaves {name_slots} name slots in '
                f'a {length}-token prompt; need >= 1 context and >= 2 slots')
        self.num_context = num_context
        if init_embeds is None:
            zero = torch.zeros(1, dtype=torch.long, device=embedding.weight.device)
            init_embeds = embedding(zero).expand(num_context, -1)
        self.ctx = nn.Parameter(init_embeds.detach().clone().float())

        too_long = [(n, int(e)) for n, e in zip(names, eot) if e > name_slots]
        if too_long:
            raise ValueError(
                f'class names do not fit in {name_slots} name slots (tokens '
                f'+ EOT): {too_long}; raise name_slots or lower num_context')
        # Token ids only: their embeddings are looked up in the text tower at
        # every forward, so they always come from the CLIP in use (e.g. the
        # one a checkpoint loaded), never from the CLIP this module was
        # built with.
        self.register_buffer('prompt_tokens', tokens[:, :1 + name_slots],
                             persistent=False)
        self.register_buffer('eot_index', eot + num_context, persistent=False)

    @property
    def num_classes(self) -> int:
        return self.prompt_tokens.shape[0]

    @property
    def token_prefix(self) -> Tensor:
        """SOT embedding ``(K, 1, C)`` from the current token embedding."""
        return self.text_encoder.token_embedding(self.prompt_tokens[:, :1])

    @property
    def token_suffix(self) -> Tensor:
        """Name (+ EOT, padding) embeddings ``(K, name_slots, C)``."""
        return self.text_encoder.token_embedding(self.prompt_tokens[:, 1:])

    def forward_features(self) -> Tensor:
        """Unnormalised Reference features ``(K, D)``."""
        embeds = self.text_encoder.token_embedding(self.prompt_tokens)
        k = self.num_classes
        ctx = self.ctx.to(embeds.dtype).unsqueeze(0).expand(k, -1, -1)
        prompts = torch.cat([embeds[:, :1], ctx, embeds[:, 1:]], 1)
        return self.text_encoder.encode_embeddings(prompts, self.eot_index)

    def forward(self) -> Tensor:
        """Reference features ``(K, D)``, normalised per ``normalize``."""
        feats = self.forward_features()
        if self.normalize == 'global':
            return feats / feats.norm()
        if self.normalize == 'per_class':
            return F.normalize(feats, dim=-1)
        return feats

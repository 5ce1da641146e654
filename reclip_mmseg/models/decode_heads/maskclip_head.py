from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType
from torch import Tensor

from ..postprocess import PD_MOVED
from ..utils import (RECLIP_TEMPLATES, BuiltCLIP, CLIPTextEncoder,
                     build_query_features, resolve_class_names)


@MODELS.register_module()
class MaskCLIPHead(BaseDecodeHead):
    """Training-free MaskCLIP head: cosine similarity with Query features.

    The Query features (85-template ensemble per class, Sec. 3 of ReCLIP++)
    depend only on the frozen text tower and the class names: they are
    computed once, at first use on a device, and reused (no text-encoder pass
    per image). Input is the backbone's :class:`CLIPFeatures`.

    Args:
        class_names (str | Sequence): Class names (each a string or a list of
            synonyms) or the registry name of a dataset to take them from.
        clip (dict | BuiltCLIP): The CLIP whose text tower the head uses:
            inside a segmentor, the one it built from ``model.clip`` (set
            there, not here, so it is the backbone's); alone, a setting
            ``dict(model=..., pretrained=..., cache_dir=...)``.
        in_channels (int): CLIP embedding dim D. Defaults to 512.
        num_classes (int, optional): K; defaults to ``len(class_names)`` and
            must equal it if given.
        templates (Sequence): Prompt templates. Defaults to the 85 ReCLIP++
            templates.
        synonym_queries (bool): Give one logit per synonym (each synonym its
            own query, Q >= K outputs, as SCLIP/ClearCLIP/NACLIP) instead of
            one per class with its synonyms' features averaged; the peers'
            ``SynonymSoftmax`` step then takes the max over each class's
            synonyms. Defaults to False.
    """

    def __init__(self,
                 *,
                 class_names: Union[str, Sequence],
                 clip: Union[dict, BuiltCLIP, None] = None,
                 in_channels: int = 512,
                 num_classes: Optional[int] = None,
                 templates: Sequence = RECLIP_TEMPLATES,
                 synonym_queries: bool = False,
                 **kwargs):
        if 'pd_threshold' in kwargs:
            raise ValueError(PD_MOVED)
        names = resolve_class_names(class_names)
        if num_classes is not None and num_classes != len(names):
            raise ValueError(
                f'{type(self).__name__}: num_classes={num_classes} does not '
                f'match the {len(names)} class_names {names}')
        if synonym_queries:  # one query per synonym, in order
            names = [q for n in names
                     for q in ([n] if isinstance(n, str) else n)]
        self.synonym_queries = synonym_queries
        kwargs.setdefault('channels', in_channels)
        kwargs.setdefault('in_index', 0)  # CLIPFeatures.dense
        kwargs.setdefault('dropout_ratio', 0.0)
        kwargs.setdefault('init_cfg', None)
        super().__init__(
            in_channels=in_channels, num_classes=len(names), **kwargs)
        del self.conv_seg  # MaskCLIP has no learnable classifier
        self.class_names = names
        self.templates = tuple(templates)
        self.text_encoder = CLIPTextEncoder(clip)
        if self.text_encoder.embed_dim != in_channels:
            raise ValueError(
                f'in_channels={in_channels} but the CLIP text embedding dim '
                f'is {self.text_encoder.embed_dim}')
        self._query_cache = {}
        self._query_weights = None

    @property
    def query_features(self) -> Tensor:
        """Query text features ``(K, D)`` on the text tower's device."""
        device = self.text_encoder.token_embedding.weight.device
        # Also recomputed when the text tower's weights change (a checkpoint
        # loaded into them in place bumps their versions): the features
        # always come from the CLIP in use.
        weights = tuple(
            (id(p), p._version) for p in self.text_encoder.parameters())
        if self._query_weights not in (None, weights):
            self._query_cache = {}
        self._query_weights = weights
        if device not in self._query_cache:
            # A constant: always in the text tower's own precision, even if
            # first used under autocast (bf16 first must not change fp32).
            with torch.autocast(device.type, enabled=False):
                self._query_cache = {
                    device:
                    build_query_features(self.text_encoder,
                                         self.class_names, self.templates)
                }
        return self._query_cache[device]

    def query_logits(self, dense: Tensor) -> Tensor:
        """Cosine similarity ``(B, K, h, w)`` of ``(B, D, h, w)`` features."""
        return torch.einsum('bdhw,kd->bkhw', dense,
                            self.query_features.to(dense.dtype))

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        return self.query_logits(inputs.dense)

    def predict_logits(self, inputs: Tuple[Tensor, ...],
                       test_cfg: ConfigType) -> Tensor:
        """Logits ``(B, K, h, w)`` that :meth:`predict` post-processes."""
        return self.forward(inputs)

    def predict(self, inputs: Tuple[Tensor, ...], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Logits resized to the input. Post-processing is the segmentor's
        (``test_cfg.postprocess``, run in its ``encode_decode``)."""
        return self.resize_logits(
            self.predict_logits(inputs, test_cfg), batch_img_metas)

    def resize_logits(self, logits: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """``(B, K, h, w)`` logits resized as ``predict_by_feat`` does."""
        # Channels-last: the bilinear upsampling to image size and the
        # per-pixel argmax over K in post-processing run ~2.5x faster on CPU
        # (README "Speed"); values are unchanged up to float rounding.
        logits = logits.contiguous(memory_format=torch.channels_last)
        return self.predict_by_feat(logits, batch_img_metas)

    def loss(self, inputs, batch_data_samples, train_cfg) -> dict:
        raise RuntimeError(
            'MaskCLIPHead is training-free: evaluate it with tools/test.py '
            '(no checkpoint needed); train BiasRectificationHead instead')



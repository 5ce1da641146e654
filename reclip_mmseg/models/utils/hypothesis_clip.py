"""What a hypothesis generator may use of the segmentor: a narrow view.

Generators never see the segmentor itself; they get a :class:`HypothesisCLIP`
(Query features, CLIP's global embedding of image crops, the backbone's dense
features of a whole image, the data preprocessor's public colour settings and
the CLIP setting the fingerprint names). :func:`hypothesis_clip` is the one place that knows the segmentor's
anatomy.
"""
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

import torch
from torch import Tensor


@dataclass(frozen=True)
class HypothesisCLIP:
    """The frozen CLIP as a hypothesis generator sees it.

    Attributes:
        query_features (Callable[[], Tensor]): Query text features ``(K, D)``
            (L2-normalised, cached by the head).
        encode_crops (Callable[[Tensor], Tensor]): CLIP's global image
            embedding ``(N, D)`` (not normalised) of normalised crops
            ``(N, 3, S, S)``.
        mean (Tensor, optional): ``(3, 1, 1)`` the data preprocessor's mean,
            None if it does not normalise.
        std (Tensor, optional): ``(3, 1, 1)`` its std.
        bgr_to_rgb (bool): Whether the preprocessor flips BGR files to RGB.
        device (torch.device): Where images are put.
        clip_model (str | dict): The CLIP setting (fingerprint).
        pretrained (str, optional): Its weights (fingerprint).
        class_names (list): The K class names (fingerprint, index range).
        encode_dense (Callable[[Tensor], Tensor], optional): The backbone's
            dense features ``(N, D, h, w)`` (L2-normalised over D) of
            normalised images ``(N, 3, H, W)``, with whatever last-block
            rule the backbone is configured with. None if it has none.
        dense_setting (dict, optional): What shapes those features beyond
            the CLIP weights (last-block rule, its options, positional
            embedding resize), for the fingerprint of generators that use
            them.
    """
    query_features: Callable[[], Tensor]
    encode_crops: Callable[[Tensor], Tensor]
    mean: Optional[Tensor]
    std: Optional[Tensor]
    bgr_to_rgb: bool
    device: torch.device
    clip_model: Any
    pretrained: Optional[str]
    class_names: List
    encode_dense: Optional[Callable[[Tensor], Tensor]] = None
    dense_setting: Optional[dict] = None


def _clip_setting(segmentor) -> tuple:
    """``(model, pretrained)`` of the segmentor's ONE CLIP
    (``model.clip``; the backbone holds the same setting)."""
    for owner in (segmentor, segmentor.backbone):
        setting = getattr(owner, 'clip_setting', None)
        if setting is not None:
            return setting['model'], setting['pretrained']
    return None, None


def _dense_setting(backbone) -> Optional[dict]:
    """The backbone's last-block rule and positional-embedding resize by
    name (looked up in their tables), or None for a backbone without them.
    """
    from ..backbones import LAST_BLOCK_RULES, POS_EMBED_RESIZERS

    def name(table, fn):
        return next((k for k, v in table.items() if v is fn), None)

    rule = getattr(backbone, 'last_block', None)
    if rule is None:
        return None
    return dict(
        last_block=name(LAST_BLOCK_RULES, rule),
        last_block_cfg=dict(getattr(backbone, 'last_block_cfg', {})),
        pos_embed_resize=name(POS_EMBED_RESIZERS,
                              getattr(backbone, 'resize_pos_embed', None)))


def hypothesis_clip(segmentor) -> HypothesisCLIP:
    """The :class:`HypothesisCLIP` view of a CLIP segmentor (ReCLIP++)."""
    if isinstance(segmentor, HypothesisCLIP):
        return segmentor
    head, backbone = segmentor.decode_head, segmentor.backbone
    pre = segmentor.data_preprocessor
    clip_model, pretrained = _clip_setting(segmentor)
    return HypothesisCLIP(
        query_features=lambda: head.query_features,
        encode_crops=lambda crops: backbone(crops,
                                            return_global=True).global_embed,
        mean=getattr(pre, 'mean', None),
        std=getattr(pre, 'std', None),
        bgr_to_rgb=bool(pre.channel_conversion),
        device=pre.device,
        clip_model=clip_model,
        pretrained=pretrained,
        class_names=list(head.class_names),
        encode_dense=lambda images: backbone(images).dense,
        dense_setting=_dense_setting(backbone))


__all__ = ['HypothesisCLIP', 'hypothesis_clip']

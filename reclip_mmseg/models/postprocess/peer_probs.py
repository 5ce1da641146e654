"""The 2024 peers' post-processing (SCLIP, ClearCLIP, NACLIP), as steps.

Released ``postprocess_result`` of each, in this order on the merged logits
at the original image size: logits x ``logit_scale``, softmax over ALL
queries (each synonym is its own query), max over each class's synonyms,
SCLIP's ``area_thd``, argmax, then pixels whose top probability is below
``prob_thd`` become class 0 (background). See ../shared/PEERS.md.

Steps follow the post-processing chain's contract
``step(seg_logits, inputs, batch_img_metas) -> seg_logits``.
"""
from typing import List, Sequence, Union

import torch
import torch.nn.functional as F
from mmseg.registry import TASK_UTILS
from torch import Tensor

from ..utils import resolve_class_names


def query_class_index(class_names: Union[str, Sequence]) -> Tensor:
    """Class index ``(Q,)`` of each query, synonyms flattened in order.

    Args:
        class_names (str | Sequence): K names, each a string or a list of
            synonyms (or a ``.txt`` file / dataset name, as the heads take).
    """
    index = []
    for k, name in enumerate(resolve_class_names(class_names)):
        index += [k] * (1 if isinstance(name, str) else len(name))
    return torch.tensor(index, dtype=torch.long)


def synonym_softmax(logits: Tensor, class_index: Tensor,
                    logit_scale: float) -> Tensor:
    """``softmax(logit_scale · logits)`` over all Q queries, then the max
    over each class's queries.

    Args:
        logits (Tensor): Query logits ``(B, Q, H, W)``.
        class_index (Tensor): ``(Q,)`` class of each query, values 0..K-1.
        logit_scale (float): Softmax temperature multiplier.

    Returns:
        Tensor: Class probabilities ``(B, K, H, W)``.
    """
    probs = (logits * logit_scale).softmax(1)
    class_index = class_index.to(probs.device)
    num_classes = int(class_index.max()) + 1
    if num_classes == len(class_index):
        return probs  # one query per class: nothing to merge
    onehot = F.one_hot(class_index, num_classes).T.to(probs.dtype)
    return (probs[:, None] * onehot[None, :, :, None, None]).amax(2)


def area_threshold(probs: Tensor, area_thd: float) -> Tensor:
    """SCLIP's ``area_thd``: a foreground class (index >= 1) whose argmax
    area is at most ``area_thd`` times the whole foreground's gets
    probability 0. Per image.

    Args:
        probs (Tensor): ``(B, K, H, W)``.
        area_thd (float): Fraction of the predicted foreground area.

    Returns:
        Tensor: ``(B, K, H, W)``.
    """
    pred = F.one_hot(probs.argmax(1), probs.shape[1])  # (B, H, W, K)
    area = pred[..., 1:].sum((1, 2)).to(probs.dtype)  # (B, K - 1)
    keep = area > area_thd * area.sum(1, keepdim=True)
    out = probs.clone()
    out[:, 1:] *= keep[..., None, None].to(probs.dtype)
    return out


def background_threshold(probs: Tensor, prob_thd: float) -> Tensor:
    """Pixels whose top probability is below ``prob_thd`` become class 0:
    their probabilities are set to one-hot on class 0, so that the argmax
    is 0 there and unchanged elsewhere.

    Args:
        probs (Tensor): ``(B, K, H, W)``, class 0 the background.
        prob_thd (float): Minimum top probability of a kept prediction.

    Returns:
        Tensor: ``(B, K, H, W)``.
    """
    low = probs.amax(1, keepdim=True) < prob_thd
    background = torch.zeros_like(probs)
    background[:, 0] = 1
    return torch.where(low, background, probs)


@TASK_UTILS.register_module()
class SynonymSoftmax:
    """Step: :func:`synonym_softmax`; ``(B, Q, H, W)`` query logits to
    ``(B, K, H, W)`` class probabilities.

    Args:
        logit_scale (float): SCLIP 40-65, ClearCLIP 50, NACLIP 40.
        class_names (str | Sequence): The head's class names, synonyms as
            lists; the head must give one logit per synonym.
    """

    def __init__(self, logit_scale: float, class_names: Union[str,
                                                              Sequence]):
        self.logit_scale = logit_scale
        self.class_index = query_class_index(class_names)

    def __call__(self, seg_logits: Tensor, inputs: Tensor,
                 batch_img_metas: List[dict]) -> Tensor:
        if seg_logits.shape[1] != len(self.class_index):
            raise ValueError(
                f'SynonymSoftmax: {seg_logits.shape[1]} query logits but '
                f'class_names give {len(self.class_index)} queries')
        return synonym_softmax(seg_logits, self.class_index,
                               self.logit_scale)

    def out_channels(self, num_queries: int) -> int:
        return int(self.class_index.max()) + 1

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(logit_scale={self.logit_scale}, '
                f'{len(self.class_index)} queries)')


@TASK_UTILS.register_module()
class AreaThreshold:
    """Step: :func:`area_threshold` (SCLIP, VOC21: 0.1)."""

    def __init__(self, area_thd: float):
        self.area_thd = area_thd

    def __call__(self, seg_logits: Tensor, inputs: Tensor,
                 batch_img_metas: List[dict]) -> Tensor:
        return area_threshold(seg_logits, self.area_thd)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(area_thd={self.area_thd})'


@TASK_UTILS.register_module()
class BackgroundThreshold:
    """Step: :func:`background_threshold` (``prob_thd``; datasets with a
    background class 0)."""

    def __init__(self, prob_thd: float):
        self.prob_thd = prob_thd

    def __call__(self, seg_logits: Tensor, inputs: Tensor,
                 batch_img_metas: List[dict]) -> Tensor:
        return background_threshold(seg_logits, self.prob_thd)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob_thd={self.prob_thd})'

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor


def masked_contrastive_loss(masks: Tensor,
                            feats: Tensor,
                            query: Tensor,
                            hypothesis: Tensor,
                            logit_scale: float = 100.0,
                            reduction: str = 'mean') -> Tensor:
    """Mask-pooled image features classified against the Query text features.

    ReCLIP++ Sec. 3.4 as released: for image b and each class i in its
    hypothesis, ``p_i = mean_{hw}(masks[b, i] * feats[b])`` (divided by
    ``h*w``, not by the mask area), ``logits = logit_scale * p_i @ query.T``,
    cross-entropy with target i, averaged over the image's hypothesised
    classes. Images with an empty hypothesis contribute 0.

    Shape shorthand: B images, K classes, D feature dim, (h, w) grid.

    Args:
        masks (Tensor): ``(B, K, h, w)`` (hard Gumbel) masks.
        feats (Tensor): ``(B, D, h, w)`` dense image features.
        query (Tensor): ``(K, D)`` Query text features.
        hypothesis (Tensor): ``(B, K)`` bool, the classes each image holds.
        logit_scale (float): Multiplier of the logits. Defaults to 100.
        reduction (str): ``'none'`` (per image, ``(B,)``), ``'sum'`` over
            images, or ``'mean'``: the sum divided by B (released code).

    Returns:
        Tensor: Scalar, or ``(B,)`` for ``reduction='none'``.
    """
    b, k = masks.shape[:2]
    if hypothesis.shape != (b, k):
        raise ValueError(f'hypothesis must be (B, K) = {(b, k)}, got '
                         f'{tuple(hypothesis.shape)}')
    pooled = torch.einsum('bkhw,bdhw->bkd', masks, feats) / (
        masks.shape[2] * masks.shape[3])
    logits = logit_scale * pooled @ query.T  # (B, K, K)
    target = torch.arange(k, device=masks.device).expand(b, k)
    ce = F.cross_entropy(
        logits.flatten(0, 1), target.flatten(), reduction='none').view(b, k)
    hypothesis = hypothesis.to(ce.dtype)
    per_image = (ce * hypothesis).sum(1) / hypothesis.sum(1).clamp(min=1)
    if reduction == 'none':
        return per_image
    if reduction == 'sum':
        return per_image.sum()
    if reduction == 'mean':
        return per_image.sum() / b
    raise ValueError(f"reduction must be 'none', 'sum' or 'mean', got "
                     f'{reduction!r}')


def hypothesis_to_mask(hypotheses: Sequence[Sequence[int]], num_classes: int,
                       device=None) -> Tensor:
    """Lists of class indices -> ``(B, K)`` bool mask (range-checked)."""
    mask = torch.zeros(len(hypotheses), num_classes, dtype=torch.bool)
    for i, classes in enumerate(hypotheses):
        classes = [int(c) for c in classes]
        bad = [c for c in classes if not 0 <= c < num_classes]
        if bad:
            raise ValueError(f'hypothesis of image {i} has class indices '
                             f'{bad} outside [0, {num_classes})')
        mask[i, classes] = True
    return mask.to(device)


@MODELS.register_module()
class MaskedContrastiveLoss(nn.Module):
    """Module form of :func:`masked_contrastive_loss`.

    Args:
        logit_scale (float): Logit multiplier. Defaults to 100.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name in the log; must start with ``loss_``.
    """

    def __init__(self,
                 logit_scale: float = 100.0,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_contrast'):
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_' to be "
                             f'back-propagated, got {loss_name!r}')
        self.logit_scale = logit_scale
        self.reduction = reduction
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, masks: Tensor, feats: Tensor, query: Tensor,
                hypothesis: Tensor) -> Tensor:
        return self.loss_weight * masked_contrastive_loss(
            masks, feats, query, hypothesis, self.logit_scale, self.reduction)

    @property
    def loss_name(self) -> str:
        return self._loss_name

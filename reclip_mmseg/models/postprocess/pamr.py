"""PAMR: pixel-adaptive mask refinement (Araslanov & Roth, CVPR 2020)."""
from typing import Iterator, List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS, TASK_UTILS
from torch import Tensor

#: The 8 neighbour offsets of a 3x3 kernel (row-major, centre left out).
_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
            if (dy, dx) != (0, 0)]


def _shifted(x: Tensor, dilations: Sequence[int],
             centre: bool = False) -> Iterator[Tensor]:
    """``x`` ``(B, C, H, W)`` read at each neighbour ``p + d·offset``
    (replicate padding), for every dilation d; with ``centre`` the centre
    tap too, once per dilation (as the released ``LocalStDev``)."""
    h, w = x.shape[-2:]
    offsets = _OFFSETS if not centre else [(dy, dx) for dy in (-1, 0, 1)
                                           for dx in (-1, 0, 1)]
    for d in dilations:
        padded = F.pad(x, [d] * 4, mode='replicate')
        for dy, dx in offsets:
            y0, x0 = d + dy * d, d + dx * d
            yield padded[..., y0:y0 + h, x0:x0 + w]


def pamr_affinity(image: Tensor, dilations: Sequence[int]) -> Tensor:
    """Softmax affinity ``(B, P, H, W)`` of each pixel to its P = 8·|dilations|
    neighbours.

    ``-|I(p) - I(q)| / (1e-8 + 0.1·std(p))`` per channel, std the unbiased
    standard deviation over the 9·|dilations| taps (centre included), then
    the mean over channels and a softmax over the neighbours (released
    ``PAMR.forward``).

    Args:
        image (Tensor): Guide image ``(B, 3, H, W)``.
        dilations (Sequence[int]): Neighbour distances in pixels.
    """
    std = torch.stack(list(_shifted(image, dilations, centre=True)),
                      2).std(2)
    aff = torch.stack([(image - n).abs() for n in _shifted(image, dilations)],
                      2)
    aff = -aff / (1e-8 + 0.1 * std[:, :, None])
    return aff.mean(1).softmax(1)


@MODELS.register_module()
class PAMR(nn.Module):
    """Pixel-adaptive mask refinement: each iteration replaces a pixel's
    mask by the affinity-weighted sum of its neighbours' (centre excluded).

    The released algorithm (visinf/1-stage-wseg ``pamr.py``, shipped by SCLIP
    and NACLIP): replicate padding, 8 neighbours per dilation, affinity from
    :func:`pamr_affinity`. The mask is first resized bilinearly
    (``align_corners=True``) to the image size. Defaults are NACLIP's
    (10 iterations, dilations (8, 16)); the original repository's are
    dilations (1, 2, 4, 8, 12, 24). The neighbours are summed one at a time
    instead of stacked: memory ``O(B·K·H·W)``, not ``O(B·K·P·H·W)``.

    Args:
        num_iter (int): Iterations. Defaults to 10.
        dilations (Sequence[int]): Neighbour distances. Defaults to (8, 16).
    """

    def __init__(self, num_iter: int = 10, dilations: Sequence[int] = (8, 16)):
        super().__init__()
        self.num_iter = num_iter
        self.dilations = tuple(dilations)

    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        """Refine ``mask`` ``(B, K, h, w)`` guided by ``image``
        ``(B, 3, H, W)``; returns ``(B, K, H, W)``."""
        mask = F.interpolate(
            mask, size=image.shape[-2:], mode='bilinear', align_corners=True)
        aff = pamr_affinity(image.to(mask.dtype), self.dilations)
        for _ in range(self.num_iter):
            refined = torch.zeros_like(mask)
            for i, neighbour in enumerate(_shifted(mask, self.dilations)):
                refined += aff[:, i:i + 1] * neighbour
            mask = refined
        return mask

    def extra_repr(self) -> str:
        return f'num_iter={self.num_iter}, dilations={self.dilations}'




@TASK_UTILS.register_module(name='PAMR')
class PAMRStep:
    """Post-processing step: :class:`PAMR` on the logits, guided by the
    normalised input image.

    Exact to SCLIP/NACLIP in ``test_cfg.postprocess_merged`` (after slide
    merging, at the original image size, before any scale or softmax). In
    ``test_cfg.postprocess`` it refines each forward's logits at the input
    (crop) size instead.

    Args:
        num_iter (int): Iterations. Defaults to 10.
        dilations (Sequence[int]): Neighbour distances. Defaults to (8, 16).
    """

    def __init__(self, num_iter: int = 10, dilations: Sequence[int] = (8, 16)):
        self.pamr = PAMR(num_iter, dilations)

    def __call__(self, seg_logits: Tensor, inputs: Tensor,
                 batch_img_metas: List[dict]) -> Tensor:
        """``(B, K, h, w)`` logits to ``(B, K, H, W)``, ``inputs``
        ``(B, 3, H, W)``."""
        return self.pamr(inputs, seg_logits)

    def __repr__(self) -> str:
        return f'PAMR({self.pamr.extra_repr()})'


__all__: List[str] = ['PAMR', 'PAMRStep', 'pamr_affinity']

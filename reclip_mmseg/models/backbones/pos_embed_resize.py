"""Resizing a ViT patch positional embedding to another patch grid: ours
(timm's, ``size=``) and the 2024 peers' (``scale_factor=``), by name."""
from typing import Callable, Dict, Tuple

import torch.nn.functional as F
from timm.layers import resample_abs_pos_embed
from torch import Tensor


def resample_patch_pos_embed(pos_embed: Tensor, old_grid: Tuple[int, int],
                             new_grid: Tuple[int, int]) -> Tensor:
    """Resize a ViT patch positional embedding to a new patch grid.

    timm's ``resample_abs_pos_embed`` (timm comes with open_clip): bicubic,
    ``align_corners=False``, no antialiasing (the released code's
    ``F.interpolate(mode='bicubic')``), computed in float32. Returned
    unchanged when the grid is the pretraining grid.

    Args:
        pos_embed (Tensor): Patch embeddings without the class token,
            ``(old_h * old_w, C)``.
        old_grid (tuple[int, int]): ``(old_h, old_w)``.
        new_grid (tuple[int, int]): ``(h, w)``.

    Returns:
        Tensor: ``(1, C, h, w)``.
    """
    channels = pos_embed.shape[-1]
    resampled = resample_abs_pos_embed(
        pos_embed[None],
        list(new_grid),
        list(old_grid),
        num_prefix_tokens=0,
        interpolation='bicubic',
        antialias=False)
    return resampled.reshape(1, *new_grid, channels).permute(0, 3, 1, 2)


def resample_patch_pos_embed_scale_factor(pos_embed: Tensor,
                                          old_grid: Tuple[int, int],
                                          new_grid: Tuple[int, int]) -> Tensor:
    """Resize a patch positional embedding as the 2024 peers' released code
    does (``interpolate_pos_encoding`` of SCLIP, ClearCLIP and NACLIP).

    Bicubic, ``align_corners=False``, with ``scale_factor = (h + 0.1) /
    old_h`` (and the same for w) instead of ``size=(h, w)``: the output has
    h x w rows, but source coordinates are ``(i + 0.5) / scale - 0.5``, so
    values differ slightly from a ``size=`` resize (ours, timm's). Unchanged
    at the pretraining grid (the peers skip the resize there). Computed in
    the embedding's dtype (the peers: fp16 on GPU).

    Args:
        pos_embed (Tensor): Patch embeddings without the class token,
            ``(old_h * old_w, C)``.
        old_grid (tuple[int, int]): ``(old_h, old_w)``.
        new_grid (tuple[int, int]): ``(h, w)``.

    Returns:
        Tensor: ``(1, C, h, w)``.
    """
    (old_h, old_w), (h, w) = old_grid, new_grid
    grid = pos_embed.T.reshape(1, -1, old_h, old_w)
    if (h, w) == (old_h, old_w):
        return grid
    return F.interpolate(
        grid,
        scale_factor=((h + 0.1) / old_h, (w + 0.1) / old_w),
        mode='bicubic',
        align_corners=False,
        recompute_scale_factor=False)


#: Positional-embedding resizes by name (``MaskCLIPViT(pos_embed_resize=)``).
POS_EMBED_RESIZERS: Dict[str, Callable[..., Tensor]] = dict(
    bicubic=resample_patch_pos_embed,
    scale_factor=resample_patch_pos_embed_scale_factor,
)

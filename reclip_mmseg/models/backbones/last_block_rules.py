"""How the last block of a frozen CLIP ViT turns tokens into dense tokens.

One small function per rule, selected by name from :data:`LAST_BLOCK_RULES`
(``MaskCLIPViT(last_block=...)``). Blocks 1..L-1 run as in CLIP for every
rule; only the last one changes. Facts from the released code of each method
(../shared/PEERS.md): MaskCLIP (Zhou et al. 2022), SCLIP (wangf3014/SCLIP
``custom_attn(csa=True)``), ClearCLIP (mc-lan/ClearCLIP ``custom_attn``,
``model_type='ClearCLIP'``, ``ignore_residual``), NACLIP (sinahmr/NACLIP,
``arch='reduced'``, ``attn_strategy='naclip'``).

Every rule has the signature ``rule(block, x, grid, **options) -> tokens``:

- ``block``: the open_clip ``ResidualAttentionBlock`` (``ln_1``,
  ``attn`` an ``nn.MultiheadAttention`` with a packed ``in_proj_weight``,
  ``ls_1``, ``ln_2``, ``mlp``, ``ls_2``);
- ``x`` ``(B, 1 + h*w, C)``: tokens after blocks 1..L-1, class token first,
  batch first (open_clip's transformer layout);
- ``grid`` ``(h, w)``: the patch grid, row-major in ``x[:, 1:]``;
- returns ``(B, 1 + h*w, C)``: the tokens ``ln_post`` and ``proj`` are
  applied to (class token included; the backbone drops it).

Shape shorthand: B batch, N = 1 + h*w tokens, C width, H heads,
d = C / H head width, s = d ** -0.5.

Where a rule keeps the residual and MLP it reads ``x + ls_1(attn) ...`` as
open_clip's block does; ``ls_1``/``ls_2`` are identities in every CLIP
(the released code, built on OpenAI CLIP, has none).
"""
from typing import Callable, Dict, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def _heads(block: nn.Module, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """q, k, v ``(B, H, N, d)`` of ``ln_1(x)`` through the packed in_proj."""
    attn = block.attn
    b, n, c = x.shape
    qkv = F.linear(block.ln_1(x), attn.in_proj_weight, attn.in_proj_bias)
    qkv = qkv.reshape(b, n, 3, attn.num_heads, c // attn.num_heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
    return q, k, v


def _attend(block: nn.Module, weights: Tensor, v: Tensor) -> Tensor:
    """``ls_1(out_proj(weights @ v))`` ``(B, N, C)`` from ``(B, H, N, N)``
    weights and ``(B, H, N, d)`` values."""
    out = (weights @ v).transpose(1, 2).flatten(2)
    return block.ls_1(block.attn.out_proj(out))


def _similarity(a: Tensor, b: Tensor) -> Tensor:
    """``a bᵀ · s`` ``(B, H, N, N)``, s = d ** -0.5."""
    return (a @ b.transpose(-2, -1)) * a.shape[-1]**-0.5


def _residual_mlp(block: nn.Module, x: Tensor, attn_out: Tensor) -> Tensor:
    """The block's residual and MLP around a replaced attention output."""
    x = x + attn_out
    return x + block.ls_2(block.mlp(block.ln_2(x)))


def maskclip(block: nn.Module, x: Tensor, grid: Tuple[int, int]) -> Tensor:
    """MaskCLIP: each token takes its own value path only (no token attends
    to another), ``x + out_proj(v)``, then the MLP with its residual."""
    attn = block.attn
    width = x.shape[-1]
    v = F.linear(
        block.ln_1(x), attn.in_proj_weight[2 * width:],
        attn.in_proj_bias[2 * width:]
        if attn.in_proj_bias is not None else None)
    return _residual_mlp(block, x, block.ls_1(attn.out_proj(v)))


def sclip(block: nn.Module, x: Tensor, grid: Tuple[int, int]) -> Tensor:
    """SCLIP correlative self-attention: ``softmax(q qᵀ s) + softmax(k kᵀ s)``
    (summed, not averaged); residual and MLP kept."""
    q, k, v = _heads(block, x)
    weights = _similarity(q, q).softmax(-1) + _similarity(k, k).softmax(-1)
    return _residual_mlp(block, x, _attend(block, weights, v))


def clearclip(block: nn.Module, x: Tensor, grid: Tuple[int, int]) -> Tensor:
    """ClearCLIP: ``out_proj(softmax(q qᵀ s) v)`` alone (no residual, no
    MLP)."""
    q, _, v = _heads(block, x)
    return _attend(block, _similarity(q, q).softmax(-1), v)


def gaussian_neighbourhood(grid: Tuple[int, int],
                           sigma: float,
                           device=None,
                           dtype=None) -> Tensor:
    """NACLIP's attention addition ω ``(1 + h*w, 1 + h*w)``.

    ``ω[p, p'] = exp(-|pos(p) - pos(p')|² / (2σ²))`` in patch units for
    patch tokens (peak 1, not normalised, every offset covered); zero in
    the class token's row and column.
    """
    h, w = grid
    rows, cols = torch.meshgrid(
        torch.arange(h, dtype=torch.float32, device=device),
        torch.arange(w, dtype=torch.float32, device=device),
        indexing='ij')
    pos = torch.stack([rows.flatten(), cols.flatten()], dim=1)
    omega = torch.exp(-torch.cdist(pos, pos).square() / (2 * sigma**2))
    return F.pad(omega, (1, 0, 1, 0)).to(dtype)


def naclip(block: nn.Module,
           x: Tensor,
           grid: Tuple[int, int],
           sigma: float = 5.0) -> Tensor:
    """NACLIP (reduced architecture): ``out_proj(softmax(k kᵀ s + ω) v)``
    alone (no residual, no MLP); ω from :func:`gaussian_neighbourhood`,
    added after the scaling."""
    _, k, v = _heads(block, x)
    omega = gaussian_neighbourhood(grid, sigma, x.device, x.dtype)
    return _attend(block, (_similarity(k, k) + omega).softmax(-1), v)


def vanilla(block: nn.Module, x: Tensor, grid: Tuple[int, int]) -> Tensor:
    """CLIP's own last block (``softmax(q kᵀ s)``, residual, MLP) applied to
    every token."""
    return block(x)


#: Last-block rules by name; adding a rule touches this table only.
LAST_BLOCK_RULES: Dict[str, Callable[..., Tensor]] = dict(
    maskclip=maskclip,
    sclip=sclip,
    clearclip=clearclip,
    naclip=naclip,
    vanilla=vanilla,
)


def get_last_block_rule(name: str) -> Callable[..., Tensor]:
    """The rule called ``name`` in :data:`LAST_BLOCK_RULES`.

    Raises:
        KeyError: For an unknown name, listing the known ones.
    """
    if name not in LAST_BLOCK_RULES:
        raise KeyError(f'unknown last_block {name!r}; known: '
                       f'{sorted(LAST_BLOCK_RULES)}')
    return LAST_BLOCK_RULES[name]

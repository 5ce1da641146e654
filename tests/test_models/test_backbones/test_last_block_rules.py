"""Each last-block rule against an independent computation from the block's
weights (einsum on in_proj_weight, out_proj, ln, MLP weights), on a tiny
open_clip ViT with 2 heads and a non-square 5 x 7 patch grid."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F

from reclip_mmseg.models.backbones.last_block_rules import (
    LAST_BLOCK_RULES, gaussian_neighbourhood, get_last_block_rule)
from reclip_mmseg.models.utils import build_clip

GRID = (5, 7)


@pytest.fixture(scope='module')
def block_and_tokens():
    from conftest import TINY_CLIP
    torch.manual_seed(0)
    clip = build_clip(copy.deepcopy(TINY_CLIP), None).eval()
    block = clip.visual.transformer.resblocks[-1]
    # non-zero biases so that every bias term is exercised
    with torch.no_grad():
        block.attn.in_proj_bias.normal_(0, 0.1)
        block.attn.out_proj.bias.normal_(0, 0.1)
    x = torch.randn(2, 1 + GRID[0] * GRID[1], 64)
    return block, x


def _ln(x, ln):
    mu = x.mean(-1, keepdim=True)
    var = (x - mu).square().mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + ln.eps) * ln.weight + ln.bias


def _qkv(block, x):
    w, b = block.attn.in_proj_weight, block.attn.in_proj_bias
    heads = block.attn.num_heads
    c = x.shape[-1]
    y = _ln(x, block.ln_1)
    out = []
    for i in range(3):
        t = torch.einsum('bnc,oc->bno', y, w[i * c:(i + 1) * c])
        t = t + b[i * c:(i + 1) * c]
        out.append(t.reshape(*t.shape[:2], heads, c // heads))
    return out  # each (B, N, H, d)


def _sim(a, b):
    return torch.einsum('bnhd,bmhd->bhnm', a, b) / math.sqrt(a.shape[-1])


def _out(block, weights, v):
    o = torch.einsum('bhnm,bmhd->bnhd', weights, v).flatten(2)
    return torch.einsum('bnc,oc->bno', o,
                        block.attn.out_proj.weight) + block.attn.out_proj.bias


def _mlp(block, x):
    fc, proj = block.mlp.c_fc, block.mlp.c_proj
    h = torch.einsum('bnc,oc->bno', _ln(x, block.ln_2), fc.weight) + fc.bias
    h = h * torch.sigmoid(1.702 * h)  # QuickGELU (tiny CLIP, like OpenAI)
    return torch.einsum('bno,co->bnc', h, proj.weight) + proj.bias


def _residual_mlp(block, x, attn_out):
    y = x + attn_out
    return y + _mlp(block, y)


def _omega(grid, sigma):
    h, w = grid
    n = 1 + h * w
    omega = torch.zeros(n, n)
    for p in range(h * w):
        for r in range(h * w):
            dy, dx = p // w - r // w, p % w - r % w
            omega[1 + p, 1 + r] = math.exp(-(dy * dy + dx * dx) /
                                           (2 * sigma * sigma))
    return omega


def reference(rule, block, x, sigma=5.0):
    q, k, v = _qkv(block, x)
    if rule == 'maskclip':
        out = torch.einsum('bnc,oc->bno', v.flatten(2),
                           block.attn.out_proj.weight)
        return _residual_mlp(block, x, out + block.attn.out_proj.bias)
    if rule == 'sclip':
        weights = _sim(q, q).softmax(-1) + _sim(k, k).softmax(-1)
        return _residual_mlp(block, x, _out(block, weights, v))
    if rule == 'clearclip':
        return _out(block, _sim(q, q).softmax(-1), v)
    if rule == 'naclip':
        weights = (_sim(k, k) + _omega(GRID, sigma)).softmax(-1)
        return _out(block, weights, v)
    assert rule == 'vanilla'
    return _residual_mlp(block, x, _out(block, _sim(q, k).softmax(-1), v))


@pytest.mark.parametrize('rule', sorted(LAST_BLOCK_RULES))
def test_rule_equals_reference(block_and_tokens, rule):
    block, x = block_and_tokens
    with torch.no_grad():
        out = get_last_block_rule(rule)(block, x, GRID)
        ref = reference(rule, block, x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_naclip_sigma_is_used(block_and_tokens):
    block, x = block_and_tokens
    with torch.no_grad():
        out = get_last_block_rule('naclip')(block, x, GRID, sigma=1.5)
        ref = reference('naclip', block, x, sigma=1.5)
        default = get_last_block_rule('naclip')(block, x, GRID)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert (out - default).abs().max() > 1e-3


def test_rules_differ(block_and_tokens):
    """The rules are not secretly the same computation."""
    block, x = block_and_tokens
    with torch.no_grad():
        outs = {r: f(block, x, GRID) for r, f in LAST_BLOCK_RULES.items()}
    names = sorted(outs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert (outs[a] - outs[b]).abs().max() > 1e-3, (a, b)


def test_gaussian_neighbourhood_values():
    omega = gaussian_neighbourhood((2, 3), sigma=2.0)
    assert omega.shape == (7, 7)
    assert omega[0].abs().sum() == 0 and omega[:, 0].abs().sum() == 0
    assert torch.all(omega[1:, 1:].diagonal() == 1)
    # token (0, 0) = index 1 and token (1, 2) = index 6: distance^2 = 5
    assert omega[1, 6].item() == pytest.approx(math.exp(-5 / 8))
    torch.testing.assert_close(omega, omega.T)


def test_vanilla_on_class_token_is_clips_last_block(block_and_tokens):
    """With every token attending as in CLIP, the class token's output is
    what open_clip's transformer computes for it."""
    block, x = block_and_tokens
    mha = block.attn
    with torch.no_grad():
        y = _ln(x, block.ln_1)
        attn, _ = mha(y, y, y, need_weights=False)
        ref = _residual_mlp(block, x, attn)
        out = get_last_block_rule('vanilla')(block, x, GRID)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_unknown_rule_names_the_known_ones():
    with pytest.raises(KeyError, match=r"unknown last_block 'sclipp'; "
                       r"known: \['clearclip', 'maskclip', 'naclip', "
                       r"'sclip', 'vanilla'\]"):
        get_last_block_rule('sclipp')


def test_rules_keep_dtype_and_batch_independence(block_and_tokens):
    """Each image's tokens depend on that image only (no cross-batch mixing
    in the head reshapes)."""
    block, x = block_and_tokens
    for rule, fn in LAST_BLOCK_RULES.items():
        with torch.no_grad():
            both = fn(block, x, GRID)
            one = fn(block, x[1:], GRID)
        torch.testing.assert_close(both[1:], one, atol=1e-6, rtol=1e-6)
        assert both.dtype == x.dtype


def test_layout_is_row_major(block_and_tokens):
    """The Gaussian follows the grid's rows: transposing the grid changes
    NACLIP's output (a 5 x 7 grid is not a 7 x 5 one)."""
    block, x = block_and_tokens
    with torch.no_grad():
        a = get_last_block_rule('naclip')(block, x, GRID, sigma=1.0)
        b = get_last_block_rule('naclip')(block, x, GRID[::-1], sigma=1.0)
    assert (a - b).abs().max() > 1e-4


@pytest.fixture(scope='module')
def tiny_clip_path(tmp_path_factory):
    from conftest import TINY_CLIP
    torch.manual_seed(0)
    clip = build_clip(copy.deepcopy(TINY_CLIP), None)
    path = tmp_path_factory.mktemp('clip') / 'tiny.pt'
    torch.save(clip.state_dict(), path)
    return str(path), clip.eval()


def _backbone(path, **kwargs):
    from conftest import TINY_CLIP
    from mmseg.registry import MODELS
    return MODELS.build(
        dict(type='MaskCLIPViT',
             clip=dict(model=copy.deepcopy(TINY_CLIP), pretrained=path),
             **kwargs))


@pytest.mark.parametrize('rule,cfg', [('maskclip', {}), ('sclip', {}),
                                      ('clearclip', {}),
                                      ('naclip', dict(sigma=2.0)),
                                      ('vanilla', {})])
def test_backbone_key_selects_the_rule(tiny_clip_path, rule, cfg):
    """MaskCLIPViT(last_block=rule): dense = normalised ln_post(reference
    rule) @ proj at a 5 x 7 grid (odd size 80 x 100, padded to 80 x 112);
    the global embedding stays CLIP's whatever the rule."""
    path, clip = tiny_clip_path
    backbone = _backbone(path, last_block=rule, last_block_cfg=cfg)
    default = _backbone(path)
    torch.manual_seed(2)
    images = torch.randn(2, 3, 80, 100)
    with torch.no_grad():
        out = backbone(images, return_global=True)
        glob = default(images, return_global=True).global_embed
        x, _, h, w = backbone._embed(images)
        *blocks, last = clip.visual.transformer.resblocks
        for blk in blocks:
            x = blk(x)
        ref = reference(rule, last, x, **cfg)
        ref = clip.visual.ln_post(ref[:, 1:]) @ clip.visual.proj
        ref = F.normalize(ref, dim=-1).transpose(1, 2).reshape(2, -1, 5, 7)
    assert (h, w) == GRID
    torch.testing.assert_close(out.dense, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.global_embed, glob)


def test_backbone_default_is_maskclip_and_bad_keys(tiny_clip_path):
    path, _ = tiny_clip_path
    images = torch.randn(1, 3, 48, 64)
    with torch.no_grad():
        a = _backbone(path)(images).dense
        b = _backbone(path, last_block='maskclip')(images).dense
    assert torch.equal(a, b)
    with pytest.raises(KeyError, match="unknown last_block 'nac'"):
        _backbone(path, last_block='nac')
    with pytest.raises(ValueError, match=r"last_block_cfg=\{'sigma': 1\} "
                       r"does not fit last_block='sclip'"):
        _backbone(path, last_block='sclip', last_block_cfg=dict(sigma=1))
    with pytest.raises(KeyError, match="unknown pos_embed_resize 'area'; "
                       r"known: \['bicubic', 'scale_factor'\]"):
        _backbone(path, pos_embed_resize='area')


def test_backbone_pos_embed_resize_key(tiny_clip_path):
    from reclip_mmseg.models.backbones import (
        resample_patch_pos_embed, resample_patch_pos_embed_scale_factor)
    path, clip = tiny_clip_path
    images = torch.randn(1, 3, 80, 112)
    patch_pos = clip.visual.positional_embedding[1:]
    with torch.no_grad():
        peers = _backbone(path, pos_embed_resize='scale_factor')(images)
        ours = _backbone(path)(images)
    torch.testing.assert_close(
        peers.pos_embed,
        resample_patch_pos_embed_scale_factor(patch_pos, (14, 14), GRID))
    torch.testing.assert_close(
        ours.pos_embed, resample_patch_pos_embed(patch_pos, (14, 14), GRID))
    assert (peers.dense - ours.dense).abs().max() > 1e-4

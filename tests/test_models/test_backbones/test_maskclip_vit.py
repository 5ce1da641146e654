import copy

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from reclip_mmseg.models.utils import build_clip


def _build(cfg, pretrained):
    return MODELS.build(
        dict(type='MaskCLIPViT', clip=dict(model=cfg, pretrained=pretrained)))


def _reference_dense(clip, images):
    """METHOD.md Sec. 1 written out independently on open_clip's modules."""
    v = clip.visual
    ph = v.patch_size[0]
    H, W = images.shape[-2:]
    images = F.pad(images, (0, -W % ph, 0, -H % ph))
    x = v.conv1(images)
    h, w = x.shape[-2:]
    x = x.flatten(2).transpose(1, 2)
    gh, gw = v.grid_size
    pos = v.positional_embedding
    patch_pos = pos[1:].T.reshape(1, -1, gh, gw)
    if (h, w) != (gh, gw):
        patch_pos = F.interpolate(
            patch_pos, (h, w), mode='bicubic', align_corners=False)
    pos = torch.cat([pos[:1], patch_pos.reshape(pos.shape[1], -1).T])
    cls = v.class_embedding.reshape(1, 1, -1).repeat(x.shape[0], 1, 1)
    x = v.ln_pre(torch.cat([cls, x], 1) + pos)
    blocks = list(v.transformer.resblocks)
    for blk in blocks[:-1]:
        x = blk(x)
    last = blocks[-1]
    _, _, val = F.linear(last.ln_1(x), last.attn.in_proj_weight,
                         last.attn.in_proj_bias).chunk(3, dim=-1)
    y = last.attn.out_proj(val) + x
    y = y + last.mlp(last.ln_2(y))
    y = v.ln_post(y)[:, 1:] @ v.proj
    y = y.reshape(x.shape[0], h, w, -1).permute(0, 3, 1, 2)
    return y / y.norm(dim=1, keepdim=True), patch_pos


@pytest.fixture
def backbone_and_clip(tiny_clip_file, tiny_clip_cfg):
    path, clip = tiny_clip_file
    return _build(tiny_clip_cfg, path), clip.eval()


def test_global_embedding_equals_encode_image(backbone_and_clip):
    backbone, clip = backbone_and_clip
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        dense, pos, glob = backbone(images, return_global=True)
        ref = clip.encode_image(images)
    assert glob.shape == (2, 32)
    assert (glob - ref).abs().max() <= 1e-5
    assert len(backbone(images)) == 2  # global only on request


@pytest.mark.parametrize('size', [(224, 224), (96, 160), (100, 37),
                                  (17, 250)])
def test_dense_features_equal_reference(backbone_and_clip, size):
    backbone, clip = backbone_and_clip
    torch.manual_seed(1)
    images = torch.randn(2, 3, *size)
    with torch.no_grad():
        dense, pos = backbone(images)
        ref_dense, ref_pos = _reference_dense(clip, images)
    h, w = -(-size[0] // 16), -(-size[1] // 16)
    assert dense.shape == (2, 32, h, w)
    assert pos.shape == (1, 64, h, w)
    torch.testing.assert_close(dense, ref_dense, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pos, ref_pos)
    torch.testing.assert_close(
        dense.norm(dim=1), torch.ones(2, h, w), atol=1e-5, rtol=0)


def test_dense_differs_from_plain_last_block(backbone_and_clip):
    # the value path must really replace attention (guards a no-op edit)
    backbone, clip = backbone_and_clip
    images = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        dense, _ = backbone(images)
        tokens = clip.visual.forward_intermediates(
            images, normalize_intermediates=True)['image_intermediates'][-1]
        plain = torch.einsum('bchw,cd->bdhw', tokens, clip.visual.proj)
    assert (F.normalize(plain, dim=1) - dense).abs().max() > 1e-3


def test_padding_equals_zero_padded_input(backbone_and_clip):
    backbone, _ = backbone_and_clip
    images = torch.randn(1, 3, 200, 210)
    padded = F.pad(images, (0, 14, 0, 8))
    with torch.no_grad():
        a, _ = backbone(images)
        b, _ = backbone(padded)
    assert a.shape == b.shape == (1, 32, 13, 14)
    torch.testing.assert_close(a, b)


def test_pos_embed_unchanged_at_native_size(backbone_and_clip):
    backbone, clip = backbone_and_clip
    _, pos = backbone(torch.randn(1, 3, 224, 224))
    native = clip.visual.positional_embedding[1:].reshape(14, 14, 64)
    assert torch.equal(pos[0].permute(1, 2, 0), native)
    # a resampled grid is not written back into the parameter
    backbone(torch.randn(1, 3, 320, 480))
    assert torch.equal(backbone.visual.positional_embedding[1:],
                       clip.visual.positional_embedding[1:])


def test_frozen_and_always_eval(tiny_clip_cfg):
    cfg = copy.deepcopy(tiny_clip_cfg)
    cfg['vision_cfg']['patch_dropout'] = 0.5  # would drop tokens in train
    backbone = _build(cfg, None)
    assert all(not p.requires_grad for p in backbone.parameters())
    backbone.train()
    assert backbone.training and not backbone.visual.training
    assert not any(m.training for m in backbone.visual.modules())
    images = torch.randn(1, 3, 64, 64)
    dense, pos = backbone(images)
    assert dense.shape == (1, 32, 4, 4)  # no patch dropped
    assert not dense.requires_grad and not pos.requires_grad


def test_unsupported_tower_raises(tiny_clip_cfg):
    cfg = copy.deepcopy(tiny_clip_cfg)
    cfg['vision_cfg']['pool_type'] = 'avg'
    with pytest.raises(ValueError, match="pool_type='avg'"):
        _build(cfg, None)


def test_random_weights_are_seeded_by_torch(tiny_clip_cfg):
    torch.manual_seed(3)
    a = _build(tiny_clip_cfg, None)
    torch.manual_seed(3)
    b = build_clip(tiny_clip_cfg, None)
    assert torch.equal(a.visual.proj, b.visual.proj)


def test_outputs_by_name_and_in_index(backbone_and_clip, tiny_clip_cfg):
    backbone, _ = backbone_and_clip
    images = torch.randn(1, 3, 64, 80)
    with torch.no_grad():
        feats = backbone(images)
        both = backbone(images, return_global=True)
    assert feats._fields == ('dense', 'pos_embed')
    assert both._fields == ('dense', 'pos_embed', 'global_embed')
    assert torch.equal(both.dense, feats.dense)
    assert feats.dense.shape[1] == 32 and feats.pos_embed.shape[0] == 1
    # mmseg's own input selection (in_index, default 0 in our heads) picks
    # the dense features, never the positional embedding
    head = MODELS.build(
        dict(type='MaskCLIPHead', class_names=['a', 'b'],
             clip=dict(model=copy.deepcopy(tiny_clip_cfg), pretrained=None),
             in_channels=32))
    assert head.in_index == 0
    assert head._transform_inputs(feats) is feats.dense

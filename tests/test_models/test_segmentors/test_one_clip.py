"""The ONE CLIP of a segmentor (issue 18 item 1): configured once as
``model.clip``, built once, its visual tower the backbone's and its text
tower the head's."""
import copy
import os.path as osp

import open_clip
import pytest
import torch
from conftest import TINY_CLIP
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


@pytest.fixture
def constructions(monkeypatch):
    """Counts ``open_clip.CLIP`` constructions."""
    count = [0]
    init = open_clip.CLIP.__init__

    def counting(self, *args, **kwargs):
        count[0] += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(open_clip.CLIP, '__init__', counting)
    return count


@pytest.mark.parametrize('name', [
    'maskclip_tiny_synthetic-voc', 'reclip_tiny_synthetic-voc',
    'maskclip_toy', 'reclip_toy'
])
def test_one_clip_construction_per_segmentor(name, constructions):
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', f'{name}.py'))
    assert 'clip' not in cfg.model.backbone
    assert 'clip' not in cfg.model.decode_head
    model = MODELS.build(cfg.model)
    assert constructions[0] == 1
    assert model.clip_setting['model'] == cfg.model.clip.model
    assert model.backbone.clip_setting is model.clip_setting
    assert model.decode_head.text_encoder.clip_setting is model.clip_setting


def test_backbone_and_head_towers_come_from_the_same_clip():
    """With random weights, both towers equal those of ONE ``open_clip.CLIP``
    drawn from the same seed (two constructions would give the head a
    second, different draw)."""
    init_default_scope('mmseg')
    torch.manual_seed(7)
    ref = open_clip.CLIP(**copy.deepcopy(TINY_CLIP))
    torch.manual_seed(7)
    model = MODELS.build(
        dict(type='CLIPSegmentor',
             data_preprocessor=dict(type='SegDataPreProcessor'),
             clip=dict(model=copy.deepcopy(TINY_CLIP), pretrained=None),
             backbone=dict(type='MaskCLIPViT'),
             decode_head=dict(type='MaskCLIPHead', class_names=['a', 'b'],
                              in_channels=32)))
    for key, value in ref.visual.state_dict().items():
        assert torch.equal(model.backbone.visual.state_dict()[key], value)
    text = model.decode_head.text_encoder
    assert torch.equal(text.token_embedding.weight,
                       ref.token_embedding.weight)
    assert torch.equal(text.text_projection, ref.text_projection)
    assert torch.equal(text.transformer.resblocks[0].attn.in_proj_weight,
                       ref.transformer.resblocks[0].attn.in_proj_weight)


def test_clip_setting_reaches_fingerprint_and_overrides(tmp_path):
    """``--cfg-options model.clip.pretrained=FILE`` is the one key to change
    the weights of both towers, and the hypothesis fingerprint reads it."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    clip = open_clip.CLIP(**copy.deepcopy(TINY_CLIP))
    path = str(tmp_path / 'clip.pt')
    torch.save(clip.state_dict(), path)
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py'))
    cfg.merge_from_dict({'model.clip.pretrained': path})
    model = MODELS.build(cfg.model)
    assert torch.equal(model.backbone.visual.conv1.weight,
                       clip.visual.conv1.weight)
    assert torch.equal(model.decode_head.text_encoder.token_embedding.weight,
                       clip.token_embedding.weight)
    fp = model.hypothesis.fingerprint(model)
    assert fp['pretrained'] == path and fp['clip_model'] == TINY_CLIP

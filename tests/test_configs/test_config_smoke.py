"""Every leaf config loads and builds its model offline (random CLIP)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from reclip_mmseg.toy import TOY_CLIP, TOY_CLIP_CHECKPOINT

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '*.py')))
EXPECTED = {
    f'{kind}_{data}.py'
    for kind in ('reclip', 'maskclip')
    for data in ('voc', 'context', 'ade', 'cityscapes', 'cocostuff27',
                 'tiny_synthetic-voc', 'toy')
} | {'reclip_toy_residual.py'}
NUM_CLASSES = dict(
    voc=20, context=59, ade=150, cityscapes=19, cocostuff27=27, toy=10)


def test_found_every_config():
    assert {osp.basename(c) for c in CONFIGS} == EXPECTED


def _offline(cfg):
    if cfg.model.clip.model == TOY_CLIP:
        return cfg  # the committed toy checkpoint: a real local file
    cfg.model.clip.pretrained = None
    return cfg


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_model(path):
    cfg = _offline(Config.fromfile(path))
    assert cfg.custom_imports['imports'] == ['reclip_mmseg']
    name = osp.splitext(osp.basename(path))[0]
    data = name.split('_', 1)[1]
    if data == 'toy_residual':  # the toy config with the residual decoder
        data = 'toy'
        head_cfg = Config.fromfile(path).model.decode_head
        assert head_cfg.residual and head_cfg.zero_init_decoder
    if data == 'toy':
        raw = Config.fromfile(path)
        assert raw.model.clip.model == TOY_CLIP
        assert osp.samefile(raw.model.clip.pretrained, TOY_CLIP_CHECKPOINT)
    elif 'tiny' not in name:
        # the released recipe: real ViT-B/16, OpenAI weights by default
        raw = Config.fromfile(path)
        assert raw.model.clip == dict(model='ViT-B-16-quickgelu',
                                      pretrained='openai')
        train = raw.train_dataloader.dataset.pipeline
        assert not any(t['type'] == 'LoadAnnotations' for t in train)
    model = MODELS.build(cfg.model)
    head = model.decode_head
    if data in NUM_CLASSES:
        assert head.num_classes == NUM_CLASSES[data]
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if name.startswith('maskclip'):
        assert trainable == []
    else:
        assert trainable and all(
            n.startswith(('decode_head.reference.ctx',
                          'decode_head.pos_proj', 'decode_head.conv_seg',
                          'decode_head.norm')) for n in trainable)
    if 'tiny' in name or data == 'toy':
        model.eval()
        ph, pw = model.backbone.patch_size
        with torch.no_grad():
            feats = model.backbone(torch.randn(1, 3, 64, 48))
            assert head(feats).shape == (1, head.num_classes, 64 // ph,
                                         48 // pw)

"""Every leaf config loads and builds its model offline (random CLIP; the
peers' configs in configs/ovss and configs/uss with a tiny CLIP)."""
import copy
import glob
import os.path as osp

import pytest
import torch
from conftest import TINY_CLIP
from mmengine.config import Config
from mmseg.registry import DATASETS, MODELS

from reclip_mmseg.engine.class_check_hook import predicted_classes
from reclip_mmseg.models.backbones import LAST_BLOCK_RULES
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
# the peers: configs/ovss/<method>_<dataset>.py, configs/uss/<rule>_<dataset>
PEER_CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'ovss', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'uss', '*.py')))
OVSS_METHODS = ('maskclip', 'sclip', 'clearclip', 'naclip', 'naclip-pamr')
OVSS_DATASETS = ('voc21', 'context60', 'coco_object', 'voc20', 'context59',
                 'coco_stuff171', 'cityscapes', 'ade20k')
USS_DATASETS = ('voc', 'context', 'ade', 'cityscapes', 'cocostuff27')
EXPECTED_PEERS = {
    f'ovss/{m}_{d}.py'
    for m in OVSS_METHODS for d in OVSS_DATASETS
} | {
    f'uss/{m}_{d}.py'
    for m in OVSS_METHODS[1:] + ('reclip_naclip', ) for d in USS_DATASETS
}


def test_found_every_config():
    assert {osp.basename(c) for c in CONFIGS} == EXPECTED
    found = {osp.relpath(c, osp.join(ROOT, 'configs')) for c in PEER_CONFIGS}
    assert found == EXPECTED_PEERS
    assert len(PEER_CONFIGS) == 8 * 5 + 5 * 5 > 0


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


def tiny(cfg):
    """``cfg`` with the tiny random CLIP as the model's one CLIP (offline)."""
    cfg.model.clip = dict(model=copy.deepcopy(TINY_CLIP), pretrained=None)
    cfg.model.decode_head.in_channels = TINY_CLIP['embed_dim']
    if 'pos_channels' in cfg.model.decode_head:
        cfg.model.decode_head.pos_channels = TINY_CLIP['vision_cfg']['width']
    return cfg


@pytest.mark.parametrize(
    'path', PEER_CONFIGS,
    ids=lambda p: osp.relpath(p, osp.join(ROOT, 'configs')))
def test_peer_config_builds_with_tiny_clip(path):
    raw = Config.fromfile(path)
    assert raw.custom_imports['imports'] == ['reclip_mmseg']
    # the released recipe: real ViT-B/16, OpenAI weights by default
    assert raw.model.clip == dict(model='ViT-B-16-quickgelu',
                                  pretrained='openai')
    name = osp.splitext(osp.basename(path))[0]
    method = name.rsplit('_', 1)[0] if name.startswith('reclip_') else \
        name.split('_', 1)[0]
    rule = {'reclip_naclip': 'naclip', 'naclip-pamr': 'naclip'}.get(
        method, method)
    model = MODELS.build(tiny(raw).model)
    assert model.backbone.last_block is LAST_BLOCK_RULES[rule]
    # the classes the model predicts (after the synonym merge) are the
    # dataset's: every class-name file has one line per dataset class
    dataset = DATASETS.get(raw.test_dataloader.dataset.type)
    num, names = predicted_classes(model, model.decode_head)
    assert num == len(dataset.METAINFO['classes']) == len(names)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if method == 'reclip_naclip':
        assert trainable and all(
            n.startswith(('decode_head.reference.ctx',
                          'decode_head.pos_proj', 'decode_head.conv_seg',
                          'decode_head.norm')) for n in trainable)
    else:
        assert trainable == []
        assert model.decode_head.synonym_queries
        assert raw.model.backbone.pos_embed_resize == 'scale_factor'


# configs/toy/: the training-free peers and ReCLIP++ on each rule, over the
# toy configs above (README "Toy world: the training-free peers").
TOY_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'toy', '*.py')))
PEERS = ('sclip', 'clearclip', 'naclip')
TOY_EXPECTED = {f'{p}_toy.py' for p in PEERS} | {
    'naclip-pamr_toy.py', 'naclip-pamr-patch-scaled_toy.py'
} | {f'reclip_{p}_toy_residual.py' for p in PEERS} | {
    'reclip_naclip-pamr_toy_residual.py'
}
# PEERS.md: logit scale on background-free benchmarks; NACLIP's PAMR
LOGIT_SCALE = dict(sclip=40, clearclip=50, naclip=40)
PAMR_DILATIONS = {
    'naclip-pamr_toy': (8, 16),
    'naclip-pamr-patch-scaled_toy': (4, 8),
    'reclip_naclip-pamr_toy_residual': (8, 16)
}


def test_found_every_toy_config():
    assert {osp.basename(c) for c in TOY_CONFIGS} == TOY_EXPECTED


def _toy_predict(model, image):
    from mmseg.structures import SegDataSample
    meta = dict(ori_shape=(64, 64), img_shape=(64, 64), pad_shape=(64, 64),
                padding_size=[0, 0, 0, 0])
    with torch.no_grad():
        return model.predict(image, [SegDataSample(metainfo=meta)])[0]


@pytest.mark.parametrize('path', TOY_CONFIGS, ids=osp.basename)
def test_toy_config_builds_and_predicts(path):
    from reclip_mmseg.models.postprocess import PAMR
    name = osp.splitext(osp.basename(path))[0]
    with open(path) as f:  # the CLIP is inherited, never set here
        text = f.read()
    for key in ('clip_model', 'pretrained', 'clip=', "'clip'", 'toy_clip'):
        assert key not in text, f'{name} sets {key}'
    cfg = Config.fromfile(path)
    assert cfg.custom_imports['imports'] == ['reclip_mmseg']
    assert cfg.model.clip.model == TOY_CLIP
    assert osp.samefile(cfg.model.clip.pretrained, TOY_CLIP_CHECKPOINT)
    reclip = name.startswith('reclip_')
    rule = name.split('_')[1 if reclip else 0].split('-')[0]  # naclip-pamr
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    assert model.backbone.last_block is LAST_BLOCK_RULES[rule]
    assert model.backbone.last_block_cfg == (
        dict(sigma=5.0) if rule == 'naclip' else {})
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert bool(trainable) == reclip
    assert all(n.startswith('decode_head.') for n in trainable)
    image = torch.randn(1, 3, 64, 64)  # a normalised toy-sized input
    sample = _toy_predict(model, image)
    assert sample.pred_sem_seg.data.shape == (1, 64, 64)
    got = sample.seg_logits.data
    assert got.shape == (10, 64, 64)
    assert torch.equal(sample.pred_sem_seg.data[0], got.argmax(0))
    # independently: the same model without its merged chain, then the
    # peer's PAMR (guided by the input) and logit-scale softmax
    steps = model.postprocess_merged.steps
    model.postprocess_merged.steps = []
    want = _toy_predict(model, image).seg_logits.data[None]
    model.postprocess_merged.steps = steps
    if name in PAMR_DILATIONS:
        want = PAMR(10, PAMR_DILATIONS[name])(image, want)
    if not reclip:
        want = (want * LOGIT_SCALE[rule]).softmax(1)
        torch.testing.assert_close(got.sum(0), torch.ones(64, 64))
    assert len(steps) == (name in PAMR_DILATIONS) + (not reclip)
    torch.testing.assert_close(got, want[0], rtol=1e-4, atol=1e-5)

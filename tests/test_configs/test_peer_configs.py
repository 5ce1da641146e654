"""The peers' configs (configs/ovss, configs/uss) carry each paper's protocol:
spot checks against ../shared/PEERS.md's table (values written out here by
hand), the steps every method/dataset pair gets, the USS configs against the
bases they claim to match, and one tiny forward per peer."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES
from test_config_smoke import OVSS_DATASETS, OVSS_METHODS, tiny

from reclip_mmseg.models.postprocess import query_class_index

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs')
PAMR = ('PAMR', dict(num_iter=10, dilations=(8, 16)))

#: (method, dataset) -> short side, test_cfg, postprocess_merged steps
#: (type, arguments but class_names), class-name file. From PEERS.md.
SPOT = {
    ('naclip', 'voc21'): (336, dict(mode='whole'), [
        ('SynonymSoftmax', dict(logit_scale=40)),
        ('BackgroundThreshold', dict(prob_thd=0.1))], 'voc21.txt'),
    ('naclip-pamr', 'voc21'): (336, dict(mode='whole'), [
        PAMR, ('SynonymSoftmax', dict(logit_scale=40)),
        ('BackgroundThreshold', dict(prob_thd=0.1))], 'voc21.txt'),
    ('naclip-pamr', 'cityscapes'): (560, dict(
        mode='slide', crop_size=(224, 224), stride=(112, 112)), [
            PAMR, ('SynonymSoftmax', dict(logit_scale=40))],
        'cityscapes.txt'),
    ('sclip', 'voc21'): (336, dict(
        mode='slide', crop_size=(224, 224), stride=(112, 112)), [
            ('SynonymSoftmax', dict(logit_scale=65)),
            ('AreaThreshold', dict(area_thd=0.1)),
            ('BackgroundThreshold', dict(prob_thd=0.1))], 'voc21.txt'),
    ('sclip', 'coco_stuff171'): (448, dict(
        mode='slide', crop_size=(224, 224), stride=(112, 112)), [
            ('SynonymSoftmax', dict(logit_scale=40))], 'coco_stuff171.txt'),
    ('clearclip', 'cityscapes'): (448, dict(
        mode='slide', crop_size=(224, 224), stride=(224, 224)), [
            ('SynonymSoftmax', dict(logit_scale=50))], 'cityscapes.txt'),
    ('clearclip', 'voc21'): (448, dict(
        mode='slide', crop_size=(448, 448), stride=(224, 224)), [
            ('SynonymSoftmax', dict(logit_scale=50)),
            ('BackgroundThreshold', dict(prob_thd=0.5))],
        'voc21_clearclip.txt'),
    ('clearclip', 'coco_object'): (448, dict(
        mode='slide', crop_size=(448, 448), stride=(224, 224)), [
            ('SynonymSoftmax', dict(logit_scale=50)),
            ('BackgroundThreshold', dict(prob_thd=0.4))],
        'coco_object_clearclip.txt'),
    # MaskCLIP has no protocol of its own: NACLIP's
    ('maskclip', 'context60'): (336, dict(
        mode='slide', crop_size=(224, 224), stride=(112, 112)), [
            ('SynonymSoftmax', dict(logit_scale=40)),
            ('BackgroundThreshold', dict(prob_thd=0.1))], 'context60.txt'),
}
RULES = dict(maskclip=('maskclip', {}), sclip=('sclip', {}),
             clearclip=('clearclip', {}), naclip=('naclip', dict(sigma=5.0)),
             **{'naclip-pamr': ('naclip', dict(sigma=5.0))})


def ovss(method, dataset):
    return Config.fromfile(
        osp.join(CONFIGS, 'ovss', f'{method}_{dataset}.py'))


def steps(cfg):
    """``(type, arguments)`` of each postprocess_merged step, class_names
    checked to be the head's and left out."""
    out = []
    for step in cfg.model.test_cfg.postprocess_merged:
        args = {k: v for k, v in step.items() if k != 'type'}
        if 'class_names' in args:
            assert args.pop('class_names') == cfg.model.decode_head.class_names
        out.append((step['type'], args))
    return out


@pytest.mark.parametrize('pair', sorted(SPOT), ids='_'.join)
def test_protocol_spot_checks_against_peers_table(pair):
    short, test_cfg, chain, names = SPOT[pair]
    cfg = ovss(*pair)
    assert {k: v for k, v in cfg.model.test_cfg.items()
            if k != 'postprocess_merged'} == test_cfg
    assert steps(cfg) == chain
    assert osp.basename(cfg.model.decode_head.class_names) == names
    assert osp.isfile(cfg.model.decode_head.class_names)
    for pipeline in (cfg.test_dataloader.dataset.pipeline, cfg.test_pipeline,
                     cfg.tta_pipeline):
        assert pipeline[1] == dict(type='Resize', scale=(2048, short),
                                   keep_ratio=True)
    assert cfg.short_side == short


@pytest.mark.parametrize('method', OVSS_METHODS)
@pytest.mark.parametrize('dataset', OVSS_DATASETS)
def test_every_pair_gets_its_methods_steps(method, dataset):
    cfg = ovss(method, dataset)
    types = [t for t, _ in steps(cfg)]
    expected = (['PAMR'] if method == 'naclip-pamr' else []) + [
        'SynonymSoftmax'
    ] + (['AreaThreshold'] if (method, dataset) == ('sclip', 'voc21') else
         []) + (['BackgroundThreshold'] if dataset in (
             'voc21', 'context60', 'coco_object') else [])
    assert types == expected
    # the method's peer column of the dataset base (whose values
    # tests/test_datasets/test_ovss_datasets.py checks against PEERS.md)
    peer = dict(maskclip='naclip', **{'naclip-pamr': 'naclip'}).get(
        method, method)
    col = Config.fromfile(
        osp.join(CONFIGS, '_base_', 'datasets',
                 f'ovss_{dataset}.py')).ovss_protocol[peer]
    args = dict(steps(cfg))
    assert args['SynonymSoftmax'] == dict(logit_scale=col.logit_scale)
    assert args.get('AreaThreshold') == (
        dict(area_thd=col.area_thd) if 'area_thd' in col else None)
    assert args.get('BackgroundThreshold') == (
        dict(prob_thd=col.prob_thd) if 'prob_thd' in col else None)
    assert cfg.model.decode_head.class_names == col.class_names
    assert cfg.short_side == col.short_side
    assert cfg.test_dataloader.dataset.pipeline[1].scale == (
        2048, col.short_side)
    assert {k: v for k, v in cfg.model.test_cfg.items()
            if k != 'postprocess_merged'} == col.test_cfg
    rule, rule_cfg = RULES[method]
    assert cfg.model.backbone.last_block == rule
    assert cfg.model.backbone.get('last_block_cfg', {}) == rule_cfg
    assert cfg.model.backbone.pos_embed_resize == 'scale_factor'
    head = cfg.model.decode_head
    assert head.synonym_queries is True
    assert head.templates == [t('{}') for t in OPENAI_IMAGENET_TEMPLATES]
    assert cfg.test_cfg == dict(type='TestLoop')
    assert 'train_dataloader' not in cfg and 'val_dataloader' not in cfg


@pytest.mark.parametrize('method', OVSS_METHODS[1:])
@pytest.mark.parametrize('uss, benchmark, base', [
    ('voc', 'voc20', 'voc20'), ('context', 'context59', 'context59'),
    ('ade', 'ade20k', 'ade150'), ('cityscapes', 'cityscapes', 'cityscapes19')
])
def test_uss_configs_are_the_ovss_ones_on_the_same_test_set(
        method, uss, benchmark, base):
    cfg = Config.fromfile(osp.join(CONFIGS, 'uss', f'{method}_{uss}.py'))
    assert cfg.to_dict() == ovss(method, benchmark).to_dict()
    ours = dict(cfg.test_dataloader.dataset)
    theirs = dict(Config.fromfile(
        osp.join(CONFIGS, '_base_', 'datasets',
                 f'{base}.py')).test_dataloader.dataset)
    ours.pop('pipeline'), theirs.pop('pipeline')
    assert ours == theirs


@pytest.mark.parametrize('method', OVSS_METHODS[1:])
def test_uss_cocostuff27_takes_the_peers_coco_stuff171_values(method):
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'uss', f'{method}_cocostuff27.py'))
    peer = 'naclip' if method.startswith('naclip') else method
    stuff = Config.fromfile(
        osp.join(CONFIGS, '_base_', 'datasets',
                 'ovss_coco_stuff171.py')).ovss_protocol[peer]
    assert {k: v for k, v in cfg.model.test_cfg.items()
            if k != 'postprocess_merged'} == stuff.test_cfg
    assert steps(cfg) == ([PAMR] if method == 'naclip-pamr' else []) + [
        ('SynonymSoftmax', dict(logit_scale=stuff.logit_scale))]
    assert cfg.model.decode_head.class_names == 'COCOStuff27Dataset'
    assert cfg.test_dataloader.dataset.type == 'COCOStuff27Dataset'
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert loader.dataset.pipeline[1].scale == (2048, stuff.short_side)
    assert cfg.tta_pipeline[1].scale == (2048, stuff.short_side)


@pytest.mark.parametrize('dataset', ['voc', 'context', 'ade', 'cityscapes',
                                     'cocostuff27'])
def test_reclip_naclip_is_reclip_with_naclips_last_block(dataset):
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'uss', f'reclip_naclip_{dataset}.py')).to_dict()
    ref = Config.fromfile(osp.join(CONFIGS, f'reclip_{dataset}.py')).to_dict()
    assert cfg['model']['backbone'].pop('last_block') == 'naclip'
    assert cfg['model']['backbone'].pop('last_block_cfg') == dict(sigma=5.0)
    assert cfg == ref


@pytest.mark.parametrize('method', OVSS_METHODS)
def test_tiny_forward_on_voc21_gives_the_datasets_classes(method):
    """Each method's VOC21 config, tiny CLIP, its own test_cfg (whole or
    slide): class probabilities for the 21 classes at the original size,
    prediction their argmax."""
    cfg = tiny(ovss(method, 'voc21'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    inputs = torch.randn(1, 3, 336, 448)
    sample = SegDataSample(metainfo=dict(
        img_shape=(336, 448), ori_shape=(75, 100), pad_shape=(336, 448),
        padding_size=[0, 0, 0, 0]))
    with torch.no_grad():
        out = model.predict(inputs, [sample])[0]
    probs = out.seg_logits.data
    assert probs.shape == (21, 75, 100)
    assert probs.min() >= 0 and probs.max() <= 1
    assert torch.equal(out.pred_sem_seg.data[0], probs.argmax(0))
    # one query per synonym of the class-name file
    queries = query_class_index(cfg.model.decode_head.class_names)
    assert model.decode_head.num_classes == len(queries)
    assert queries.max() == 20

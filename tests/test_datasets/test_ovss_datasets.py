"""The 8-benchmark open-vocabulary protocol (issue 14): every
``configs/_base_/datasets/ovss_*.py`` builds its dataset on a tiny synthetic
layout written to ``tmp_path`` in the real on-disk layout and yields the
expected label values; the class-name files follow the datasets' classes;
the protocol values are the peers' (../shared/PEERS.md)."""
import glob
import os
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import reclip_mmseg  # noqa: F401  (registers mmseg's modules)
import reclip_mmseg.datasets  # noqa: F401  (registers the datasets)
from reclip_mmseg.datasets import convert_coco_object_label
from reclip_mmseg.models.utils.class_names import (read_class_names,
                                                   resolve_class_names)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs', '_base_', 'datasets')
CLASS_DIR = osp.join(REPO, 'configs', '_base_', 'class_names')
H, W = 24, 32
NAMES = ('a_001', 'a_002', 'b_003')


def _ignore_zero(raw):
    """reduce_zero_label by hand: 0 -> 255, k -> k - 1, 255 stays."""
    out = raw.astype(np.int64) - 1
    out[(raw == 0) | (raw == 255)] = 255
    return out


def _same(raw):
    return raw


def _split(root, split_file):
    split_file = osp.join(root, split_file)
    os.makedirs(osp.dirname(split_file), exist_ok=True)
    with open(split_file, 'w') as f:
        f.write('\n'.join(NAMES) + '\n')


def _write(root, img_dir, img_suffix, seg_dir, seg_suffix, values, convert):
    """Images + label maps under ``root``; {image path: expected gt}."""
    expected = {}
    for i, name in enumerate(NAMES):
        rng = np.random.RandomState(i)
        img = osp.join(root, img_dir, name + img_suffix)
        mmcv.imwrite(rng.randint(0, 256, (H, W, 3), np.uint8), img)
        raw = rng.choice(values, (H, W)).astype(np.uint8)
        raw.flat[:len(values)] = values  # every value occurs
        mmcv.imwrite(raw, osp.join(root, seg_dir, name + seg_suffix))
        expected[img] = convert(raw)
    return expected


def _voc(root, values, convert):
    _split(root, 'ImageSets/Segmentation/val.txt')
    return _write(root, 'JPEGImages', '.jpg', 'SegmentationClass', '.png',
                  values, convert)


def _context(root, values, convert):
    _split(root, 'ImageSets/SegmentationContext/val.txt')
    return _write(root, 'JPEGImages', '.jpg', 'SegmentationClassContext',
                  '.png', values, convert)


def _coco_object(root):
    """Converted COCO-Stuff-164k maps: person 0, stop sign 12, toothbrush
    89, unused 11, stuff 91 / 181 and unlabeled 255 in the raw map."""
    expected = _write(root, 'images/val2017', '.jpg', 'raw', '.png',
                      [0, 12, 89, 11, 91, 181, 255],
                      convert_coco_object_label)
    for img, gt in expected.items():
        name = osp.splitext(osp.basename(img))[0]
        mmcv.imwrite(
            gt,
            osp.join(root, 'annotations/val2017',
                     name + '_instanceTrainIds.png'))
    return expected


# config name -> (layout writer, expected len(classes), reduce_zero_label,
# short side of the test pipeline, expected label values after the pipeline)
CASES = {
    'voc21': (lambda r: _voc(r, [0, 1, 5, 20, 255], _same), 21, False, 336,
              {0, 1, 5, 20, 255}),
    'context60': (lambda r: _context(r, [0, 1, 30, 59], _same), 60, False,
                  336, {0, 1, 30, 59}),
    'coco_object': (_coco_object, 81, False, 336, {0, 1, 12, 80}),
    'voc20': (lambda r: _voc(r, [0, 1, 5, 20, 255], _ignore_zero), 20, True,
              336, {0, 4, 19, 255}),
    'context59': (lambda r: _context(r, [0, 1, 30, 59], _ignore_zero), 59,
                  True, 336, {0, 29, 58, 255}),
    'coco_stuff171':
    (lambda r: _write(r, 'images/val2017', '.jpg', 'annotations/val2017',
                      '_labelTrainIds.png', [0, 79, 80, 170, 255], _same),
     171, False, 336, {0, 79, 80, 170, 255}),
    'cityscapes':
    (lambda r: _write(r, 'leftImg8bit/val/city', '_leftImg8bit.png',
                      'gtFine/val/city', '_gtFine_labelTrainIds.png',
                      [0, 10, 18, 255], _same), 19, False, 560,
     {0, 10, 18, 255}),
    'ade20k':
    (lambda r: _write(r, 'images/validation', '.jpg',
                      'annotations/validation', '.png', [0, 1, 75, 150],
                      _ignore_zero), 150, True, 336, {0, 74, 149, 255}),
}

# The peers' released protocol (PEERS.md table): short side, slide crop and
# stride (None: whole image), logit_scale, prob_thd (None: no background).
PEERS = {
    'voc21': dict(sclip=(336, 224, 112, 65, 0.1), clearclip=(448, 448, 224,
                  50, 0.5), naclip=(336, None, None, 40, 0.1)),
    'context60': dict(sclip=(336, 224, 112, 50, 0.1), clearclip=(448, 448,
                      224, 50, 0.15), naclip=(336, 224, 112, 40, 0.1)),
    'coco_object': dict(sclip=(336, 224, 112, 50, 0.1), clearclip=(448, 448,
                        224, 50, 0.4), naclip=(336, 224, 112, 40, 0.1)),
    'voc20': dict(sclip=(336, 224, 112, 40, None), clearclip=(448, 448, 224,
                  50, None), naclip=(336, None, None, 40, None)),
    'context59': dict(sclip=(336, 224, 112, 40, None), clearclip=(448, 448,
                      224, 50, None), naclip=(336, 224, 112, 40, None)),
    'coco_stuff171': dict(sclip=(448, 224, 112, 40, None), clearclip=(448,
                          448, 224, 50, None), naclip=(336, 224, 112, 40,
                                                       None)),
    'cityscapes': dict(sclip=(560, 224, 112, 40, None), clearclip=(448, 224,
                       224, 50, None), naclip=(560, 224, 112, 40, None)),
    'ade20k': dict(sclip=(336, 224, 112, 40, None), clearclip=(448, 448, 224,
                   50, None), naclip=(336, 224, 112, 40, None)),
}


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def _cfg(name):
    return Config.fromfile(osp.join(CONFIG_DIR, f'ovss_{name}.py'))


def test_every_ovss_config_is_tested():
    found = sorted(
        osp.basename(p)[5:-3]
        for p in glob.glob(osp.join(CONFIG_DIR, 'ovss_*.py')))
    assert found == sorted(CASES) and len(found) == 8


@pytest.mark.parametrize('name', sorted(CASES))
def test_config_builds_dataset_on_its_layout(name, tmp_path):
    write, num_classes, reduce_zero, short, values = CASES[name]
    root = str(tmp_path / name)
    expected = write(root)
    cfg = _cfg(name)
    assert cfg.test_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    assert [t['type'] for t in cfg.test_dataloader.dataset.pipeline] == [
        'LoadImageFromFile', 'Resize', 'LoadAnnotations', 'PackSegInputs'
    ]
    dataset = DATASETS.build(
        dict(cfg.test_dataloader.dataset, data_root=root))
    assert type(dataset).__name__ == cfg.dataset_type
    assert len(dataset) == len(NAMES)
    assert len(dataset.metainfo['classes']) == num_classes
    assert dataset.reduce_zero_label is reduce_zero
    seen = set()
    for sample in dataset:
        meta = sample['data_samples'].metainfo
        gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
        # short side resized for the network, ground truth at full size
        assert min(meta['img_shape']) == short
        assert tuple(meta['ori_shape']) == (H, W) == gt.shape
        np.testing.assert_array_equal(gt, expected[meta['img_path']])
        seen |= set(gt.ravel().tolist())
    assert seen == values
    assert max(seen - {255}) < num_classes


@pytest.mark.parametrize('name', sorted(CASES))
def test_class_name_files_load_from_the_config(name):
    cfg = _cfg(name)
    num_classes = CASES[name][1]
    cls = DATASETS.get(cfg.dataset_type).METAINFO['classes']
    files = {cfg.ovss_class_names} | {
        p.class_names
        for p in cfg.ovss_protocol.values()
    }
    for path in files:
        names = resolve_class_names(path)  # as a head reads class_names
        assert len(names) == num_classes == len(cls), path
    assert osp.samefile(cfg.ovss_class_names,
                        cfg.ovss_protocol.naclip.class_names)
    assert osp.samefile(cfg.ovss_protocol.sclip.class_names,
                        cfg.ovss_protocol.naclip.class_names)
    assert cfg.allow_class_name_mismatch is True
    assert ('ovss_background_class' in cfg) == (cls[0] == 'background')


@pytest.mark.parametrize('name', sorted(CASES))
def test_protocol_values_are_the_peers(name):
    cfg = _cfg(name)
    assert set(cfg.ovss_protocol) == {'sclip', 'clearclip', 'naclip'}
    for method, (short, crop, stride, scale, thd) in PEERS[name].items():
        p = cfg.ovss_protocol[method]
        assert p.short_side == short and p.logit_scale == scale, method
        assert p.get('prob_thd') == thd, method
        assert p.get('area_thd') == (0.1 if (name, method) == (
            'voc21', 'sclip') else None)
        if crop is None:
            assert p.test_cfg == dict(mode='whole')
        else:
            assert p.test_cfg == dict(
                mode='slide', crop_size=(crop, crop), stride=(stride, stride))
    # the test pipeline is NACLIP's short side
    assert cfg.short_side == cfg.ovss_protocol.naclip.short_side
    assert cfg.test_dataloader.dataset.pipeline[1].scale == (2048,
                                                             cfg.short_side)


def test_tta_pipeline_runs(tmp_path):
    root = str(tmp_path / 'voc')
    _voc(root, [0, 1, 5, 20, 255], _same)
    cfg = _cfg('voc21')
    dataset = DATASETS.build(
        dict(cfg.test_dataloader.dataset, data_root=root,
             pipeline=cfg.tta_pipeline))
    sample = dataset[0]
    assert len(sample['inputs']) == 12  # 6 scales x 2 flips
    shorts = sorted({min(s.metainfo['img_shape'])
                     for s in sample['data_samples']})
    assert shorts == [round(336 * r) for r in cfg.img_ratios]


# Where the peers' prompt texts name a class otherwise than the dataset
# (besides spaces, hyphens and case).
PEER_RENAMES = {('ship', 'boat'), ('table', 'diningtable'),
                ('aeroplane', 'airplane')}
FILES = {
    'voc21': 'PascalVOCDataset', 'voc21_clearclip': 'PascalVOCDataset',
    'context60': 'PascalContextDataset', 'coco_object': 'COCOObjectDataset',
    'coco_object_clearclip': 'COCOObjectDataset',
    'voc20': 'PascalVOC20Dataset', 'voc20_clearclip': 'PascalVOC20Dataset',
    'context59': 'PascalContext59USSDataset',
    'coco_stuff171': 'COCOStuffDataset', 'cityscapes': 'CityscapesDataset',
    'ade20k': 'ADE20KDataset'
}


def _norm(name):
    return name.replace(' ', '').replace('-', '').lower()


@pytest.mark.parametrize('stem', sorted(FILES))
def test_class_name_file_follows_dataset_order(stem):
    names = read_class_names(osp.join(CLASS_DIR, stem + '.txt'))
    classes = DATASETS.get(FILES[stem]).METAINFO['classes']
    assert len(names) == len(classes)
    for k, (ours, theirs) in enumerate(zip(names, classes)):
        synonyms = [ours] if isinstance(ours, str) else ours
        if k == 0 and theirs == 'background' and len(synonyms) == 26:
            continue  # SCLIP/NACLIP: 26 background words (sky, wall, ...)
        assert any(
            _norm(s) == _norm(theirs) or (s, _norm(theirs)) in PEER_RENAMES
            for s in synonyms), (stem, k, ours, theirs)
    assert sorted(p for p in glob.glob(osp.join(CLASS_DIR, '*.txt'))) == \
        sorted(osp.join(CLASS_DIR, s + '.txt') for s in FILES)


def test_background_person_and_tv_lines():
    """The peers' variants: SCLIP/NACLIP 26 background words on line 0 of
    VOC21 and COCO-Object, person and tv synonyms; ClearCLIP one word each."""
    voc21 = read_class_names(osp.join(CLASS_DIR, 'voc21.txt'))
    obj = read_class_names(osp.join(CLASS_DIR, 'coco_object.txt'))
    assert voc21[0] == obj[0] and len(voc21[0]) == 26
    assert voc21[0][:3] == ['sky', 'wall', 'tree'] and voc21[0][-1] == 'fence'
    assert voc21[15] == ['person', 'person in shirt', 'person in jeans',
                         'person in dress', 'person in sweater',
                         'person in skirt', 'person in jacket']
    assert obj[1] == voc21[15] + ['body']
    assert voc21[20] == ['television monitor', 'tv monitor', 'monitor',
                         'television', 'screen']
    assert read_class_names(osp.join(CLASS_DIR, 'voc20.txt')) == voc21[1:]
    clear21 = read_class_names(osp.join(CLASS_DIR, 'voc21_clearclip.txt'))
    clear_obj = read_class_names(
        osp.join(CLASS_DIR, 'coco_object_clearclip.txt'))
    assert (clear21[0], clear21[15], clear21[20]) == ('background', 'person',
                                                      'tvmonitor')
    assert (clear_obj[0], clear_obj[1]) == ('background', 'person')
    assert clear_obj[2:] == obj[2:]
    assert read_class_names(osp.join(CLASS_DIR,
                                     'voc20_clearclip.txt')) == clear21[1:]


def test_cocostuff27_converter_skips_coco_object_outputs(tmp_path):
    """Both converters write next to the official maps; neither takes the
    other's (or mmseg's) outputs for input."""
    root = str(tmp_path / 'coco')
    ann = osp.join(root, 'annotations', 'val2017')
    fine = np.array([[0, 12], [91, 255]], np.uint8)
    mmcv.imwrite(fine, osp.join(ann, '000000000001.png'))
    mmcv.imwrite(convert_coco_object_label(fine),
                 osp.join(ann, '000000000001_instanceTrainIds.png'))
    mmcv.imwrite(fine, osp.join(ann, '000000000001_labelTrainIds.png'))
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'dataset_converters', 'cocostuff27.py'), root,
        '--split', 'val2017'
    ], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'wrote 1 label maps' in proc.stdout
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(ann, '*'))) == [
        '000000000001.png', '000000000001_instanceTrainIds.png',
        '000000000001_labelTrainIds.png', '000000000001_labelTrainIds27.png'
    ]

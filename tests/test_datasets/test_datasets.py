"""Datasets, the COCO-Stuff-27 converter and the dataset base configs, on tiny
synthetic layouts written to ``tmp_path``."""
import glob
import os
import os.path as osp
import shutil
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
from reclip_mmseg.datasets import (FINE_TO_COARSE27, COCOStuff27Dataset,
                                   PascalContext59USSDataset,
                                   PascalVOC20Dataset,
                                   convert_cocostuff27_label)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs', '_base_', 'datasets')
CONVERTER = osp.join(REPO, 'tools', 'dataset_converters', 'cocostuff27.py')
H, W = 32, 48

VOC20_CLASSES = ('airplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
                 'cat', 'chair', 'cow', 'dining table', 'dog', 'horse',
                 'motorbike', 'person', 'potted plant', 'sheep', 'sofa',
                 'train', 'tv monitor')
COCO27_CLASSES = ('electronic', 'appliance', 'food things', 'furniture things',
                  'indoor', 'kitchen', 'accessory', 'animal', 'outdoor',
                  'person', 'sports', 'vehicle', 'ceiling', 'floor',
                  'food stuff', 'furniture stuff', 'raw material', 'textile',
                  'wall', 'window', 'building', 'ground', 'plant', 'sky',
                  'solid', 'structural', 'water')
LOAD_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]


@pytest.fixture(autouse=True)
def mmseg_scope():
    """Pipelines name mmseg transforms, as configs do with default_scope."""
    init_default_scope('mmseg')


def _image(seed):
    return np.random.RandomState(seed).randint(0, 256, (H, W, 3), np.uint8)


def _label(values, seed):
    """(H, W) uint8 map holding every value of ``values``."""
    label = np.random.RandomState(seed).choice(values, (H, W)).astype(np.uint8)
    label.flat[:len(values)] = values
    return label


def _write_voc(root, names=('2007_000001', '2007_000002', '2007_000003')):
    """VOC layout; returns {name: raw label} (0 bg, 1..20, 255)."""
    labels = {}
    for i, name in enumerate(names):
        mmcv.imwrite(_image(i), osp.join(root, 'JPEGImages', name + '.jpg'))
        labels[name] = _label([0, 1, 5, 15, 20, 255], i)
        mmcv.imwrite(labels[name],
                     osp.join(root, 'SegmentationClass', name + '.png'))
    split_dir = osp.join(root, 'ImageSets', 'Segmentation')
    os.makedirs(split_dir)
    for split in ('train', 'val'):
        with open(osp.join(split_dir, split + '.txt'), 'w') as f:
            f.write('\n'.join(names) + '\n')
    return labels


def _gt(sample):
    return sample['data_samples'].gt_sem_seg.data[0].numpy()


# (a) Pascal VOC-20 and Context-59 ------------------------------------------


def test_voc20_classes_and_reduce_zero_label(tmp_path):
    labels = _write_voc(str(tmp_path))
    dataset = DATASETS.build(
        dict(
            type='PascalVOC20Dataset',
            data_root=str(tmp_path),
            data_prefix=dict(
                img_path='JPEGImages', seg_map_path='SegmentationClass'),
            ann_file='ImageSets/Segmentation/val.txt',
            pipeline=LOAD_PIPELINE))
    assert isinstance(dataset, PascalVOC20Dataset)
    assert dataset.metainfo['classes'] == VOC20_CLASSES
    assert len(dataset.metainfo['palette']) == 20
    assert dataset.metainfo['palette'][0] == [128, 0, 0]  # VOC's aeroplane
    assert dataset.reduce_zero_label
    assert len(dataset) == 3
    for sample in dataset:
        name = osp.splitext(osp.basename(sample['data_samples'].img_path))[0]
        raw = labels[name]
        expected = np.where(raw == 0, 255,
                            np.where(raw == 255, 255, raw.astype(int) - 1))
        gt = _gt(sample)
        np.testing.assert_array_equal(gt, expected)
        assert set(np.unique(gt)) == {0, 4, 14, 19, 255}
        assert tuple(sample['inputs'].shape) == (3, H, W)


def test_context59_renamed_classes(tmp_path):
    classes = PascalContext59USSDataset.METAINFO['classes']
    assert len(classes) == 59
    assert len(PascalContext59USSDataset.METAINFO['palette']) == 59
    for old, new in [('aeroplane', 'airplane'),
                     ('pottedplant', 'potted plant'),
                     ('tvmonitor', 'tv monitor')]:
        assert old not in classes and new in classes
    assert classes[0] == 'airplane' and classes[-1] == 'wood'
    mmcv.imwrite(_image(0), str(tmp_path / 'JPEGImages' / 'a.jpg'))
    dataset = DATASETS.build(
        dict(
            type='PascalContext59USSDataset',
            data_root=str(tmp_path),
            data_prefix=dict(img_path='JPEGImages', seg_map_path='Seg')))
    assert dataset.reduce_zero_label and len(dataset) == 1
    assert dataset.metainfo['classes'] == classes


# (b) COCO-Stuff-27: mapping, dataset, converter -----------------------------

# Fine ids (0-indexed stuffthingmaps values) and their coarse class, checked
# by hand against STEGO src/data.py fine_to_coarse and the COCO-Stuff label
# list; together they cover all 27 coarse classes.
HAND_CHECKED = {
    0: 'person',  # person
    1: 'vehicle',  # bicycle
    9: 'outdoor',  # traffic light
    15: 'animal',  # bird
    26: 'accessory',  # backpack
    33: 'sports',  # frisbee
    46: 'kitchen',  # cup
    51: 'food things',  # banana
    61: 'furniture things',  # chair
    71: 'electronic',  # tv
    77: 'appliance',  # microwave
    83: 'indoor',  # book
    91: 'textile',  # banner
    95: 'building',  # building-other
    97: 'furniture stuff',  # cabinet
    99: 'raw material',  # cardboard
    100: 'floor',  # carpet
    101: 'ceiling',  # ceiling-other
    105: 'sky',  # clouds
    112: 'structural',  # fence
    119: 'water',  # fog
    120: 'food stuff',  # food-other
    148: 'ground',  # road
    149: 'solid',  # rock
    168: 'plant',  # tree
    170: 'wall',  # wall-brick
    179: 'window',  # window-blind
}


def test_fine_to_coarse_table():
    assert sorted(FINE_TO_COARSE27) == list(range(182))
    things = {FINE_TO_COARSE27[i] for i in range(91)}
    stuff = {FINE_TO_COARSE27[i] for i in range(91, 182)}
    assert things == set(range(12)) and stuff == set(range(12, 27))
    assert set(HAND_CHECKED.values()) == set(COCO27_CLASSES)
    for fine, name in HAND_CHECKED.items():
        assert COCO27_CLASSES[FINE_TO_COARSE27[fine]] == name, fine


def test_convert_cocostuff27_label():
    fine = np.array(list(HAND_CHECKED) + [255, 255, 181], np.uint8)
    label = np.tile(fine, (2, 1))
    out = convert_cocostuff27_label(label)
    assert out.dtype == np.uint8 and out.shape == label.shape
    expected = [COCO27_CLASSES.index(n) for n in HAND_CHECKED.values()]
    np.testing.assert_array_equal(out[0], expected + [255, 255, 24])
    np.testing.assert_array_equal(out[1], out[0])
    # Every possible uint8 value: the table for 0..181, 255 above it.
    lut = convert_cocostuff27_label(np.arange(256, dtype=np.uint8)[None])[0]
    assert list(lut[:182]) == [FINE_TO_COARSE27[i] for i in range(182)]
    assert (lut[182:] == 255).all()
    # Wider integer types; out-of-range values are ignored.
    wide = np.array([[0, 181, 255, 300, -1]], np.int64)
    np.testing.assert_array_equal(
        convert_cocostuff27_label(wide), [[9, 24, 255, 255, 255]])
    with pytest.raises(ValueError, match='shape'):
        convert_cocostuff27_label(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match='integer'):
        convert_cocostuff27_label(np.zeros((2, 2), np.float32))


def _write_coco(root, split='val2017', n=3):
    """COCO-Stuff layout with fine stuffthingmaps; returns {name: fine}."""
    fines = {}
    values = list(HAND_CHECKED) + [255]
    for i in range(n):
        name = f'00000000{i:04d}'
        mmcv.imwrite(_image(i),
                     osp.join(root, 'images', split, name + '.jpg'))
        fines[name] = _label(values, i)
        mmcv.imwrite(fines[name],
                     osp.join(root, 'annotations', split, name + '.png'))
    return fines


def _run_converter(*args):
    return subprocess.run([sys.executable, CONVERTER, *args],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_cocostuff27_converter_and_dataset(tmp_path):
    root = str(tmp_path / 'coco')
    fines = _write_coco(root)
    proc = _run_converter(root, '--split', 'val2017', '--nproc', '2')
    assert proc.returncode == 0, proc.stderr
    ann_dir = osp.join(root, 'annotations', 'val2017')
    for name, fine in fines.items():
        out = mmcv.imread(
            osp.join(ann_dir, name + '_labelTrainIds27.png'),
            flag='unchanged')
        np.testing.assert_array_equal(out, convert_cocostuff27_label(fine))
        assert out[fine == 0].tolist() == [9] * int((fine == 0).sum())
        assert (out[fine == 255] == 255).all()
    # A second run skips its own outputs.
    proc = _run_converter(root, '--split', 'val2017')
    assert proc.returncode == 0, proc.stderr
    assert len(glob.glob(osp.join(ann_dir, '*.png'))) == 2 * len(fines)

    dataset = DATASETS.build(
        dict(
            type='COCOStuff27Dataset',
            data_root=root,
            data_prefix=dict(
                img_path='images/val2017',
                seg_map_path='annotations/val2017'),
            pipeline=LOAD_PIPELINE))
    assert isinstance(dataset, COCOStuff27Dataset)
    assert dataset.metainfo['classes'] == COCO27_CLASSES
    assert len(dataset.metainfo['palette']) == 27
    assert len({tuple(c) for c in dataset.metainfo['palette']}) == 27
    assert not dataset.reduce_zero_label
    assert len(dataset) == len(fines)
    for sample in dataset:
        path = sample['data_samples'].seg_map_path
        assert path.endswith('_labelTrainIds27.png')
        name = osp.basename(path)[:-len('_labelTrainIds27.png')]
        np.testing.assert_array_equal(
            _gt(sample), convert_cocostuff27_label(fines[name]))


def test_cocostuff27_converter_out_dir(tmp_path):
    root = str(tmp_path / 'coco')
    fines = _write_coco(root, split='train2017', n=2)
    out_dir = str(tmp_path / 'out')
    proc = _run_converter(root, '--split', 'train2017', '--out-dir', out_dir)
    assert proc.returncode == 0, proc.stderr
    written = sorted(glob.glob(osp.join(out_dir, 'train2017', '*.png')))
    assert [osp.basename(p) for p in written] == [
        n + '_labelTrainIds27.png' for n in sorted(fines)
    ]
    assert not glob.glob(
        osp.join(root, 'annotations', 'train2017', '*_labelTrainIds27.png'))


def test_cocostuff27_converter_errors(tmp_path):
    root = str(tmp_path / 'coco')
    _write_coco(root, n=1)
    bad = osp.join(root, 'annotations', 'val2017', 'broken.png')
    with open(bad, 'wb') as f:
        f.write(b'this is not a png')
    proc = _run_converter(root, '--split', 'val2017', '--nproc', '2')
    assert proc.returncode != 0
    assert 'cannot decode' in proc.stderr and bad in proc.stderr

    missing = osp.join(root, 'annotations', 'test2017')
    proc = _run_converter(root, '--split', 'test2017')
    assert proc.returncode != 0
    assert 'does not exist' in proc.stderr and missing in proc.stderr


# (c) dataset base configs ---------------------------------------------------

# config: (dataset type, train short side, crop, train batch, test short side)
EXPECTED_CONFIGS = {
    'voc20.py': ('PascalVOC20Dataset', 336, (336, 336), 1, 336),
    'context59.py': ('PascalContext59USSDataset', 448, (480, 480), 1, 448),
    'ade150.py': ('ADE20KDataset', 512, (512, 512), 1, 512),
    'cityscapes19.py': ('CityscapesDataset', 448, (512, 512), 16, 448),
    'cocostuff27.py': ('COCOStuff27Dataset', 512, (512, 512), 1, 512),
    # cocostuff27.py plus the peers' table (their pipelines are the leaves')
    'uss_cocostuff27_peers.py': ('COCOStuff27Dataset', 512, (512, 512), 1,
                                 512),
}


def _dataset_configs():
    """The real datasets' USS configs (the toy world is tested below, the
    test-only open-vocabulary ``ovss_*.py`` in test_ovss_datasets.py)."""
    return sorted(
        p for p in glob.glob(osp.join(CONFIG_DIR, '*.py'))
        if osp.basename(p) != 'toy_world.py'
        and not osp.basename(p).startswith('ovss_'))


def test_toy_world_config_reads_no_train_labels():
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'toy_world.py'))
    assert DATASETS.get(cfg.dataset_type) is not None
    train = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert 'LoadAnnotations' not in train
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert 'LoadAnnotations' in [
            t['type'] for t in loader.dataset.pipeline
        ]
    assert cfg.val_evaluator == dict(
        type='PerClassIoUMetric', iou_metrics=['mIoU'], bias_scores=dict())


def test_found_all_dataset_configs():
    assert [osp.basename(p) for p in _dataset_configs()] == sorted(
        EXPECTED_CONFIGS)


@pytest.mark.parametrize('path', _dataset_configs(), ids=osp.basename)
def test_dataset_config_reads_no_train_labels(path):
    cfg = Config.fromfile(path)
    dataset_type, short, crop, batch, test_short = EXPECTED_CONFIGS[
        osp.basename(path)]
    assert cfg.dataset_type == dataset_type
    assert DATASETS.get(dataset_type) is not None
    train = cfg.train_dataloader
    types = [t['type'] for t in train.dataset.pipeline]
    assert 'LoadAnnotations' not in types
    assert types == [
        'LoadImageFromFile', 'RandomResize', 'RandomCrop', 'RandomFlip',
        'PhotoMetricDistortion', 'PackSegInputs'
    ]
    for t in train.dataset.pipeline:
        if t['type'] == 'RandomCrop':
            assert t.get('cat_max_ratio', 1.0) >= 1.0
            assert tuple(t['crop_size']) == crop
        if t['type'] == 'RandomResize':
            assert tuple(t['scale']) == (4 * short, short)
            assert tuple(t['ratio_range']) == (0.5, 2.0)
    assert tuple(cfg.crop_size) == crop
    assert train.batch_size == batch and train.num_workers == 4
    assert train.sampler == dict(type='InfiniteSampler', shuffle=True)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert loader.batch_size == 1
        assert loader.sampler == dict(type='DefaultSampler', shuffle=False)
        types = [t['type'] for t in loader.dataset.pipeline]
        assert types == [
            'LoadImageFromFile', 'Resize', 'LoadAnnotations', 'PackSegInputs'
        ]
        assert tuple(loader.dataset.pipeline[1]['scale']) == (2048,
                                                              test_short)
    assert cfg.val_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    assert cfg.test_evaluator == cfg.val_evaluator


# (d) the VOC train pipeline runs without any label file ---------------------


def test_voc_train_dataset_runs_without_labels(tmp_path):
    labels = _write_voc(str(tmp_path))
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'voc20.py'))

    # Ground truth through the config's val pipeline (Resize, then labels).
    val_cfg = cfg.val_dataloader.dataset
    val_cfg.data_root = str(tmp_path)
    for sample in DATASETS.build(val_cfg):
        name = osp.splitext(osp.basename(sample['data_samples'].img_path))[0]
        raw = labels[name].astype(int)
        np.testing.assert_array_equal(
            _gt(sample), np.where((raw == 0) | (raw == 255), 255, raw - 1))

    shutil.rmtree(tmp_path / 'SegmentationClass')
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.data_root = str(tmp_path)
    dataset = DATASETS.build(train_cfg)
    assert len(dataset) == len(labels)
    for i in range(len(dataset)):
        sample = dataset[i]
        inputs = sample['inputs']
        assert inputs.shape[0] == 3
        assert max(inputs.shape[1:]) <= 336 and min(inputs.shape[1:]) > 0
        assert 'gt_sem_seg' not in sample['data_samples']

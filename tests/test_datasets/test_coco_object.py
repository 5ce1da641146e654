"""COCO-Object (issue 14): the label conversion by hand, the converter tool on
synthetic COCO-Stuff label maps, and the dataset on the converted layout."""
import glob
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import reclip_mmseg  # noqa: F401
from reclip_mmseg.datasets import (COCO_THING_IDS, COCOObjectDataset,
                                   convert_coco_object_label)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONVERTER = osp.join(REPO, 'tools', 'dataset_converters', 'coco_object.py')


def test_conversion_by_hand():
    # fine ids: person 0 -> 1, bicycle 1 -> 2, 12 (stop sign, after the
    # unused id 11) -> 12, toothbrush 89 -> 80; unused thing ids 11 and 90,
    # stuff 91 and 181, unlabeled 255 -> 0 (background)
    label = np.array([[0, 1, 12, 89], [11, 90, 91, 181], [255, 255, 0, 0]],
                     np.uint8)
    np.testing.assert_array_equal(
        convert_coco_object_label(label),
        [[1, 2, 12, 80], [0, 0, 0, 0], [0, 0, 1, 1]])
    lut = convert_coco_object_label(np.arange(256, dtype=np.uint8)[None])[0]
    assert sorted(set(lut.tolist())) == list(range(81))
    assert [int(lut[i]) for i in COCO_THING_IDS] == list(range(1, 81))
    assert (np.delete(lut, COCO_THING_IDS) == 0).all()
    with pytest.raises(ValueError, match='expected a \\(H, W\\) label map'):
        convert_coco_object_label(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match='integer label map'):
        convert_coco_object_label(np.zeros((2, 2), np.float32))


def test_classes_follow_mmseg_coco_stuff():
    classes = COCOObjectDataset.METAINFO['classes']
    assert len(classes) == 81 and classes[0] == 'background'
    assert classes[1] == 'person' and classes[12] == 'stop sign'
    assert classes[80] == 'toothbrush'
    assert len(COCOObjectDataset.METAINFO['palette']) == 81


def test_converter_and_dataset(tmp_path):
    root = str(tmp_path / 'coco')
    rng = np.random.RandomState(0)
    values = np.array([0, 1, 12, 89, 11, 91, 181, 255], np.uint8)
    fines = {}
    for i in range(3):
        name = f'00000000{i:04d}'
        mmcv.imwrite(
            rng.randint(0, 255, (12, 16, 3), np.uint8),
            osp.join(root, 'images', 'val2017', name + '.jpg'))
        fines[name] = rng.choice(values, (12, 16)).astype(np.uint8)
        mmcv.imwrite(fines[name],
                     osp.join(root, 'annotations', 'val2017', name + '.png'))
    proc = subprocess.run(
        [sys.executable, CONVERTER, root, '--split', 'val2017', '--nproc',
         '2'], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ann_dir = osp.join(root, 'annotations', 'val2017')
    for name, fine in fines.items():
        out = mmcv.imread(
            osp.join(ann_dir, name + '_instanceTrainIds.png'),
            flag='unchanged')
        np.testing.assert_array_equal(out, convert_coco_object_label(fine))
    # a second run skips its own outputs
    proc = subprocess.run(
        [sys.executable, CONVERTER, root, '--split', 'val2017'], cwd=REPO,
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert len(glob.glob(osp.join(ann_dir, '*.png'))) == 2 * len(fines)

    init_default_scope('mmseg')
    dataset = DATASETS.build(
        dict(type='COCOObjectDataset', data_root=root,
             data_prefix=dict(img_path='images/val2017',
                              seg_map_path='annotations/val2017'),
             pipeline=[dict(type='LoadImageFromFile'),
                       dict(type='LoadAnnotations'),
                       dict(type='PackSegInputs')]))
    assert len(dataset) == 3 and not dataset.reduce_zero_label
    for sample in dataset:
        path = sample['data_samples'].seg_map_path
        name = osp.basename(path)[:-len('_instanceTrainIds.png')]
        gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
        np.testing.assert_array_equal(gt,
                                      convert_coco_object_label(fines[name]))
        assert set(gt.ravel().tolist()) <= set(range(81))

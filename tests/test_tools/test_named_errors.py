"""Issue 11: every bad input fails with an error that names the file, key or
value and says what was expected; shape mismatches fail at model build."""
import copy
import importlib.util
import json
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import TINY_CLIP, write_synthetic_voc
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample

from reclip_mmseg.models.utils import build_clip

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
NAMES = ['cat', 'dog', 'car']


@pytest.fixture
def data_root(tmp_path):
    root = str(tmp_path / 'voc')
    write_synthetic_voc(root)
    return root


def _dataset(data_root, split='val'):
    cfg = Config.fromfile(TINY)[f'{split}_dataloader'].dataset
    cfg.data_root = data_root
    return DATASETS.build(cfg)


def _segmentor_cfg(pretrained=None, **head):
    return ConfigDict(type='ReCLIPPlusPlus',
                      data_preprocessor=dict(type='SegDataPreProcessor',
                                             mean=[0, 0, 0],
                                             std=[1, 1, 1]),
                      clip=dict(model=TINY_CLIP, pretrained=pretrained),
                      backbone=dict(type='MaskCLIPViT'),
                      decode_head=dict(
                          dict(type='BiasRectificationHead',
                               class_names=NAMES,
                               in_channels=32,
                               pos_channels=64,
                               norm_cfg=dict(type='BN')), **head),
                      hypothesis=dict(type='SlidingWindowHypothesis',
                                      window=32,
                                      stride=16))


# -- data files ----------------------------------------------------------
def test_empty_image_file_is_named(data_root):
    open(osp.join(data_root, 'JPEGImages', 'val_1.jpg'), 'wb').close()
    dataset = _dataset(data_root)
    dataset[0]
    with pytest.raises(ValueError,
                       match=r'cannot decode image .*val_1\.jpg: the file '
                       r'is empty \(0 bytes\)'):
        dataset[1]


def test_empty_label_file_is_named(data_root):
    open(osp.join(data_root, 'SegmentationClass', 'val_0.png'), 'wb').close()
    with pytest.raises(ValueError,
                       match=r'cannot decode label map .*val_0\.png'):
        _dataset(data_root)[0]


def test_empty_split_file_is_named(data_root):
    open(osp.join(data_root, 'ImageSets/Segmentation/val.txt'), 'w').close()
    with pytest.raises(ValueError,
                       match=r'PascalVOC20Dataset has no samples: split '
                       r'file .*val\.txt lists no image'):
        _dataset(data_root)


# -- CLIP weights --------------------------------------------------------
def test_pretrained_text_file_is_named(tmp_path):
    bad = tmp_path / 'notes.txt'
    bad.write_text('not weights\n')
    with pytest.raises(RuntimeError,
                       match=r'cannot load CLIP weights from .*notes\.txt: '
                       r'it is not a CLIP checkpoint'):
        build_clip(copy.deepcopy(TINY_CLIP), str(bad))


def test_truncated_pretrained_is_named(tiny_clip_file, tmp_path):
    path, _ = tiny_clip_file
    data = open(path, 'rb').read()
    bad = tmp_path / 'half.pt'
    bad.write_bytes(data[:len(data) // 2])
    with pytest.raises(RuntimeError,
                       match=r'from .*half\.pt: it is not a complete '
                       r'checkpoint'):
        build_clip(copy.deepcopy(TINY_CLIP), str(bad))


def test_pretrained_of_other_architecture_is_named(tiny_clip_file):
    path, _ = tiny_clip_file
    wider = copy.deepcopy(TINY_CLIP)
    wider['vision_cfg'].update(width=128, head_width=64)
    with pytest.raises(RuntimeError,
                       match=r'tiny_clip\.pt: its weights do not fit '
                       r"the CLIP model .*'width': 128.*tensors differ, e\.g\. "
                       r"\['visual\.class_embedding \(file \(64,\), model "
                       r"\(128,\)\)"):
        build_clip(wider, path)
    # the toy world's fp16 CLIP in the tiny architecture (was a bare Half
    # NotImplementedError from open_clip's position-embedding resize)
    toy = osp.join(ROOT, 'reclip_mmseg', 'toy', 'toy_clip.pt')
    with pytest.raises(RuntimeError,
                       match=r'toy_clip\.pt: its weights do not fit '
                       r'the CLIP model .* tensors differ'):
        build_clip(copy.deepcopy(TINY_CLIP), toy)


# -- model build ---------------------------------------------------------
def test_head_or_backbone_with_a_clip_of_its_own_is_refused():
    """The CLIP is configured once (model.clip): a backbone or head that
    sets its own (new key or the old ones) is refused, naming the key."""
    wide = copy.deepcopy(TINY_CLIP)
    wide['embed_dim'] = 48
    for part, key, value in [('decode_head', 'clip', dict(model=wide)),
                             ('decode_head', 'clip_model', wide),
                             ('backbone', 'pretrained', 'openai'),
                             ('backbone', 'cache_dir', '/tmp')]:
        cfg = _segmentor_cfg()
        cfg[part][key] = value
        with pytest.raises(ValueError,
                           match=rf'model\.{part}\.{key} is set, but the '
                           r'CLIP is configured once.*move it to '
                           r'model\.clip='):
            MODELS.build(cfg)
    cfg = _segmentor_cfg()
    cfg.clip.clip_model = wide
    with pytest.raises(KeyError, match=r"model\.clip has unknown key\(s\) "
                       r"\['clip_model'\].*'clip_model' is now 'model'"):
        MODELS.build(cfg)


def test_head_and_clip_dims_checked_at_build():
    cfg = _segmentor_cfg()
    cfg.decode_head.in_channels = 48
    with pytest.raises(ValueError,
                       match=r'in_channels=48 but the CLIP text embedding '
                       r'dim is 32'):
        MODELS.build(cfg)


def test_pos_channels_checked_at_build():
    with pytest.raises(ValueError,
                       match=r'pos_channels is 768 but the backbone ViT is '
                       r'64 wide.*set pos_channels=64'):
        MODELS.build(_segmentor_cfg(pos_channels=768))


def test_too_long_class_name_is_named():
    long_name = ' '.join(['very'] * 80) + ' long class'
    with pytest.raises(ValueError,
                       match=r'class names too long for the 77-token CLIP '
                       r"prompt .*'very very"):
        MODELS.build(_segmentor_cfg(class_names=['cat', long_name]))


def test_duplicate_class_names_refused():
    with pytest.raises(ValueError, match=r"lists \['cat'\] more than once"):
        MODELS.build(_segmentor_cfg(class_names=['cat', 'dog', 'cat']))


# -- hypothesis files ----------------------------------------------------
def _hypothesis_file(tmp_path, segmentor, hypotheses):
    path = tmp_path / 'hyp.json'
    path.write_text(
        json.dumps(
            dict(fingerprint=segmentor.hypothesis.fingerprint(segmentor),
                 hypotheses=hypotheses)))
    return str(path)


def _with_file(path, pretrained=None):
    cfg = _segmentor_cfg(pretrained)
    cfg.hypothesis.file = path
    return MODELS.build(cfg)


def test_broken_hypothesis_json_is_named(tmp_path):
    path = tmp_path / 'hyp.json'
    path.write_text('{"fingerprint": {')
    seg = _with_file(str(path))
    sample = SegDataSample(metainfo=dict(img_path='a.jpg'))
    with pytest.raises(ValueError,
                       match=r'hypothesis file .*hyp\.json is not valid '
                       'JSON'):
        seg.hypothesis(seg, [sample])


@pytest.mark.parametrize('entry', [['1'], [0, 3], [-1], 2])
def test_bad_hypothesis_entries_name_the_image(tmp_path, entry):
    seg = MODELS.build(_segmentor_cfg())
    path = _hypothesis_file(tmp_path, seg, {'a.jpg': [0], 'img7.jpg': entry})
    seg = _with_file(path)
    sample = SegDataSample(metainfo=dict(img_path='a.jpg'))
    with pytest.raises(ValueError,
                       match=r'image img7\.jpg has .*expected a list of '
                       r'class indices \(ints in 0\.\.2\)'):
        seg.hypothesis(seg, [sample])


def test_hypothesis_fingerprint_covers_weight_content(tiny_clip_file,
                                                      tmp_path):
    path, model = tiny_clip_file
    seg = MODELS.build(_segmentor_cfg(path))
    hyp = _hypothesis_file(tmp_path, seg, {'a.jpg': [0]})
    sample = SegDataSample(metainfo=dict(img_path='a.jpg'))
    fresh = _with_file(hyp, path)
    assert fresh.hypothesis(fresh, [sample]) == [[0]]
    # other weights at the same path: the file is stale
    state = model.state_dict()
    state['visual.proj'] = state['visual.proj'] + 1
    torch.save(state, path)
    stale = _with_file(hyp, path)
    with pytest.raises(ValueError,
                       match=r'does not match this model \(weights: file '
                       r'has .*, model has'):
        stale.hypothesis(stale, [sample])


def _tool(name):
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    spec = importlib.util.spec_from_file_location(
        f'_issue11_{name}', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_precompute_out_dir_checked_first(tmp_path, monkeypatch):
    tool = _tool('precompute_hypotheses')
    out = str(tmp_path / 'missing' / 'hyp.json')
    monkeypatch.setattr(sys, 'argv', ['x', TINY, '--out', out])
    monkeypatch.setattr(MODELS, 'build', None)  # must not get that far
    with pytest.raises(SystemExit,
                       match=r'--out .*missing/hyp\.json: '
                       r'directory .*missing does not exist'):
        tool.main()


# -- labels at evaluation ------------------------------------------------
def _test_runner(data_root, tmp_path):
    cfg = Config.fromfile(TINY)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.work_dir = str(tmp_path / 'w')
    return Runner.from_cfg(cfg)


def test_out_of_range_labels_are_named(data_root, tmp_path):
    label = cv2.imread(osp.join(data_root, 'SegmentationClass', 'val_1.png'),
                       cv2.IMREAD_UNCHANGED)
    label[5, 5], label[6, 6] = 41, 60  # 40 and 59 after reduce_zero_label
    cv2.imwrite(osp.join(data_root, 'SegmentationClass', 'val_1.png'), label)
    with pytest.raises(ValueError,
                       match=r'label map .*val_1\.png holds values \[40, 59\]'
                       r' after reduce_zero_label .* outside the 20 classes '
                       r'\(0\.\.19\) and not the ignore index 255'):
        _test_runner(data_root, tmp_path).test()


def test_label_smaller_than_image_is_named(data_root, tmp_path):
    cv2.imwrite(osp.join(data_root, 'SegmentationClass', 'val_1.png'),
                np.zeros((32, 40), np.uint8))
    with pytest.raises(ValueError,
                       match=r'label map .*val_1\.png is \(32, 40\) \(h, w\) '
                       r'but its image .*val_1\.jpg is \(64, 80\)'):
        _test_runner(data_root, tmp_path).test()

"""Released hypothesis files import in the release's image order and train."""
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import TRAIN, write_synthetic_voc
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
sys.path.insert(0, osp.join(ROOT, 'tools'))
RELEASED = ['[8, 11]', '[19]', '[0]', '[2, 6, 2]']  # as released: 1 per line


@pytest.fixture
def setup(tmp_path):
    root = str(tmp_path / 'voc')
    write_synthetic_voc(root)
    cfg = Config.fromfile(TINY)
    cfg.train_dataloader.dataset.data_root = root
    src = tmp_path / 'voc_pseudo_label_ReCLIPPP.json'
    src.write_text('\n'.join(RELEASED) + '\n')
    return cfg, str(src), root, tmp_path


def img(root, name):
    return osp.join(root, 'JPEGImages', name + '.jpg')


def test_import_follows_list_order_and_training_accepts_it(setup):
    from import_official_hypotheses import import_hypotheses, main
    cfg, src, root, tmp_path = setup
    out = str(tmp_path / 'hyp.json')
    data = import_hypotheses(src, cfg, out)
    assert data['hypotheses'] == {
        img(root, 'train_0'): [8, 11],
        img(root, 'train_1'): [19],
        img(root, 'train_2'): [0],
        img(root, 'train_3'): [2, 6],
    }
    assert json.load(open(out))['fingerprint']['imported'] == osp.basename(
        src)
    # an explicit order (e.g. the release's own list) wins
    order = tmp_path / 'order.txt'
    order.write_text('\n'.join(reversed(TRAIN)))
    main([src, '--config', TINY, '--out', out, '--image-list', str(order),
          '--cfg-options', f'train_dataloader.dataset.data_root={root}'])
    assert json.load(open(out))['hypotheses'][img(root, 'train_3')] == [8, 11]

    # training takes the ids from the file (no CLIP pass, no refusal)
    cfg.model.hypothesis.file = out
    model = MODELS.build(cfg.model)
    model.hypothesis.compute = None  # would fail if called
    samples = [SegDataSample(metainfo=dict(img_path=img(root, n)))
               for n in ('train_0', 'train_3')]
    assert model.hypothesis(model, samples) == [[2, 6], [8, 11]]
    # class names are still checked
    cfg.model.decode_head.class_names = ['cat', 'dog']
    other = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='class_names'):
        other.hypothesis(other, samples)


def test_bad_files_raise(setup):
    from import_official_hypotheses import import_hypotheses
    cfg, src, root, tmp_path = setup
    short = tmp_path / 'short.json'
    short.write_text('[1]\n[2]\n[3]\n')
    with pytest.raises(ValueError, match='3 lines but the training list '
                       'has 4 images'):
        import_hypotheses(str(short), cfg, str(tmp_path / 'o.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text('[1]\n[2]\n[20, 3]\n[4]\n')
    with pytest.raises(ValueError, match=r'line 3: class ids \[20\] out of '
                       'range for 20 classes'):
        import_hypotheses(str(bad), cfg, str(tmp_path / 'o.json'))
    # a folder-scanned split (ADE20K-like): refused without an image order
    cfg.train_dataloader.dataset = dict(
        type='BaseSegDataset', data_root=root, img_suffix='.jpg',
        data_prefix=dict(img_path='JPEGImages'), pipeline=[])
    with pytest.raises(ValueError, match='os.listdir.*--image-list'):
        import_hypotheses(src, cfg, str(tmp_path / 'o.json'))
    order = tmp_path / 'order.txt'
    order.write_text('\n'.join(TRAIN))
    data = import_hypotheses(src, cfg, str(tmp_path / 'o.json'), str(order))
    assert data['hypotheses'][img(root, 'train_1')] == [19]

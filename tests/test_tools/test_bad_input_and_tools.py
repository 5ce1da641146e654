"""Clear errors on bad input; hypothesis precomputation; mmseg inference
APIs on our checkpoints."""
import contextlib
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import write_synthetic_voc
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import DATASETS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')


def tiny_cfg(data_root, work_dir, **updates):
    cfg = Config.fromfile(TINY)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(updates)
    return cfg


@pytest.fixture
def data_root(tmp_path):
    root = str(tmp_path / 'voc')
    write_synthetic_voc(root)
    return root


def test_class_count_mismatch_is_reported(data_root, tmp_path):
    cfg = tiny_cfg(
        data_root, tmp_path / 'w',
        **{'model.decode_head.class_names': ['cat', 'dog', 'car']})
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError,
                       match=r'PascalVOC20Dataset .* has 20 classes but '
                       r'model.decode_head.num_classes is 3'):
        runner.train()


def test_unknown_data_root_names_path(tmp_path):
    missing = str(tmp_path / 'no_VOCdevkit')
    cfg = tiny_cfg(missing, tmp_path / 'w')
    with pytest.raises(FileNotFoundError, match='no_VOCdevkit'):
        Runner.from_cfg(cfg).train()


def test_undecodable_image_in_pipeline_names_file(data_root):
    with open(osp.join(data_root, 'JPEGImages', 'val_1.jpg'), 'wb') as f:
        f.write(b'garbage')
    cfg = Config.fromfile(TINY).val_dataloader.dataset
    cfg.data_root = data_root
    dataset = DATASETS.build(cfg)
    dataset[0]
    with pytest.raises(Exception, match='val_1.jpg'):
        dataset[1]


def test_precompute_hypotheses_then_train_from_file(data_root, tmp_path):
    out = str(tmp_path / 'hyp.json')
    opts = [
        f'{loader}.dataset.data_root={data_root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ]
    proc = subprocess.run(
        [
            sys.executable, 'tools/precompute_hypotheses.py', TINY, '--out',
            out, '--cfg-options', *opts
        ],
        cwd=ROOT,
        capture_output=True,
        text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.load(open(out))
    assert len(data['hypotheses']) == 4
    assert all(p.endswith('.jpg') and 'train_' in p
               for p in data['hypotheses'])
    assert data['fingerprint']['params']['window'] == 32
    # training from the file computes nothing
    cfg = tiny_cfg(
        data_root, tmp_path / 'w', **{
            'model.hypothesis.file': out,
            'train_cfg.max_iters': 1,
            'train_cfg.val_interval': 10
        })
    runner = Runner.from_cfg(cfg)
    runner.model.hypothesis.compute = None  # would fail if called
    runner.train()
    assert len(runner.model.hypothesis.cache) == 4


def test_inferencer_and_init_model_use_checkpoint_classes(
        data_root, tmp_path):
    cfg = tiny_cfg(data_root, tmp_path / 'w', **{'train_cfg.max_iters': 1})
    runner = Runner.from_cfg(cfg)
    runner.train()
    ckpt = str(tmp_path / 'w' / 'iter_1.pth')
    from mmseg.apis import MMSegInferencer, inference_model, init_model
    try:  # our own run's checkpoint: trusted, if loads are guarded
        from reclip_mmseg.safe_checkpoint import trusted_checkpoint
    except ImportError:
        trusted_checkpoint = contextlib.nullcontext
    cfg.dump(str(tmp_path / 'cfg.py'))
    with trusted_checkpoint(ckpt):
        model = init_model(str(tmp_path / 'cfg.py'), ckpt, device='cpu')
    assert model.dataset_meta['classes'][0] == 'airplane'
    assert len(model.dataset_meta['classes']) == 20
    img = osp.join(data_root, 'JPEGImages', 'val_0.jpg')
    result = inference_model(model, img)
    assert result.pred_sem_seg.data.shape[-2:] == (64, 80)
    with trusted_checkpoint(ckpt):
        inferencer = MMSegInferencer(
            model=str(tmp_path / 'cfg.py'), weights=ckpt, device='cpu')
    out = inferencer(img, return_datasamples=True)
    assert out.pred_sem_seg.data.shape[-2:] == (64, 80)
    assert inferencer.model.dataset_meta['classes'][-1] == 'tv monitor'
    # both hold exactly the checkpoint's weights, which a fresh model has not
    state = torch.load(ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    for loaded in (model, inferencer.model):
        own = loaded.state_dict()
        assert set(state) <= set(own)
        different = [k for k in state if not torch.equal(own[k], state[k])]
        assert different == []
    from mmseg.registry import MODELS
    fresh = MODELS.build(cfg.model)
    fresh.init_weights()
    for key in ('decode_head.conv_seg.weight', 'decode_head.reference.ctx',
                'decode_head.pos_proj.weight'):
        assert not torch.equal(fresh.state_dict()[key], state[key]), key
    # same model, same image; the inferencer decodes the image its own way
    agree = (out.pred_sem_seg.data == result.pred_sem_seg.data).float()
    assert agree.mean() > 0.9

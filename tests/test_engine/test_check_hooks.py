"""Issue 11: runs that would report results they did not compute as meant
stop with an error: a checkpoint of another config, class names that differ
from the dataset's, a work dir in use, --resume with nothing to resume."""
import importlib.util
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from conftest import write_synthetic_voc
from mmengine.config import Config
from mmengine.runner import Runner

from reclip_mmseg.datasets import PascalVOC20Dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
TINY_MASKCLIP = osp.join(ROOT, 'configs', 'maskclip_tiny_synthetic-voc.py')
VOC = list(PascalVOC20Dataset.METAINFO['classes'])


@pytest.fixture
def data_root(tmp_path):
    root = str(tmp_path / 'voc')
    write_synthetic_voc(root)
    return root


def _cfg(data_root, work_dir, config=TINY, **updates):
    cfg = Config.fromfile(config)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(updates)
    return cfg


# -- checkpoints of another config -------------------------------------
def _checkpoint(runner, path, edit=None):
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    if edit:
        edit(state)
    torch.save(
        dict(state_dict=state, meta=dict(experiment_name='other_run_1')), path)
    return str(path)


def test_mismatched_checkpoint_names_keys(data_root, tmp_path):
    runner = Runner.from_cfg(_cfg(data_root, tmp_path / 'a'))

    def edit(state):
        del state['decode_head.reference.ctx']
        state['decode_head.extra.weight'] = torch.zeros(2)
        state['decode_head.conv_seg.weight'] = torch.zeros(20, 52, 3, 3)

    bad = _checkpoint(runner, tmp_path / 'bad.pth', edit)
    tester = Runner.from_cfg(_cfg(data_root, tmp_path / 'b', load_from=bad))
    with pytest.raises(ValueError) as err:
        tester.test()
    msg = str(err.value)
    assert 'bad.pth (written by run other_run_1) does not fit' in msg
    assert '1 missing: decode_head.reference.ctx' in msg
    assert '1 unexpected: decode_head.extra.weight' in msg
    assert ('decode_head.conv_seg.weight (checkpoint (20, 52, 3, 3), model '
            '(20, 52, 5, 5))') in msg
    assert 'checkpoint_strict=False' in msg
    # a matching checkpoint loads
    full = _checkpoint(runner, tmp_path / 'full.pth')
    ok = Runner.from_cfg(_cfg(data_root, tmp_path / 'c', load_from=full))
    ok.test()
    assert torch.equal(ok.model.decode_head.reference.ctx,
                       runner.model.decode_head.reference.ctx)


def _drop_towers(state):
    for k in list(state):
        if k.startswith(('backbone.', 'decode_head.text_encoder.')):
            del state[k]


def test_checkpoint_without_clip_towers(data_root, tmp_path, tiny_clip_file):
    # random towers (pretrained=None) cannot be rebuilt: they must be there
    runner = Runner.from_cfg(_cfg(data_root, tmp_path / 'a'))
    slim = _checkpoint(runner, tmp_path / 'slim.pth', _drop_towers)
    tester = Runner.from_cfg(_cfg(data_root, tmp_path / 'b', load_from=slim))
    with pytest.raises(ValueError,
                       match=r'missing: backbone.visual.class_embedding'):
        tester.test()
    # towers built from a pretrained file may be left out (slim checkpoint)
    clip = tiny_clip_file[0]
    opts = {'model.clip.pretrained': clip}
    runner = Runner.from_cfg(_cfg(data_root, tmp_path / 'c', **opts))
    slim = _checkpoint(runner, tmp_path / 'slim2.pth', _drop_towers)
    Runner.from_cfg(_cfg(data_root, tmp_path / 'd', load_from=slim,
                         **opts)).test()


def test_reclip_checkpoint_in_maskclip_model_fails(data_root, tmp_path):
    runner = Runner.from_cfg(_cfg(data_root, tmp_path / 'a'))
    ckpt = _checkpoint(runner, tmp_path / 'reclip.pth')
    tester = Runner.from_cfg(
        _cfg(data_root, tmp_path / 'b', TINY_MASKCLIP, load_from=ckpt))
    with pytest.raises(ValueError,
                       match=r'does not fit CLIPSegmentor .* unexpected: '
                       r'decode_head.conv_seg.bias'):
        tester.test()


# -- class names ---------------------------------------------------------
def test_swapped_class_names_refused(data_root, tmp_path):
    names = [VOC[1], VOC[0]] + VOC[2:]
    cfg = _cfg(data_root, tmp_path / 'w',
               **{'model.decode_head.class_names': names})
    with pytest.raises(ValueError,
                       match=r"at 2 position\(s\): #0: model 'bicycle', "
                       r"dataset 'airplane'; #1: model 'airplane', dataset "
                       r"'bicycle'"):
        Runner.from_cfg(cfg).test()
    # a list of synonyms that holds the dataset's name is the same class
    names = [[VOC[0], 'aeroplane']] + VOC[1:]
    cfg = _cfg(data_root, tmp_path / 'w2',
               **{'model.decode_head.class_names': names})
    Runner.from_cfg(cfg).test()


# -- work dir in use -----------------------------------------------------
def _write_lock(work_dir, pid):
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'train.lock'), 'w') as f:
        json.dump(dict(pid=pid, host=socket.gethostname(), started=0), f)


def test_work_dir_of_live_run_refused(data_root, tmp_path):
    work = str(tmp_path / 'w')
    other = subprocess.Popen(
        [sys.executable, '-c', 'import time; time.sleep(120)'])
    try:
        _write_lock(work, other.pid)
        cfg = _cfg(data_root, work, **{'train_cfg.max_iters': 1})
        with pytest.raises(RuntimeError,
                           match=rf'work dir .* is in use by another '
                           rf'training run \(pid {other.pid}, lock file '):
            Runner.from_cfg(cfg).train()
        assert not osp.exists(osp.join(work, 'last_checkpoint'))
    finally:
        other.kill()
        other.wait()
    # the other run died without removing its lock: it is taken over
    cfg = _cfg(data_root, work, **{
        'train_cfg.max_iters': 1,
        'train_cfg.val_interval': 10
    })
    cfg.experiment_name = 'after_crash'
    Runner.from_cfg(cfg).train()
    assert osp.isfile(osp.join(work, 'iter_1.pth'))
    assert not osp.exists(osp.join(work, 'train.lock'))  # released


# -- --resume with nothing to resume --------------------------------------
def test_resume_without_checkpoint_says_so(data_root, tmp_path, monkeypatch):
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    spec = importlib.util.spec_from_file_location(
        '_issue11_train', osp.join(ROOT, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    work = str(tmp_path / 'empty_work')
    monkeypatch.setattr(sys, 'argv', [
        'train.py', TINY, '--work-dir', work, '--resume', '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}'
    ])
    with pytest.raises(SystemExit,
                       match=r'--resume, but work dir .*empty_work has no '
                       r'checkpoint to resume from'):
        train.main()


def test_class_check_counts_classes_after_the_synonym_merge():
    """A head with one query per synonym predicts the classes its
    SynonymSoftmax step merges them into; names regroup, order still
    checked."""
    from types import SimpleNamespace

    from reclip_mmseg.engine.class_check_hook import (class_name_mismatch,
                                                      predicted_classes)
    from reclip_mmseg.models.postprocess import PostProcessChain
    groups = [['background', 'sky'], 'cat', ['dog', 'puppy']]
    head = SimpleNamespace(
        num_classes=5, class_names=['background', 'sky', 'cat', 'dog',
                                    'puppy'])
    model = SimpleNamespace(
        decode_head=head, postprocess=PostProcessChain(),
        postprocess_merged=PostProcessChain([
            dict(type='PAMR', num_iter=1, dilations=(1, )),
            dict(type='SynonymSoftmax', logit_scale=40, class_names=groups),
            dict(type='BackgroundThreshold', prob_thd=0.1)]))
    assert predicted_classes(model, head) == (3, groups)
    num, names = predicted_classes(model, head)
    assert class_name_mismatch(names, ['background', 'cat', 'dog']) == []
    assert class_name_mismatch(names, ['background', 'dog', 'cat']) == [
        (1, 'cat', 'dog'), (2, ['dog', 'puppy'], 'cat')]
    # without the merge step: the head's own count and names
    plain = SimpleNamespace(decode_head=head)
    assert predicted_classes(plain, head) == (5, head.class_names)

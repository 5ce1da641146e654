"""Exact resume: 8 iterations in one go == 4 iterations + --resume to 8."""
import os
import os.path as osp

import pytest
import torch
from conftest import write_synthetic_voc
from mmengine.config import Config
from mmengine.runner import Runner

from reclip_mmseg.engine import MissingOptimizerStateError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')


def _cfg(data_root, work_dir, name, **updates):
    cfg = Config.fromfile(TINY)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.train_cfg = dict(type='IterBasedTrainLoop',
                         max_iters=8,
                         val_interval=2)
    cfg.param_scheduler = [
        dict(type='PolyLR', power=0.9, end=8, by_epoch=False)
    ]
    cfg.default_hooks.checkpoint.interval = 4
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    cfg.merge_from_dict(updates)
    return cfg


def _train(cfg, stop_after=None):
    """Train; with `stop_after`, stop there (a run killed after a save)."""
    runner = Runner.from_cfg(cfg)
    if stop_after is not None:
        from mmengine.hooks import Hook

        class Stop(Hook):

            def after_train_iter(self,
                                 runner,
                                 batch_idx,
                                 data_batch=None,
                                 outputs=None):
                if runner.iter + 1 >= stop_after:
                    runner.train_loop.stop_training = True

        runner.register_hook(Stop(), priority='LOWEST')
    runner.train()
    return runner


def _state(runner):
    model = runner.model
    params = {
        k: v.detach().clone()
        for k, v in model.named_parameters() if v.requires_grad
    }
    buffers = {
        k: v.detach().clone()
        for k, v in model.named_buffers() if 'decode_head.norm' in k
    }
    optim = runner.optim_wrapper.optimizer.state_dict()
    return params, buffers, optim


def _assert_close(a, b, what):
    assert a.keys() == b.keys(), what
    for k in a:
        diff = (a[k].double() - b[k].double()).abs().max().item()
        assert diff <= 1e-6, f'{what} {k} differs by {diff}'


@pytest.mark.filterwarnings('ignore')
def test_resume_is_exact(tmp_path):
    root = str(tmp_path / 'voc')
    write_synthetic_voc(root)
    straight = _train(_cfg(root, tmp_path / 'a', 'straight'))
    assert straight.iter == 8
    _train(_cfg(root, tmp_path / 'b', 'first_half'), stop_after=4)
    assert osp.isfile(tmp_path / 'b' / 'iter_4.pth')
    assert not osp.isfile(tmp_path / 'b' / 'iter_8.pth')
    resumed = _train(_cfg(root, tmp_path / 'b', 'second_half', resume=True))
    assert resumed.iter == 8

    p1, b1, o1 = _state(straight)
    p2, b2, o2 = _state(resumed)
    assert 'decode_head.reference.ctx' in p1
    assert 'decode_head.norm.running_mean' in b1
    _assert_close(p1, p2, 'parameter')
    _assert_close(b1, b2, 'buffer')
    assert o1['state'].keys() == o2['state'].keys() and o1['state']
    for i in o1['state']:
        _assert_close(o1['state'][i], o2['state'][i], f'optimizer state {i}')
    ckpt = torch.load(tmp_path / 'b' / 'iter_4.pth', weights_only=True)
    assert {'python', 'numpy', 'torch'} <= set(ckpt['rng_state'])
    # the optimizer state lives next to the checkpoint (resumed from there)
    assert 'optimizer' not in ckpt
    assert ckpt['meta']['optimizer_file'] == 'iter_4.optim.pth'
    side = torch.load(tmp_path / 'b' / 'iter_4.optim.pth', weights_only=True)
    assert list(side) == ['optimizer'] and side['optimizer']['state']
    assert 'param_schedulers' in ckpt and 'message_hub' in ckpt
    # a run that never validated trains exactly the same
    no_val = _train(
        _cfg(root, tmp_path / 'c', 'no_val', **{'train_cfg.val_interval':
                                                100}))
    _assert_close(p1, _state(no_val)[0], 'parameter (no validation)')


@pytest.mark.filterwarnings('ignore')
def test_missing_optimizer_file_is_named(tmp_path):
    root = str(tmp_path / 'voc')
    write_synthetic_voc(root)
    upd = {'train_cfg.max_iters': 2, 'default_hooks.checkpoint.interval': 1,
           'default_hooks.checkpoint.max_keep_ckpts': 1}
    _train(_cfg(root, tmp_path / 'a', 'first', **upd))
    # max_keep_ckpts removed iter_1.pth and with it iter_1.optim.pth
    assert sorted(n for n in os.listdir(tmp_path / 'a')
                  if n.endswith('.pth')) == ['iter_2.optim.pth', 'iter_2.pth']
    os.remove(tmp_path / 'a' / 'iter_2.optim.pth')
    upd['train_cfg.max_iters'] = 3
    with pytest.raises(MissingOptimizerStateError) as err:
        _train(_cfg(root, tmp_path / 'a', 'again', resume=True, **upd))
    missing = str(tmp_path / 'a' / 'iter_2.optim.pth')
    assert str(err.value).startswith(
        f'{tmp_path / "a" / "iter_2.pth"} is a slim checkpoint whose '
        f'optimizer state (e.g. SGD momentum) is saved in {missing}, which '
        'is missing.')
    assert '--resume-without-optimizer' in str(err.value)
    # the documented way out: resume the rest, fresh optimizer state
    cfg = _cfg(root, tmp_path / 'a', 'weights', resume=True, **upd)
    next(h for h in cfg.custom_hooks if h.type == 'SlimCheckpointHook'
         ).resume_without_optimizer = True
    assert _train(cfg).iter == 3

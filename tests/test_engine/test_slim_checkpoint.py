"""Checkpoints hold the trained part; CLIP comes back from `pretrained`."""
import copy
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import open_clip
import pytest
import torch
from conftest import TINY_CLIP, write_synthetic_voc
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

from reclip_mmseg.models.utils import (frozen_clip_prefixes,
                                       omit_in_checkpoints, slim_state_dict)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
VOC = osp.join(ROOT, 'configs', 'reclip_voc.py')
TOWERS = ('backbone.visual.', 'decode_head.text_encoder.')
METAS = [dict(img_shape=(64, 80), ori_shape=(64, 80), pad_shape=(64, 80))]


@pytest.fixture(scope='module')
def clip_file(tmp_path_factory):
    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp('clip') / 'tiny_clip.pt')
    torch.save(open_clip.CLIP(**copy.deepcopy(TINY_CLIP)).state_dict(), path)
    return path


def _model(pretrained, seed):
    cfg = Config.fromfile(TINY)
    cfg.model.clip.pretrained = pretrained
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def test_slim_state_dict_loads_strictly(clip_file, tmp_path):
    source = _model(clip_file, 0)
    with torch.no_grad():
        source.decode_head.reference.ctx.normal_()
    assert frozen_clip_prefixes(source) == {
        'backbone.visual.': clip_file,
        'decode_head.text_encoder.': clip_file
    }
    slim = slim_state_dict(source.state_dict(), source)
    assert slim and not any(k.startswith(TOWERS) for k in slim)
    assert sum(v.numel() for v in slim.values()) < 0.01 * sum(
        v.numel() for v in source.state_dict().values())
    path = str(tmp_path / 'slim.pth')
    torch.save(dict(state_dict=slim), path)
    images = torch.randn(1, 3, 64, 80)
    with torch.no_grad():
        ref = source.inference(images, METAS)
    for seed, load in ((1, 'torch'), (2, 'mmengine')):
        model = _model(clip_file, seed)
        if load == 'torch':
            model.load_state_dict(slim, strict=True)
        else:
            load_checkpoint(model, path, map_location='cpu', strict=True)
        with torch.no_grad():
            assert torch.equal(model.inference(images, METAS), ref)
    # a full state dict still loads its own CLIP over `pretrained`
    other = _model(None, 3)
    model = _model(clip_file, 4)
    model.load_state_dict(other.state_dict(), strict=True)
    assert torch.equal(model.backbone.visual.conv1.weight,
                       other.backbone.visual.conv1.weight)
    # random towers (pretrained=None) are never left out
    assert frozen_clip_prefixes(other) == {}
    with pytest.raises(RuntimeError, match='backbone.visual.conv1.weight'):
        _model(None, 5).load_state_dict(slim, strict=True)


def test_voc_checkpoint_under_5mb(tmp_path):
    """The VOC config's checkpoint as Runner.save_checkpoint builds it
    (meta with the config text, message hub, SGD momentum of every trained
    parameter, schedulers) after SlimCheckpointHook: the .pth holds the
    model part and loop state, the optimizer state goes to iter_N.optim.pth.
    Random weights of the real architecture (no download)."""
    from mmengine.hooks import CheckpointHook
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper

    from reclip_mmseg.engine import SlimCheckpointHook
    cfg = Config.fromfile(VOC)
    cfg.model.clip.pretrained = None  # no download; mark it below
    cfg.model.decode_head.norm_cfg = dict(type='BN')
    model = MODELS.build(cfg.model)
    omit_in_checkpoints(model.backbone.visual, 'openai')
    omit_in_checkpoints(model.decode_head.text_encoder, 'openai')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    trained = [p for p in model.parameters() if p.requires_grad]
    for p in trained:
        p.grad = torch.ones_like(p)
    wrapper.step()  # every trained parameter gets its momentum buffer
    path = str(tmp_path / 'iter_20000.pth')
    hub = MessageHub.get_instance('voc_size')
    hub.update_info('last_ckpt', path)

    class Runner:
        hooks = [CheckpointHook(interval=2000, by_epoch=False)]
        message_hub = hub

    Runner.model = model
    checkpoint = dict(
        meta=dict(epoch=0, iter=20000, cfg=cfg.pretty_text),
        state_dict=model.state_dict(),
        message_hub=hub.state_dict(),
        optimizer=wrapper.state_dict(),
        param_schedulers=[dict(last_step=20000, base_values=[0.01])])
    SlimCheckpointHook().before_save_checkpoint(Runner, checkpoint)
    assert sorted({k.rsplit('.', 1)[0] for k in checkpoint['state_dict']}) \
        == ['decode_head.conv_seg', 'decode_head.norm',
            'decode_head.pos_proj', 'decode_head.reference']
    assert 'optimizer' not in checkpoint
    assert checkpoint['meta']['optimizer_file'] == 'iter_20000.optim.pth'
    torch.save(checkpoint, path)
    side = torch.load(str(tmp_path / 'iter_20000.optim.pth'),
                      weights_only=True)
    assert len(side['optimizer']['state']) == len(trained)
    assert osp.getsize(path) < 5e6
    print(f'VOC checkpoint: {osp.getsize(path) / 1e6:.2f} MB + optimizer '
          f'file {osp.getsize(tmp_path / "iter_20000.optim.pth") / 1e6:.2f}'
          ' MB')


def _run(args, ok=True):
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert (proc.returncode == 0) == ok, out[-5000:]
    return out


def test_train_resume_test_and_inferencer_with_slim_checkpoints(
        clip_file, tmp_path):
    root = str(tmp_path / 'voc')
    write_synthetic_voc(root)
    options = [
        f'{loader}.dataset.data_root={root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ] + [f'model.clip.pretrained={clip_file}']
    work = str(tmp_path / 'work')
    _run(['tools/train.py', TINY, '--work-dir', work, '--cfg-options',
          'train_cfg.max_iters=2', *options])
    ckpt = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu',
                      weights_only=True)
    assert 'decode_head.reference.ctx' in ckpt['state_dict']
    assert not any(k.startswith(TOWERS) for k in ckpt['state_dict'])
    assert 'optimizer' not in ckpt and torch.load(
        osp.join(work, 'iter_2.optim.pth'), weights_only=True)['optimizer']
    assert ckpt['meta']['omitted_frozen_clip'] == {
        'backbone.visual.': clip_file,
        'decode_head.text_encoder.': clip_file
    }
    out = _run(['tools/train.py', TINY, '--work-dir', work, '--resume',
                '--cfg-options', 'train_cfg.max_iters=4', *options])
    assert 'Iter(train) [3/4]' in out and 'Iter(train) [1/4]' not in out
    # a copy without its optimizer file: named; resumable on request
    moved = tmp_path / 'moved'
    moved.mkdir()
    shutil.copy(osp.join(work, 'iter_2.pth'), moved)
    args = ['tools/train.py', TINY, '--work-dir', str(tmp_path / 'w2'),
            '--resume', '--cfg-options', f'load_from={moved / "iter_2.pth"}',
            'train_cfg.max_iters=3', *options]
    out = _run(args, ok=False)
    assert f'error: {moved / "iter_2.pth"} is a slim checkpoint' in out
    assert f'{moved / "iter_2.optim.pth"}, which is missing' in out
    out = _run(args[:5] + ['--resume-without-optimizer'] + args[5:])
    assert 'Resuming without it' in out and 'Iter(train) [3/3]' in out
    final = osp.join(work, 'iter_4.pth')
    out = _run(['tools/test.py', TINY, final, '--work-dir',
                str(tmp_path / 't'), '--cfg-options', *options])
    assert re.search(r'mIoU: \d+\.\d+', out)
    assert 'missing keys' not in out

    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options))
    cfg.dump(str(tmp_path / 'cfg.py'))
    from mmseg.apis import MMSegInferencer, init_model
    state = torch.load(final, map_location='cpu',
                       weights_only=True)['state_dict']
    clip = torch.load(clip_file, map_location='cpu', weights_only=True)
    model = init_model(str(tmp_path / 'cfg.py'), final, device='cpu')
    inferencer = MMSegInferencer(
        model=str(tmp_path / 'cfg.py'), weights=final, device='cpu')
    for loaded in (model, inferencer.model):
        own = loaded.state_dict()
        assert all(torch.equal(own[k], v) for k, v in state.items())
        assert torch.equal(own['backbone.visual.conv1.weight'],
                           clip['visual.conv1.weight'])
    img = osp.join(root, 'JPEGImages', 'val_0.jpg')
    assert inferencer(img, return_datasamples=True).pred_sem_seg.shape == (
        64, 80)

    # a full checkpoint is one option away
    full = str(tmp_path / 'full')
    _run(['tools/train.py', TINY, '--work-dir', full, '--full-checkpoint',
          '--cfg-options', 'train_cfg.max_iters=2', *options])
    ckpt = torch.load(osp.join(full, 'iter_2.pth'), map_location='cpu',
                      weights_only=True)
    assert 'backbone.visual.conv1.weight' in ckpt['state_dict']
    assert 'omitted_frozen_clip' not in ckpt['meta']
    assert ckpt['optimizer']['state']  # one file, optimizer state included
    assert not osp.exists(osp.join(full, 'iter_2.optim.pth'))


def test_loading_warns_when_clip_weights_differ(clip_file, monkeypatch):
    import reclip_mmseg.engine.slim_checkpoint_hook as module
    from reclip_mmseg.engine import SlimCheckpointHook
    logged = []
    monkeypatch.setattr(module, 'print_log',
                        lambda msg, *a, **k: logged.append(msg))

    class Runner:
        model = _model(clip_file, 0)

    hook = SlimCheckpointHook()
    checkpoint = dict(state_dict=Runner.model.state_dict(), meta={})
    hook.before_save_checkpoint(Runner, checkpoint)
    hook.after_load_checkpoint(Runner, checkpoint)
    assert logged == []
    checkpoint['meta']['omitted_frozen_clip']['backbone.visual.'] = 'openai'
    hook.after_load_checkpoint(Runner, checkpoint)
    assert len(logged) == 1
    assert f"backbone.visual.: trained with 'openai', now {clip_file!r}" in \
        logged[0]

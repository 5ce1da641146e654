"""End to end: tools/train.py, tools/test.py, --resume, torchrun, mmseg's
stock train.py, on a synthetic VOC-layout dataset with a tiny CLIP."""
import os
import os.path as osp
import re
import subprocess
import sys

import mmseg
import pytest
import torch
from conftest import write_synthetic_voc

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
TINY_MASKCLIP = osp.join(ROOT, 'configs', 'maskclip_tiny_synthetic-voc.py')


def data_options(root):
    return [
        f'{loader}.dataset.data_root={root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ]


def run(args, cwd=ROOT, timeout=600):
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_voc'))
    write_synthetic_voc(root)
    return root


@pytest.fixture(scope='module')
def trained(data_root, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('work'))
    out = run([
        sys.executable, 'tools/train.py', TINY, '--work-dir', work,
        '--cfg-options', *data_options(data_root)
    ])
    return work, out


def test_train_validates_and_checkpoints(trained, data_root):
    work, out = trained
    assert 'Iter(train) [4/4]' in out
    assert 'decode.loss_contrast' in out
    assert len(re.findall(r'Iter\(val\) \[2/2\]\s+aAcc', out)) == 2
    assert 'mIoU' in out
    ckpt = torch.load(
        osp.join(work, 'iter_4.pth'), map_location='cpu', weights_only=False)
    meta = ckpt['meta']['dataset_meta']
    assert len(meta['classes']) == 20 and meta['classes'][0] == 'airplane'
    assert 'decode_head.reference.ctx' in ckpt['state_dict']
    # training never touched a label: there is none for the train split
    assert sorted(os.listdir(osp.join(data_root, 'SegmentationClass'))) == [
        'val_0.png', 'val_1.png'
    ]


def test_test_tool_prints_iou(trained, data_root, tmp_path):
    work, _ = trained
    out = run([
        sys.executable, 'tools/test.py', TINY,
        osp.join(work, 'iter_4.pth'), '--work-dir',
        str(tmp_path), '--out',
        str(tmp_path / 'preds'), '--cfg-options', *data_options(data_root)
    ])
    assert re.search(r'\|\s+Class\s+\|\s+IoU\s+\|', out)
    assert re.search(r'mIoU: \d+\.\d+', out)
    assert sorted(os.listdir(tmp_path / 'preds')) == ['val_0.png', 'val_1.png']


def test_resume_continues(trained, data_root):
    work, _ = trained
    out = run([
        sys.executable, 'tools/train.py', TINY, '--work-dir', work,
        '--resume', '--cfg-options', 'train_cfg.max_iters=6',
        *data_options(data_root)
    ])
    assert 'resumed' in out.lower() or 'Load checkpoint' in out
    assert 'Iter(train) [5/6]' in out and 'Iter(train) [1/6]' not in out
    assert osp.isfile(osp.join(work, 'iter_6.pth'))


def test_maskclip_baseline_needs_no_checkpoint(data_root, tmp_path):
    out = run([
        sys.executable, 'tools/test.py', TINY_MASKCLIP, '--work-dir',
        str(tmp_path), '--cfg-options', *data_options(data_root)
    ])
    assert re.search(r'mIoU: \d+\.\d+', out)


def test_reclip_test_without_checkpoint_refused(data_root, tmp_path):
    proc = subprocess.run([
        sys.executable, 'tools/test.py', TINY, '--work-dir',
        str(tmp_path), '--cfg-options', *data_options(data_root)
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          env=dict(os.environ, HF_HUB_OFFLINE='1'))
    assert proc.returncode != 0
    assert 'pass the CHECKPOINT' in proc.stderr


def test_dist_train_sh_two_process_cpu_training(data_root, tmp_path,
                                                monkeypatch):
    # tools/dist_train.sh -> torchrun (from this interpreter's bin dir)
    monkeypatch.setenv(
        'PATH',
        osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    monkeypatch.setenv('PORT', '29533')
    # a hook that writes what each process sees of the process group
    hooks = tmp_path / 'hooks'
    hooks.mkdir()
    (hooks / 'dist_probe.py').write_text(DIST_PROBE)
    monkeypatch.setenv(
        'PYTHONPATH',
        str(hooks) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    config = tmp_path / 'probed.py'
    config.write_text(
        f'_base_ = [{TINY!r}]\n'
        "custom_imports = dict(imports=['reclip_mmseg', 'dist_probe'])\n"
        "custom_hooks = [dict(type='DistProbeHook')]\n")
    work = tmp_path / 'work'
    out = run([
        'bash', 'tools/dist_train.sh',
        str(config), '2', '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', *data_options(data_root)
    ])
    assert 'Iter(train) [2/2]' in out
    assert osp.isfile(work / 'iter_2.pth')
    seen = sorted((work / f'dist_{r}.txt').read_text() for r in (0, 1))
    assert seen == ['rank 0 of 2, gloo', 'rank 1 of 2, gloo']


DIST_PROBE = """
import os.path as osp

import torch.distributed as dist
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class DistProbeHook(Hook):

    def before_train(self, runner):
        rank = dist.get_rank()
        with open(osp.join(runner.work_dir, f'dist_{rank}.txt'), 'w') as f:
            f.write(f'rank {rank} of {dist.get_world_size()}, '
                    f'{dist.get_backend()}')
"""


def test_mmseg_stock_train_runs_our_config(data_root, tmp_path):
    stock = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'train.py')
    out = run([
        sys.executable, stock, TINY, '--work-dir',
        str(tmp_path), '--cfg-options', 'train_cfg.max_iters=2',
        *data_options(data_root)
    ])
    assert 'Iter(train) [2/2]' in out
    assert osp.isfile(tmp_path / 'iter_2.pth')


def test_amp_training_runs_on_cpu(data_root, tmp_path):
    out = run([
        sys.executable, 'tools/train.py', TINY, '--amp', '--work-dir',
        str(tmp_path), '--cfg-options', 'train_cfg.max_iters=2',
        *data_options(data_root)
    ])
    expected = 'AmpOptimWrapper' if torch.cuda.is_available() else \
        'AutocastOptimWrapper'
    assert f"type='{expected}'" in out
    assert 'Iter(train) [2/2]' in out
    assert re.search(r'mIoU: \d+\.\d+', out)

"""tools/dist_*.sh and tools/slurm_*.sh pass every argument where
train.py/test.py expect it (a stand-in torchrun/srun records the command
line), and a training-free config runs a real 2-process dist_test.sh."""
import json
import os
import os.path as osp
import re
import stat
import subprocess
import sys

import pytest
import torch
from conftest import write_synthetic_voc

from reclip_mmseg.engine import DDPIfTrainable

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')

RECORDER = """#!{python}
import json, sys
print('ARGV=' + json.dumps(sys.argv[1:]))
"""


@pytest.fixture
def recorder_path(tmp_path):
    """A PATH on which `torchrun` and `srun` only print their arguments."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name in ('torchrun', 'srun'):
        exe = bin_dir / name
        exe.write_text(RECORDER.format(python=sys.executable))
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(bin_dir) + os.pathsep + os.environ['PATH']


def launch(script, args, path):
    proc = subprocess.run(['bash', osp.join(TOOLS, script)] + args,
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PATH=path))
    return proc


def recorded(proc):
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith('ARGV=')]
    return json.loads(line[0][len('ARGV='):])


def script_args(argv, script):
    """What the launcher passes to tools/<script> (after its path)."""
    i = [k for k, a in enumerate(argv) if a.endswith('/' + script)][0]
    return argv[i + 1:]


NAMES = "model.decode_head.class_names=['red circle','blue square']"


@pytest.mark.parametrize('args, expected', [
    # no checkpoint (training-free config)
    (['c.py', '2'], ['c.py', '--launcher', 'pytorch']),
    # ours: CONFIG NPROC CHECKPOINT [args]
    (['c.py', '2', 'ck.pth', '--out', 'o'],
     ['c.py', 'ck.pth', '--out', 'o', '--launcher', 'pytorch']),
    # mmseg's: CONFIG CHECKPOINT NPROC [args]; spaces survive
    (['c.py', 'ck.pth', '2', '--cfg-options', NAMES],
     ['c.py', 'ck.pth', '--cfg-options', NAMES, '--launcher', 'pytorch']),
    (['c.py', '2', '--tta'], ['c.py', '--tta', '--launcher', 'pytorch']),
])
def test_dist_test_sh_argument_order(recorder_path, args, expected):
    argv = recorded(launch('dist_test.sh', args, recorder_path))
    assert '--nproc_per_node=2' in argv
    assert script_args(argv, 'test.py') == expected


def test_dist_test_sh_refuses_a_missing_nproc(recorder_path):
    proc = launch('dist_test.sh', ['c.py', 'ck.pth', '--tta'], recorder_path)
    assert proc.returncode == 2
    assert "NPROC must be a number, got '--tta'" in proc.stderr


def test_dist_train_sh_argument_order(recorder_path):
    argv = recorded(
        launch('dist_train.sh', ['c.py', '4', '--resume', '--cfg-options',
                                 NAMES], recorder_path))
    assert '--nproc_per_node=4' in argv
    assert script_args(argv, 'train.py') == [
        'c.py', '--resume', '--cfg-options', NAMES, '--launcher', 'pytorch'
    ]


@pytest.mark.parametrize('script, args, expected', [
    ('slurm_train.sh', ['part', 'job', 'c.py', '--amp'],
     ['c.py', '--launcher=slurm', '--amp']),
    ('slurm_test.sh', ['part', 'job', 'c.py', 'ck.pth', '--out', 'o'],
     ['c.py', 'ck.pth', '--launcher=slurm', '--out', 'o']),
    ('slurm_test.sh', ['part', 'job', 'c.py', '--tta'],
     ['c.py', '--launcher=slurm', '--tta']),
    ('slurm_test.sh', ['part', 'job', 'c.py'], ['c.py', '--launcher=slurm']),
])
def test_slurm_scripts_as_mmseg(recorder_path, script, args, expected):
    argv = recorded(launch(script, args, recorder_path))
    # srun options as mmseg's script (GPUS=4, 4 per node by default)
    assert argv[:2] == ['-p', 'part'] and '--job-name=job' in argv
    assert '--ntasks=4' in argv and '--gres=gpu:4' in argv
    py = argv.index('python')
    assert argv[py + 1] == '-u'
    assert script_args(argv, script.replace('slurm_', '').replace(
        '.sh', '.py')) == expected


def test_ddp_if_trainable_leaves_a_frozen_model_unwrapped():
    frozen = torch.nn.Linear(2, 2).requires_grad_(False)
    assert DDPIfTrainable(module=frozen, device_ids=None) is frozen
    # a trainable model gets a real DDP instance (not built here: that
    # needs a process group; the real 2-process runs cover it)
    trainable = torch.nn.Linear(2, 2)
    assert isinstance(
        DDPIfTrainable.__new__(DDPIfTrainable, trainable), DDPIfTrainable)


def test_dist_test_sh_training_free_two_processes(tmp_path):
    data = str(tmp_path / 'voc')
    write_synthetic_voc(data)
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1',
               PORT='29547',
               PATH=osp.dirname(sys.executable) + os.pathsep +
               os.environ['PATH'])
    config = osp.join(ROOT, 'configs', 'maskclip_tiny_synthetic-voc.py')
    proc = subprocess.run([
        'bash', 'tools/dist_test.sh', config, '2', '--work-dir',
        str(tmp_path / 'work'), '--cfg-options'
    ] + [
        f'{loader}.dataset.data_root={data}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'DistributedDataParallel is not needed' not in out
    # 2 val images, one per process, gathered into one result
    assert re.search(r'Iter\(test\) \[1/1\].*mIoU: \d+\.\d+', out), out[-3000:]

"""Opening a checkpoint cannot run code (issue 17), end to end: the tools,
init_model and MMSegInferencer refuse a code-running checkpoint; our own
checkpoints load weights-only and resume; older ones resume on opt-in."""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import write_synthetic_voc

from reclip_mmseg.engine.weights_only_checkpoint_hook import \
    history_from_plain
from reclip_mmseg.safe_checkpoint import UnsafeCheckpointError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')


class _Payload:
    """Unpickling it runs code: it writes ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')", )


def run(args, data_root):
    options = [
        f'{loader}.dataset.data_root={data_root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ]
    proc = subprocess.run([sys.executable, *args, *options],
                          cwd=ROOT,
                          env=dict(os.environ, HF_HUB_OFFLINE='1',
                                   OMP_NUM_THREADS='1'),
                          capture_output=True,
                          text=True,
                          timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A 2-iteration run of the tiny config: (data_root, work_dir)."""
    data_root = str(tmp_path_factory.mktemp('synthetic_voc'))
    write_synthetic_voc(data_root)
    work = str(tmp_path_factory.mktemp('work'))
    rc, out = run([
        'tools/train.py', TINY, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=2'
    ], data_root)
    assert rc == 0, out[-4000:]
    return data_root, work


@pytest.fixture
def evil(trained, tmp_path):
    """Our own checkpoint, re-saved with a code-running entry in meta."""
    _, work = trained
    checkpoint = torch.load(osp.join(work, 'iter_2.pth'), weights_only=True)
    control = tmp_path / 'control'
    checkpoint['meta']['note'] = _Payload(control)
    torch.save(checkpoint, tmp_path / 'control.pth')
    torch.load(tmp_path / 'control.pth', weights_only=False)
    assert control.read_text() == 'ran'  # the payload works when unpickled
    marker = tmp_path / 'marker'
    checkpoint['meta']['note'] = _Payload(marker)
    path = str(tmp_path / 'evil.pth')
    torch.save(checkpoint, path)
    return path, marker


def _assert_refusal(message, path):
    assert f'Refused to load checkpoint {path}' in message
    assert 'builtins.exec' in message
    assert f'tools/test.py CONFIG {path} --trust-checkpoint' in message


def test_our_checkpoint_is_weights_only(trained):
    _, work = trained
    path = osp.join(work, 'iter_2.pth')
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint['meta']['dataset_meta']['classes'][0] == 'airplane'
    assert 'decode_head.reference.ctx' in checkpoint['state_dict']


def test_test_tool_refuses_code(trained, evil, tmp_path):
    data_root, _ = trained
    path, marker = evil
    rc, out = run(['tools/test.py', TINY, path, '--work-dir',
                   str(tmp_path / 'w'), '--cfg-options'], data_root)
    assert rc != 0
    _assert_refusal(out, path)
    assert not re.search(r'mIoU: \d', out)
    assert not marker.exists()


def test_train_load_from_refuses_code(trained, evil, tmp_path):
    data_root, _ = trained
    path, marker = evil
    rc, out = run([
        'tools/train.py', TINY, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options', f'load_from={path}'
    ], data_root)
    assert rc != 0
    _assert_refusal(out, path)
    assert 'Iter(train)' not in out
    assert not marker.exists()


def test_init_model_and_inferencer_refuse_code(evil):
    from mmseg.apis import MMSegInferencer, init_model
    path, marker = evil
    with pytest.raises(UnsafeCheckpointError) as info:
        init_model(TINY, path, device='cpu')
    _assert_refusal(str(info.value), path)
    with pytest.raises(UnsafeCheckpointError) as info:
        MMSegInferencer(model=TINY, weights=path, device='cpu')
    _assert_refusal(str(info.value), path)
    assert not marker.exists()


def test_resume_own_checkpoint(trained, tmp_path):
    data_root, work = trained
    resumed = str(tmp_path / 'resumed')
    shutil.copytree(work, resumed)
    with open(osp.join(resumed, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(resumed, 'iter_2.pth'))
    rc, out = run([
        'tools/train.py', TINY, '--work-dir', resumed, '--resume',
        '--cfg-options', 'train_cfg.max_iters=4'
    ], data_root)
    assert rc == 0, out[-4000:]
    assert 'resumed epoch: 0, iter: 2' in out
    assert 'Iter(train) [3/4]' in out and 'Iter(train) [1/4]' not in out
    assert 'not HistoryBuffer' not in out  # the message hub was restored
    checkpoint = torch.load(osp.join(resumed, 'iter_4.pth'), weights_only=True)
    assert len(checkpoint['message_hub']['log_scalars']['train/loss']
               ['log_history']) == 4  # 2 before the resume, 2 after


def test_older_checkpoint_resumes_only_on_opt_in(trained, tmp_path):
    # what mmengine saves without WeightsOnlyCheckpointHook
    data_root, work = trained
    old = tmp_path / 'old'
    old.mkdir()
    checkpoint = torch.load(osp.join(work, 'iter_2.pth'), weights_only=True)
    # optimizer state inside the file, as before slim checkpoints' sidecar
    checkpoint['optimizer'] = torch.load(
        osp.join(work, 'iter_2.optim.pth'), weights_only=True)['optimizer']
    del checkpoint['meta']['optimizer_file']
    scalars = checkpoint['message_hub']['log_scalars']
    for key, value in scalars.items():
        scalars[key] = history_from_plain(value)
    path = str(old / 'iter_2.pth')
    torch.save(checkpoint, path)
    (old / 'last_checkpoint').write_text(path)
    args = ['tools/train.py', TINY, '--work-dir', str(old), '--resume']
    options = ['--cfg-options', 'train_cfg.max_iters=4']

    rc, out = run(args + options, data_root)
    assert rc != 0
    assert f'Refused to load checkpoint {path}' in out
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in out
    assert '--trust-checkpoint' in out and 'Iter(train)' not in out

    rc, out = run(args + ['--trust-checkpoint'] + options, data_root)
    assert rc == 0, out[-4000:]
    assert f'Trusted checkpoint: loading {path}' in out
    assert 'Iter(train) [3/4]' in out
    # ...and what it saves now loads weights-only
    assert torch.serialization.get_unsafe_globals_in_checkpoint(
        old / 'iter_4.pth') == []

    # the config key does the same for tools/test.py
    rc, out = run([
        'tools/test.py', TINY, path, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options', 'trust_checkpoint_code=True'
    ], data_root)
    assert rc == 0, out[-4000:]
    assert re.search(r'mIoU: \d+\.\d+', out)


def test_clip_pretrained_file_cannot_run_code(tmp_path, tiny_clip_cfg):
    import zipfile

    from reclip_mmseg.models.utils import build_clip
    marker = tmp_path / 'marker'
    torch.save(dict(weight=torch.ones(1), note=_Payload(marker)),
               tmp_path / 'plain.pt')
    crafted = tmp_path / 'crafted.pt'
    with zipfile.ZipFile(tmp_path / 'plain.pt') as src, \
            zipfile.ZipFile(crafted, 'w') as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr('plain/x/constants.pkl', b'')
    with pytest.raises(RuntimeError, match='torch.jit.load cannot read it'):
        build_clip(tiny_clip_cfg, str(crafted))
    assert not marker.exists()
    # the same payload in a plain file: refused by weights_only
    with pytest.raises(Exception, match='Weights only load failed'):
        build_clip(tiny_clip_cfg, str(tmp_path / 'plain.pt'))
    assert not marker.exists()

"""tools/toy/diagnose_decoder.py, shortened: the measurements at iteration
0 say what the issue-9 diagnosis relies on (the residual head starts at
Q - B exactly; the released one does not)."""
import json
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _diagnose(tmp_path, name, *options):
    out = tmp_path / name
    cmd = [
        sys.executable, 'tools/toy/diagnose_decoder.py', '--iters', '2',
        '--every', '2', '--images', '4', '--num-train', '8', '--num-val',
        '4', '--data-root',
        str(tmp_path / 'toy'), '--out',
        str(out)
    ]
    if options:
        cmd += ['--cfg-options', *options]
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / 'diagnosis.json').read_text())['records']


def test_diagnosis_records(tmp_path):
    released = _diagnose(tmp_path, 'released')
    assert [r['iter'] for r in released] == [0, 2]
    start = released[0]
    assert start['gamma'] == 1.0 and start['agree_qb'] < 1.0
    assert 0 <= start['sat'] <= 1 and start['out_dense'] > 0
    residual = _diagnose(tmp_path, 'residual',
                         'model.decode_head.residual=True',
                         'model.decode_head.zero_init_decoder=True')
    start = residual[0]
    assert start['agree_qb'] == 1.0 and start['mIoU'] == start['mIoU_qb']
    assert start['gamma'] == 0.0 and start['out_rect'] == 0.0

"""The README's toy-world quick start, shortened (a few iterations, a few
images): data written, ReCLIP++ trained and evaluated, MaskCLIP evaluated,
table printed, summary written. The full run is a command (README)."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_toy_quickstart_runs_end_to_end(tmp_path):
    data, work = tmp_path / 'toy', tmp_path / 'work'
    cmd = [
        sys.executable, 'tools/toy_quickstart.py', '--iters', '3',
        '--num-train', '12', '--num-val', '10', '--seeds', '0', '1',
        '--data-root',
        str(data), '--work-dir',
        str(work)
    ]
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    out = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(os.listdir(data / 'img_dir' / 'train')) == 12
    assert len(os.listdir(data / 'ann_dir' / 'val')) == 10
    assert not (data / 'ann_dir' / 'train').exists()  # images only
    summary = json.loads((work / 'summary.json').read_text())
    assert [r['seed'] for r in summary['reclip']] == [0, 1]
    for run in summary['maskclip'] + summary['reclip']:
        assert 0 <= run['mIoU'] <= 100
        assert -100 <= run['ClassPref'] <= 100
        assert math.isfinite(run['SpacePref'])
    for seed in (0, 1):
        assert (work / f'reclip_seed{seed}' / 'iter_3.pth').is_file()
    table = out.stdout[out.stdout.index('model '):]
    assert 'MaskCLIP' in table and 'ReCLIP++' in table and '±' in table

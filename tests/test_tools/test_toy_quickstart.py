"""The README's toy-world quick start, shortened (a few iterations, a few
images): data written, MaskCLIP evaluated, ReCLIP++ released and residual
trained and evaluated, a quiet terminal, a table whose numbers are the
evaluator's, summary.json and both pictures. The full run is a command
(README "Toy world")."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FIELDS = {'model', 'clip', 'seed', 'threads', 'mIoU', 'ClassPref',
          'SpacePref', 'per_class_iou', 'wall_s'}


def _logged_metrics(work_dir, loop):
    """The evaluator's last metrics line of ``loop`` (val or test) in a
    run's mmengine log."""
    (log, ) = glob.glob(osp.join(work_dir, '*', '*.log'))
    lines = [l for l in open(log) if f'Iter({loop})' in l and 'mIoU:' in l]
    return {k: float(v) for k, v in re.findall(
        r'(mIoU|ClassPref|SpacePref|IoU\.[a-z ]+): (-?[\d.]+)', lines[-1])}


@pytest.fixture(scope='module')
def quickstart(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('qs')
    data, work = tmp / 'toy', tmp / 'work'
    cmd = [
        sys.executable, 'tools/toy_quickstart.py', '--iters', '4',
        '--val-interval', '2', '--num-train', '12', '--num-val', '10',
        '--seeds', '0', '1', '--clips', 'base', 'strong', '--threads', '1',
        '--examples', '3', '--data-root',
        str(data), '--work-dir',
        str(work)
    ]
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    out = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    return out, data, work


def test_quickstart_writes_data_and_runs(quickstart):
    out, data, work = quickstart
    assert len(os.listdir(data / 'img_dir' / 'train')) == 12
    assert len(os.listdir(data / 'ann_dir' / 'val')) == 10
    assert not (data / 'ann_dir' / 'train').exists()  # images only
    for clip in ('base', 'strong'):
        for seed in (0, 1):
            for variant in ('released', 'residual'):
                run = work / f'{clip}_{variant}_seed{seed}'
                assert (run / 'iter_4.pth').is_file()
    summary = json.loads((work / 'summary.json').read_text())
    runs = summary['runs']
    # per clip: MaskCLIP once, per seed released, Q-B and residual
    assert len(runs) == 2 * (1 + 2 * 3)
    for r in runs:
        assert FIELDS <= set(r), r.keys()
        assert r['threads'] == 1
        assert len(r['per_class_iou']) == 10
    assert summary['env']['OMP_NUM_THREADS'] == '1'
    assert summary['env']['ONEDNN_MAX_CPU_ISA'] == 'AVX2'
    # val every 2 of 4 iterations: the curve has both points
    trained = [r for r in runs if r['model'] in ('released', 'residual')]
    assert all([it for it, _ in r['curve']] == [2, 4] for r in trained)
    # the two tiny CLIPs are different models
    mask = {r['clip']: r['per_class_iou'] for r in runs
            if r['model'] == 'maskclip'}
    assert mask['base'] != mask['strong']
    for name in ('learning_curves.png', 'examples.png',
                 'examples_strong.png'):
        assert (work / name).stat().st_size > 5000


def test_summary_and_table_numbers_are_the_evaluators(quickstart):
    out, _, work = quickstart
    runs = json.loads((work / 'summary.json').read_text())['runs']
    for r in runs:
        # trained runs report their last validation; MaskCLIP and the
        # released model's Q - B (same work dir) a test
        loop = 'val' if r['model'] in ('released', 'residual') else 'test'
        logged = _logged_metrics(r['work_dir'], loop)
        for m in ('mIoU', 'ClassPref', 'SpacePref'):
            assert r[m] == pytest.approx(logged[m], abs=0.006), (r, m)
        for c, v in r['per_class_iou'].items():
            assert v == pytest.approx(logged[f'IoU.{c}'], abs=0.006)
        assert r['classes_below_1'] == sorted(
            c for c, v in r['per_class_iou'].items() if v < 1)
    # the printed table: mean over the two seeds of the same numbers
    table = out.stdout[out.stdout.index('clip   model'):]
    row = next(l for l in table.splitlines()
               if l.startswith('strong') and 'residual' in l)
    got = [float(x) for x in re.findall(r'(-?\d+\.\d\d) ±', row)]
    want = [
        sum(r[m] for r in runs
            if r['clip'] == 'strong' and r['model'] == 'residual') / 2
        for m in ('mIoU', 'ClassPref', 'SpacePref')
    ]
    assert got == pytest.approx(want, abs=0.006)
    # the Q-B row evaluates the released weights with the decoder dropped
    for r in runs:
        if r['model'] == 'rectified':
            assert r['work_dir'].endswith(f"{r['clip']}_released_seed"
                                          f"{r['seed']}")


def test_terminal_is_quiet(quickstart):
    out, _, work = quickstart
    lines = out.stdout.strip().splitlines()
    # 1 header + 2 MaskCLIP tests + 8 trainings + 4 Q-B tests + table (1 +
    # 2 clips x 4 rows) + 3 closing lines, blank line
    assert len(lines) <= 30, out.stdout
    assert ' - mmengine - ' not in out.stdout  # no log records
    assert 'INFO' not in out.stdout and 'Warning' not in out.stdout
    assert out.stderr.strip() == ''
    assert str(work) in lines[-1] and 'learning_curves.png' in lines[-1]
    # what was not shown is in the logs
    assert 'Checkpoints will be saved' in (work / 'quickstart.log').read_text()

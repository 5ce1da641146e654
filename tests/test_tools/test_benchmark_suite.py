"""tools/benchmark_suite.py (issue 14 item 4, partial): the dry run's
commands and skip lines, the published table, and one real run of a
training-free config on a tiny synthetic VOC."""
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

from conftest import TINY_CLIP, write_synthetic_voc

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SUITE = osp.join(ROOT, 'tools', 'benchmark_suite.py')
TINY_MASKCLIP = osp.join(ROOT, 'configs', 'maskclip_tiny_synthetic-voc.py')


def run(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               HF_HUB_OFFLINE='1')
    proc = subprocess.run([sys.executable, SUITE, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return proc.stdout


def test_dry_run_prints_commands_and_skips(tmp_path):
    configs, data, work = tmp_path / 'cfg', tmp_path / 'data', tmp_path / 'w'
    configs.mkdir()
    (configs / 'naclip-pamr_voc21.py').write_text('')
    (data / 'VOCdevkit' / 'VOC2012').mkdir(parents=True)
    out = run('--methods', 'naclip-pamr', 'sclip', '--datasets', 'voc21',
              'ade', '--data-root', str(data), '--config-dir', str(configs),
              '--work-dir', str(work), '--dry-run')
    lines = out.splitlines()
    voc = osp.join(str(data), 'VOCdevkit', 'VOC2012')
    assert lines[0] == (
        f'[1/4] naclip-pamr voc21: {sys.executable} '
        f'{osp.join(ROOT, "tools", "test.py")} '
        f'{configs / "naclip-pamr_voc21.py"} '
        f'--work-dir {work / "naclip-pamr_voc21"} '
        f'--cfg-options test_dataloader.dataset.data_root={voc}')
    ade = osp.join(str(data), 'ade', 'ADEChallengeData2016')
    assert lines[1] == (f'[2/4] naclip-pamr ade20k: skipped: data folder '
                        f'{ade} missing (README "Benchmarks")')
    assert lines[2] == (f'[3/4] sclip voc21: skipped: no config '
                        f'{configs / "sclip_voc21.py"}')
    assert lines[3] == (f'[4/4] sclip ade20k: skipped: data folder {ade} '
                        'missing (README "Benchmarks")')
    table = ('| method | VOC21 | ADE20K |\n|---|---|---|\n'
             '| naclip-pamr (ours) | - | - |\n'
             '| naclip-pamr (published) | 64.1 | 19.1 |\n'
             '| sclip (ours) | - | - |\n'
             '| sclip (published) | 59.6 | 16.5 |\n')
    assert out.endswith(table)
    assert (work / 'results.md').read_text() == table
    result = json.loads((work / 'results.json').read_text())
    assert result['dry_run'] is True
    assert result['rows'][0] == dict(method='naclip-pamr',
                                     dataset='voc21', miou=None,
                                     published=64.1)
    assert sorted(os.listdir(work)) == ['results.json', 'results.md']


def test_real_run_reads_test_py_miou(tmp_path):
    configs, data, work = tmp_path / 'cfg', tmp_path / 'data', tmp_path / 'w'
    configs.mkdir()
    (configs / 'maskclip_voc20.py').write_text(
        f'_base_ = [{TINY_MASKCLIP!r}]\n')
    write_synthetic_voc(str(data / 'VOCdevkit' / 'VOC2012'))
    out = run('--methods', 'maskclip', '--datasets', 'voc20',
              '--data-root', str(data), '--config-dir', str(configs),
              '--work-dir', str(work))
    ours = json.loads((work / 'results.json').read_text())['rows'][0]
    assert ours['method'] == 'maskclip' and ours['published'] is None
    # the number tools/test.py logged for this run
    logged = re.findall(r'mIoU: (\d+\.\d+)', out)
    assert logged and abs(ours['miou'] - float(logged[-1])) < 5e-5
    assert f'[1/1] maskclip voc20: mIoU {ours["miou"]:.2f}' in out
    assert f'| maskclip (ours) | {ours["miou"]:.1f} |' in out


def _suite_module():
    spec = importlib.util.spec_from_file_location('benchmark_suite', SUITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_finds_a_config_for_every_pair(tmp_path):
    """configs/ovss holds <method>_<dataset>.py for every method and dataset
    the suite knows (and nothing else): with every data folder present the
    default dry run skips no pair."""
    suite = _suite_module()
    data = tmp_path / 'data'
    for _, folder in suite.DATASETS.values():
        (data / folder).mkdir(parents=True, exist_ok=True)
    out = run('--data-root', str(data), '--work-dir', str(tmp_path / 'w'),
              '--dry-run')
    pairs = [(m, d) for m in suite.METHODS for d in suite.DATASETS]
    lines = [line for line in out.splitlines() if line.startswith('[')]
    assert len(lines) == len(pairs) == 5 * 8
    for i, ((method, dataset), line) in enumerate(zip(pairs, lines), 1):
        config = osp.join(ROOT, 'configs', 'ovss', f'{method}_{dataset}.py')
        assert line.startswith(f'[{i}/40] {method} {dataset}: '), line
        assert 'skipped' not in line and f' {config} ' in line, line
    shipped = {osp.basename(p) for p in glob.glob(
        osp.join(ROOT, 'configs', 'ovss', '*.py'))}
    assert shipped == {f'{m}_{d}.py' for m, d in pairs}


def test_real_run_of_a_shipped_ovss_config(tmp_path):
    """configs/ovss/naclip-pamr_voc21.py (tiny CLIP) through tools/test.py
    on a synthetic VOC: one query per synonym, PAMR, the synonym softmax and
    prob_thd, the class checks passing on the merged 21 classes."""
    configs, data, work = tmp_path / 'cfg', tmp_path / 'data', tmp_path / 'w'
    configs.mkdir()
    shipped = osp.join(ROOT, 'configs', 'ovss', 'naclip-pamr_voc21.py')
    (configs / 'naclip-pamr_voc21.py').write_text(
        f'_base_ = [{shipped!r}]\n'
        f'_tiny = {TINY_CLIP!r}\n'
        'model = dict(\n'
        '    clip=dict(_delete_=True, model=_tiny, pretrained=None),\n'
        '    decode_head=dict(in_channels=32))\n'
        'test_dataloader = dict(num_workers=0, persistent_workers=False)\n')
    write_synthetic_voc(str(data / 'VOCdevkit' / 'VOC2012'))
    out = run('--methods', 'naclip-pamr', '--datasets', 'voc21',
              '--data-root', str(data), '--config-dir', str(configs),
              '--work-dir', str(work))
    ours = json.loads((work / 'results.json').read_text())['rows'][0]
    logged = re.findall(r'mIoU: (\d+\.\d+)', out)
    assert logged and abs(ours['miou'] - float(logged[-1])) < 5e-5
    assert ours['published'] == 64.1
    # the per-class table lists VOC21's 21 classes, background first
    assert re.search(r'\|\s+background\s+\|', out)
    assert re.search(r'\|\s+tvmonitor\s+\|', out)

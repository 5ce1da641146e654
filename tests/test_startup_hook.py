"""The installed start-up hook (reclip_mmseg_startup.pth): mmseg imports on
mmcv-lite without ``import reclip_mmseg`` first. Each check runs in a fresh
interpreter, as a user's ``python -c`` or mmseg's stock tools would."""
import glob
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import sysconfig

import pytest

import reclip_mmseg_startup

HAS_EXT = importlib.util.find_spec('mmcv._ext') is not None
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STOCK_TOOLS = osp.join(
    osp.dirname(importlib.util.find_spec('mmseg').origin), '.mim', 'tools')


def _run(code_or_args, env_extra=None, cwd=None):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore')
    env.pop('RECLIP_MMSEG_NO_STARTUP_HOOK', None)
    env.pop('PYTHONPATH', None)  # only what is installed
    env.update(env_extra or {})
    args = (['-c', code_or_args]
            if isinstance(code_or_args, str) else code_or_args)
    return subprocess.run([sys.executable] + args, env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_pth_is_installed_next_to_the_package():
    purelib = sysconfig.get_paths()['purelib']
    pth = glob.glob(osp.join(purelib, 'reclip_mmseg_startup.pth'))
    assert pth, f'reclip_mmseg_startup.pth missing in {purelib}'
    with open(pth[0]) as f:
        assert f.read() == 'import reclip_mmseg_startup\n'


@pytest.mark.skipif(HAS_EXT, reason='full mmcv: no stand-in needed')
def test_mmseg_apis_first_on_mmcv_lite(tmp_path):
    res = _run(
        'import sys\n'
        'from mmseg.apis import init_model, inference_model\n'
        'import mmseg.models\n'
        'from mmseg.registry import MODELS\n'
        "assert 'reclip_mmseg' not in sys.modules, 'plugin was imported'\n"
        "ops = sys.modules['mmcv.ops']\n"
        "print(ops.RECLIP_STANDIN, MODELS.get('PointHead') is not None)\n",
        cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ['True', 'True']


@pytest.mark.skipif(HAS_EXT, reason='full mmcv: no stand-in needed')
def test_switched_off_the_stack_fails_as_before(tmp_path):
    # what users saw before the hook: proves the hook is what makes it work
    res = _run('import mmseg.apis', {'RECLIP_MMSEG_NO_STARTUP_HOOK': '1'},
               cwd=str(tmp_path))
    assert res.returncode != 0
    assert "No module named 'mmcv._ext'" in res.stderr


@pytest.mark.skipif(HAS_EXT, reason='full mmcv: no stand-in needed')
def test_stock_print_config_runs_a_plugin_config(tmp_path):
    res = _run([
        osp.join(STOCK_TOOLS, 'misc', 'print_config.py'),
        osp.join(ROOT, 'configs', 'maskclip_toy.py')
    ], cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "type='MaskCLIPViT'" in res.stdout


def test_finder_answers_only_mmcv_ops_and_only_on_mmcv_lite(monkeypatch):
    finder = reclip_mmseg_startup.MmcvOpsStandinFinder()
    assert finder.find_spec('mmcv.cnn') is None
    assert finder.find_spec('mmcv') is None
    # full mmcv (compiled _ext present): the finder steps aside
    monkeypatch.setattr(reclip_mmseg_startup, 'mmcv_lite_installed',
                        lambda: False)
    assert finder.find_spec('mmcv.ops') is None
    monkeypatch.setattr(reclip_mmseg_startup, 'mmcv_lite_installed',
                        lambda: True)
    spec = finder.find_spec('mmcv.ops')
    assert spec.name == 'mmcv.ops' and spec.origin.endswith(
        'reclip_mmseg_startup.py')


def test_package_config_names_without_importing_the_plugin(tmp_path):
    # editable install (this checkout): mmengine alone would look for
    # <site-packages>/reclip_mmseg/.mim/configs and reject the scope
    (tmp_path / 'mine.py').write_text(
        "_base_ = ['reclip_mmseg::_base_/datasets/toy_world.py']\n"
        'train_dataloader = dict(batch_size=3)\n')
    # a leaf config's name has no '/' (mmengine's own lookup rejects it)
    (tmp_path / 'leaf.py').write_text(
        "_base_ = ['reclip_mmseg::reclip_voc.py']\n"
        'train_dataloader = dict(batch_size=5)\n')
    code = ('import sys\n'
            'from mmengine.config import Config\n'
            "cfg = Config.fromfile('reclip_mmseg::_base_/datasets/voc20.py')\n"
            'print(cfg.filename)\n'
            "mine = Config.fromfile('mine.py', import_custom_modules=False)\n"
            'print(mine.train_dataloader.batch_size, mine.dataset_type)\n'
            "voc = Config.fromfile('reclip_mmseg::reclip_voc.py',\n"
            '                      import_custom_modules=False)\n'
            "leaf = Config.fromfile('leaf.py', import_custom_modules=False)\n"
            'print(voc.filename, leaf.train_dataloader.batch_size,\n'
            '      leaf.model.type, leaf.dataset_type)\n'
            "print('reclip_mmseg' in sys.modules)\n")
    res = _run(code, cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == [
        osp.join(ROOT, 'configs', '_base_', 'datasets', 'voc20.py'), '3',
        'ToyWorldDataset',
        osp.join(ROOT, 'configs', 'reclip_voc.py'), '5', 'ReCLIPPlusPlus',
        'PascalVOC20Dataset', 'False'
    ]
    off = _run(code, {'RECLIP_MMSEG_NO_STARTUP_HOOK': '1'}, cwd=str(tmp_path))
    assert off.returncode != 0  # what mmengine alone does
    assert 'reclip_mmseg::_base_/datasets/voc20.py' in off.stderr


def test_config_finder_answers_only_mmengine_config():
    finder = reclip_mmseg_startup.MmengineConfigFinder()
    assert finder.find_spec('mmengine.registry') is None
    assert finder.find_spec('mmcv.ops') is None
    import mmengine
    spec = finder.find_spec('mmengine.config', mmengine.__path__)
    assert isinstance(spec.loader, reclip_mmseg_startup._ThenResolveConfigs)
    assert spec.origin.endswith(osp.join('mmengine', 'config',
                                         '__init__.py'))

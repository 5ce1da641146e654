"""The wheel, installed (not editable) into a fresh venv over the pinned
stack: configs and tools in reclip_mmseg/.mim (as mmseg ships them), the
start-up hook, `reclip_mmseg::` config names, the toy CLIP found from an
installed config and from a copy of it."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def sh(args, **kwargs):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600,
                          **kwargs)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """Build from a copy of the files git knows (no build/ in the checkout)."""
    src = tmp_path_factory.mktemp('src')
    files = sh(
        ['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
        cwd=ROOT).split('\n')
    for name in filter(None, files):
        if not osp.isfile(osp.join(ROOT, name)):
            continue  # deleted in the work tree
        os.makedirs(src / osp.dirname(name), exist_ok=True)
        shutil.copy2(osp.join(ROOT, name), src / name)
    out = tmp_path_factory.mktemp('wheel')
    sh([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-q', '-w', str(out), str(src)])
    (whl, ) = out.glob('reclip_mmseg-*.whl')
    return str(whl)


@pytest.fixture(scope='module')
def installed(wheel, tmp_path_factory):
    """A fresh venv with only the wheel; the pinned stack (torch, mmseg, ...)
    comes from this interpreter's site-packages through a path line."""
    env_dir = tmp_path_factory.mktemp('venv')
    venv.create(env_dir, with_pip=False)
    python = str(env_dir / 'bin' / 'python')
    site = sh([python, '-c',
               'import sysconfig; print(sysconfig.get_paths()["purelib"])'
               ]).strip()
    with open(osp.join(site, 'zz_pinned_stack.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    sh([sys.executable, '-m', 'pip', '--python', python, 'install',
        '--no-deps', '--no-index', '-q', wheel])
    return python, site


def test_wheel_carries_mim_configs_tools_and_the_startup_hook(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ('reclip_mmseg_startup.pth', 'reclip_mmseg_startup.py',
                 'reclip_mmseg/toy/toy_clip.pt',
                 'reclip_mmseg/.mim/model-index.yml',
                 'reclip_mmseg/.mim/configs/metafile.yaml',
                 'reclip_mmseg/.mim/configs/reclip_voc.py',
                 'reclip_mmseg/.mim/configs/_base_/default_runtime.py',
                 'reclip_mmseg/.mim/configs/_base_/datasets/ovss_voc21.py',
                 'reclip_mmseg/.mim/configs/_base_/class_names/voc21.txt',
                 'reclip_mmseg/.mim/tools/train.py',
                 'reclip_mmseg/.mim/tools/test.py',
                 'reclip_mmseg/.mim/tools/dist_test.sh',
                 'reclip_mmseg/.mim/tools/slurm_train.sh'):
        assert name in names, name
    assert not [n for n in names if '__pycache__' in n]


def run_in(installed, code, cwd):
    python, _ = installed
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1',
               PYTHONWARNINGS='ignore')
    env.pop('PYTHONPATH', None)
    return sh([python, '-c', code], cwd=cwd, env=env)


def test_installed_package_not_the_checkout(installed, tmp_path):
    _, site = installed
    out = run_in(installed,
                 'import reclip_mmseg; print(reclip_mmseg.__file__)',
                 str(tmp_path))
    assert out.strip() == osp.join(site, 'reclip_mmseg', '__init__.py')


def test_mmseg_apis_first_in_the_installed_venv(installed, tmp_path):
    out = run_in(
        installed, 'import sys\n'
        'from mmseg.apis import init_model\n'
        "print('reclip_mmseg' in sys.modules)\n", str(tmp_path))
    assert out.split() == ['False']


def test_package_config_names_and_toy_clip(installed, tmp_path):
    _, site = installed
    mim = osp.join(site, 'reclip_mmseg', '.mim', 'configs')
    # a user's config inheriting through mmengine's own `scope::` lookup
    (tmp_path / 'mine.py').write_text(
        "_base_ = ['reclip_mmseg::_base_/default_runtime.py']\n")
    # a copy of the toy config, away from any checkout
    shutil.copy(osp.join(mim, 'maskclip_toy.py'), tmp_path / 'copied.py')
    shutil.copytree(osp.join(mim, '_base_'), tmp_path / '_base_')
    out = run_in(
        installed, 'import reclip_mmseg\n'
        'from mmengine.config import Config\n'
        'from mmengine.registry import init_default_scope\n'
        'from mmseg.registry import MODELS\n'
        'from reclip_mmseg.models.utils.clip_loader import '
        '_resolve_pretrained\n'
        "init_default_scope('mmseg')\n"
        "cfg = Config.fromfile('reclip_mmseg::reclip_voc.py')\n"
        "print('R:' + cfg.filename)\n"
        "print('R:' + Config.fromfile('mine.py').model_wrapper_cfg.type)\n"
        "for name in ('reclip_mmseg::maskclip_toy.py', 'copied.py'):\n"
        '    model = MODELS.build(Config.fromfile(name).model)\n'
        "    print('R:' + _resolve_pretrained("
        "None, model.clip_setting['pretrained'], None)[0])\n",
        str(tmp_path))
    lines = [x[2:] for x in out.split('\n') if x.startswith('R:')]
    assert lines[0] == osp.join(mim, 'reclip_voc.py')
    assert lines[1] == 'DDPIfTrainable'
    toy_clip = osp.join(site, 'reclip_mmseg', 'toy', 'toy_clip.pt')
    assert lines[2:] == [toy_clip, toy_clip]


def test_demo_default_config_from_the_installed_package(installed, tmp_path):
    # the installed demo script, copied away from reclip_mmseg/.mim: its
    # default config and toy image come from the package, not a path
    # relative to the script
    python, site = installed
    script = tmp_path / 'elsewhere' / 'demo.py'
    os.makedirs(script.parent)
    shutil.copy(osp.join(site, 'reclip_mmseg', '.mim', 'tools', 'demo.py'),
                script)
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1',
               PYTHONWARNINGS='ignore')
    env.pop('PYTHONPATH', None)
    out = sh([python, str(script), '--out', str(tmp_path / 'out')],
             cwd=str(tmp_path), env=env)
    overlay = tmp_path / 'out' / 'toy_scene_overlay.png'
    toy_scene = osp.join(site, 'reclip_mmseg', 'demo', 'toy_scene.png')
    assert f'{toy_scene} -> {overlay}' in out
    assert osp.getsize(overlay) > 0

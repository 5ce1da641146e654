"""Let mmseg import on mmcv-lite without ``import reclip_mmseg`` first.

mmseg 1.2.2 imports ``mmcv.ops`` in four modules; on mmcv-lite that loads the
missing compiled ``mmcv._ext`` and fails, so ``from mmseg.apis import ...``
and mmseg's stock tools break. ``pip install reclip-mmseg`` puts
``reclip_mmseg_startup.pth`` (one line: ``import reclip_mmseg_startup``) in
site-packages; Python runs it at start-up and :func:`install` adds one
finder to ``sys.meta_path`` that answers for the name ``mmcv.ops`` only, and
only when ``mmcv._ext`` is missing. It imports nothing heavy (no torch, no
mmcv) at start-up; the stand-in is built the first time something imports
``mmcv.ops``. With full mmcv the finder returns None and nothing changes.
Switch it off with ``RECLIP_MMSEG_NO_STARTUP_HOOK=1``.

It also makes ``reclip_mmseg::`` config names work without importing the
plugin: a second finder answers for ``mmengine.config`` only, loads it as
usual and then applies :func:`resolve_package_configs` (mmengine 0.10.7 knows
``scope::path`` names only for the OpenMMLab packages it lists, and finds
them in ``<site-packages>/<package>/.mim``, which an editable install does
not have).

A top-level module, not ``reclip_mmseg.*``: importing the package would
import mmseg while mmseg is being imported.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import os.path as osp
import sys
import types

__all__ = [
    'install', 'build_mmcv_ops_standin', 'MmcvOpsStandinFinder',
    'MmengineConfigFinder', 'resolve_package_configs', 'config_path'
]


def _needs_compiled_ops(name):

    def unavailable(*args, **kwargs):
        raise ModuleNotFoundError(
            f'mmcv.ops.{name} needs the compiled mmcv ops (mmcv._ext), but '
            'this environment has mmcv-lite. Install the full mmcv to use it.')

    unavailable.__name__ = name
    return unavailable


def _module_getattr(name):
    if name.startswith('__'):  # module protocol (inspect, pickle, ...)
        raise AttributeError(name)
    raise ModuleNotFoundError(
        f'mmcv.ops.{name} is not available: this environment has '
        'mmcv-lite without compiled ops (mmcv._ext).',
        name='mmcv.ops')


def build_mmcv_ops_standin(ops=None):
    """Fill ``ops`` (a new module if None) as the pure-Python ``mmcv.ops``.

    Serves mmcv's own pure-Python ``point_sample`` (mmseg's point/SAN heads),
    a ``sigmoid_focal_loss`` that raises when called, and raises
    ``ModuleNotFoundError`` for any other name, which is what mmseg's guarded
    imports (cc_head, psa_head, point_head) expect.
    """
    import mmcv

    # Load mmcv/ops/point_sample.py by path: importing it as a submodule
    # would run mmcv/ops/__init__.py, which loads the missing extension.
    path = osp.join(osp.dirname(mmcv.__file__), 'ops', 'point_sample.py')
    spec = importlib.util.spec_from_file_location('mmcv.ops.point_sample',
                                                  path)
    point_sample_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(point_sample_mod)

    if ops is None:
        ops = types.ModuleType('mmcv.ops')
    ops.__doc__ = 'reclip_mmseg stand-in for mmcv.ops on mmcv-lite.'
    ops.__file__ = __file__
    ops.__path__ = []  # a package, so `import mmcv.ops.x` fails cleanly
    ops.RECLIP_STANDIN = True
    ops.point_sample = point_sample_mod.point_sample
    ops.sigmoid_focal_loss = _needs_compiled_ops('sigmoid_focal_loss')
    ops.__getattr__ = _module_getattr
    sys.modules['mmcv.ops.point_sample'] = point_sample_mod
    return ops


def mmcv_lite_installed() -> bool:
    """True when mmcv is importable and its compiled ``mmcv._ext`` is not."""
    if importlib.util.find_spec('mmcv') is None:
        return False
    return importlib.util.find_spec('mmcv._ext') is None


class _StandinLoader(importlib.abc.Loader):

    def create_module(self, spec):
        return None  # default module creation

    def exec_module(self, module):
        build_mmcv_ops_standin(module)


class MmcvOpsStandinFinder(importlib.abc.MetaPathFinder):
    """Answers ``import mmcv.ops`` with the stand-in on mmcv-lite only."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'mmcv.ops' or not mmcv_lite_installed():
            return None
        return importlib.machinery.ModuleSpec(
            'mmcv.ops', _StandinLoader(), origin=__file__, is_package=True)


SCOPE = 'reclip_mmseg::'


def config_path(name: str) -> str:
    """The path of a shipped config, e.g. ``config_path('reclip_voc.py')``.

    Installed from a wheel, configs live in ``reclip_mmseg/.mim/configs`` (as
    mmseg's in ``mmseg/.mim``); in a source checkout (editable install) in
    ``configs/`` next to the package. Finds the package without importing it.
    """
    spec = importlib.util.find_spec('reclip_mmseg')
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f'{SCOPE}{name}: reclip_mmseg is not '
                                'installed')
    package = osp.dirname(osp.abspath(spec.origin))
    for root in (osp.join(package, '.mim', 'configs'),
                 osp.join(osp.dirname(package), 'configs')):
        if osp.isfile(osp.join(root, name)):
            return osp.join(root, name)
    raise FileNotFoundError(
        f'{SCOPE}{name}: no such config in {package}/.mim/configs '
        '(installed) or configs/ (checkout)')


def resolve_package_configs(config_cls=None) -> bool:
    """``Config.fromfile('reclip_mmseg::reclip_voc.py')``,
    ``mmengine.hub.get_config`` and ``_base_ = ['reclip_mmseg::...']`` find
    the shipped configs (wheel or checkout). Names without the
    ``reclip_mmseg::`` prefix go to mmengine unchanged.

    Returns:
        bool: True if applied now, False if already applied.
    """
    if config_cls is None:
        from mmengine.config import Config as config_cls
    from mmengine.config import utils as config_utils

    config_utils.MODULE2PACKAGE.setdefault('reclip_mmseg', 'reclip-mmseg')
    fromfile = config_cls.fromfile
    if getattr(fromfile, 'reclip_fix', False):
        return False
    get_cfg_path = config_cls._get_cfg_path

    def fromfile_with_scope(filename, *args, **kwargs):
        if isinstance(filename, str) and filename.startswith(SCOPE):
            filename = config_path(filename[len(SCOPE):])
        return fromfile(filename, *args, **kwargs)

    def get_cfg_path_with_scope(cfg_path, filename):
        if cfg_path.startswith(SCOPE):  # our modules live in mmseg's scope
            return config_path(cfg_path[len(SCOPE):]), None
        return get_cfg_path(cfg_path, filename)

    fromfile_with_scope.reclip_fix = True
    fromfile_with_scope.__doc__ = fromfile.__doc__
    config_cls.fromfile = staticmethod(fromfile_with_scope)
    config_cls._get_cfg_path = staticmethod(get_cfg_path_with_scope)
    return True


class _ThenResolveConfigs(importlib.abc.Loader):
    """mmengine.config's own loader, then :func:`resolve_package_configs`."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        resolve_package_configs(module.Config)


class MmengineConfigFinder(importlib.abc.MetaPathFinder):
    """Answers ``import mmengine.config`` with mmengine's own module, after
    which ``reclip_mmseg::`` config names resolve."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'mmengine.config':
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _ThenResolveConfigs(spec.loader)
        return spec


def install() -> bool:
    """Put the two finders first on ``sys.meta_path`` (once).

    Returns:
        bool: True if installed now, False if already there or switched off.
    """
    if os.environ.get('RECLIP_MMSEG_NO_STARTUP_HOOK'):
        return False
    if any(isinstance(f, MmcvOpsStandinFinder) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, MmengineConfigFinder())
    sys.meta_path.insert(0, MmcvOpsStandinFinder())
    return True


install()

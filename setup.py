import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

# Copied into reclip_mmseg/.mim in the wheel, as mmseg ships its configs and
# tools (mmseg/.mim): Config.fromfile('reclip_mmseg::reclip_voc.py'),
# `_base_ = ['reclip_mmseg::_base_/default_runtime.py']` and mim find them.
MIM_FILES = ['configs', 'tools', 'model-index.yml']
# One line that Python runs at start-up: mmseg imports on mmcv-lite without
# `import reclip_mmseg` first (see reclip_mmseg_startup.py).
STARTUP_PTH = 'reclip_mmseg_startup.pth'
STARTUP_LINE = 'import reclip_mmseg_startup\n'


class BuildPyWithMimAndStartupHook(build_py):
    """build_py that also writes the start-up .pth and reclip_mmseg/.mim."""

    def run(self):
        super().run()
        with open(osp.join(self.build_lib, STARTUP_PTH), 'w') as f:
            f.write(STARTUP_LINE)
        if self.editable_mode:
            return  # the editable finder maps reclip_mmseg to the checkout
        mim = osp.join(self.build_lib, 'reclip_mmseg', '.mim')
        for name in MIM_FILES:
            if not osp.exists(name):
                continue
            dst = osp.join(mim, name)
            if osp.isdir(name):
                shutil.copytree(
                    name,
                    dst,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                os.makedirs(mim, exist_ok=True)
                shutil.copyfile(name, dst)

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [
            osp.join(self.build_lib, STARTUP_PTH)
        ]


class _AddStartupPth:
    """Wraps setuptools' editable strategy: also writes the start-up .pth
    (sorted after setuptools' own ``__editable__*.pth``, so the checkout is
    importable when it runs)."""

    def __init__(self, strategy):
        self.strategy = strategy

    def __call__(self, wheel, files, mapping):
        self.strategy(wheel, files, mapping)
        wheel.writestr(STARTUP_PTH, STARTUP_LINE)

    def __enter__(self):
        self.strategy.__enter__()
        return self

    def __exit__(self, *exc):
        return self.strategy.__exit__(*exc)


class EditableWheelWithStartupHook(editable_wheel):

    def _select_strategy(self, *args, **kwargs):
        return _AddStartupPth(super()._select_strategy(*args, **kwargs))



def get_version():
    scope = {}
    with open(osp.join('reclip_mmseg', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


with open('README.md', encoding='utf-8') as f:
    long_description = f.read()

setup(
    name='reclip-mmseg',
    version=get_version(),
    description='ReCLIP++ unsupervised semantic segmentation as an '
    'MMSegmentation 1.x plugin',
    long_description=long_description,
    long_description_content_type='text/markdown',
    packages=find_packages(include=['reclip_mmseg', 'reclip_mmseg.*']),
    py_modules=['reclip_mmseg_startup'],
    cmdclass={
        'build_py': BuildPyWithMimAndStartupHook,
        'editable_wheel': EditableWheelWithStartupHook
    },
    # the toy world's tiny CLIP (7 MB) ships with the package
    package_data={
        'reclip_mmseg.toy': ['toy_clip.pt', 'toy_clip_strong.pt'],
        'reclip_mmseg.demo': ['toy_scene.png']
    },
    python_requires='>=3.8',
    # Ranges, not pins: an existing mmseg environment keeps its torch and its
    # full (compiled) mmcv. mmcv or mmcv-lite both satisfy mmseg's assert;
    # neither is required here so pip never swaps one for the other.
    install_requires=[
        'torch>=1.13',
        'mmengine>=0.10.0,<1.0',
        'mmsegmentation>=1.2.0,<1.3',
        'open_clip_torch>=3.0,<4',
        'ftfy',
        'regex',
    ],
    extras_require={
        'tests': ['pytest'],
        'lite': ['mmcv-lite>=2.0.0rc4,<2.2.0'],
        'tensorboard': ['tensorboard'],
    },
    license='Apache License 2.0',
    zip_safe=False,
)

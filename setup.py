import os.path as osp

from setuptools import find_packages, setup


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
    # the toy world's tiny CLIP (7 MB) ships with the package
    package_data={'reclip_mmseg.toy': ['toy_clip.pt', 'toy_clip_strong.pt']},
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
    },
    license='Apache License 2.0',
    zip_safe=False,
)

"""Convert COCO-Stuff-164k label maps to the 27 coarse classes (PiCIE/STEGO).

Input: the official ``stuffthingmaps_trainval2017`` PNGs (pixel = fine id
0..181, 255 = unlabeled) under ``DATA_ROOT/annotations/{train2017,val2017}``.
Output: ``<name>_labelTrainIds27.png`` (coarse ids 0..26, 255 = ignore) next
to each input, or under ``OUT_DIR/<split>/`` with ``--out-dir``; these are the
label maps :class:`reclip_mmseg.datasets.COCOStuff27Dataset` reads.

    python tools/dataset_converters/cocostuff27.py data/coco_stuff164k \
        [--split train2017 val2017] [--out-dir DIR] [--nproc 8]

The mapping itself is :func:`reclip_mmseg.datasets.convert_cocostuff27_label`.
"""
import argparse
import os.path as osp
from functools import partial
from glob import glob

import mmcv
from mmengine.utils import (mkdir_or_exist, track_parallel_progress,
                            track_progress)

from reclip_mmseg.datasets.cocostuff27 import convert_cocostuff27_label

OUT_SUFFIX = '_labelTrainIds27.png'


def convert_file(in_file: str,
                 out_dir: str,
                 convert=convert_cocostuff27_label,
                 out_suffix: str = OUT_SUFFIX) -> str:
    """Convert one fine label PNG with ``convert``; returns the path
    written (``<name><out_suffix>``)."""
    label = mmcv.imread(in_file, flag='unchanged')
    if label is None:
        raise ValueError(f'cannot decode label PNG: {in_file}')
    if label.ndim != 2:
        raise ValueError(f'expected a single-channel label PNG, got shape '
                         f'{label.shape}: {in_file}')
    name = osp.splitext(osp.basename(in_file))[0]
    out_file = osp.join(out_dir, name + out_suffix)
    if not mmcv.imwrite(convert(label), out_file):
        raise OSError(f'cannot write {out_file}')
    return out_file


def parse_args(description: str, out_suffix: str):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        'data_root', help='COCO-Stuff root (holds annotations/<split>/)')
    parser.add_argument(
        '--split',
        nargs='+',
        default=['train2017', 'val2017'],
        help='annotation sub-directories to convert')
    parser.add_argument(
        '--out-dir',
        help='write OUT_DIR/<split>/*' + out_suffix + ' instead of next to '
        'the inputs')
    parser.add_argument(
        '--nproc', type=int, default=1, help='number of processes')
    return parser.parse_args()


def main(convert=convert_cocostuff27_label,
         out_suffix: str = OUT_SUFFIX,
         description: str = 'Convert COCO-Stuff-164k labels to the 27 '
         'coarse classes'):
    """Convert every fine label PNG of each split (also the COCO-Object
    converter's entry point, with its own ``convert`` and suffix)."""
    args = parse_args(description, out_suffix)
    for split in args.split:
        in_dir = osp.join(args.data_root, 'annotations', split)
        if not osp.isdir(in_dir):
            raise FileNotFoundError(
                f'input directory does not exist: {in_dir}')
        # Skip outputs of these tools (*_labelTrainIds27.png,
        # *_instanceTrainIds.png) and of mmseg's coco_stuff164k.py
        # (*_labelTrainIds.png): the official maps are <image id>.png.
        in_files = sorted(
            f for f in glob(osp.join(in_dir, '*.png'))
            if 'TrainIds' not in osp.basename(f))
        if not in_files:
            raise FileNotFoundError(f'no label PNGs in {in_dir}')
        out_dir = osp.join(args.out_dir, split) if args.out_dir else in_dir
        mkdir_or_exist(out_dir)
        func = partial(
            convert_file, out_dir=out_dir, convert=convert,
            out_suffix=out_suffix)
        if args.nproc > 1:
            track_parallel_progress(func, in_files, args.nproc)
        else:
            track_progress(func, in_files)
        print(f'{split}: wrote {len(in_files)} label maps to {out_dir}')


if __name__ == '__main__':
    main()

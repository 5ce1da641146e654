"""Compute each training image's class hypothesis once and write it to JSON.

    python tools/precompute_hypotheses.py CONFIG [CHECKPOINT] --out FILE
        [--cfg-options k=v ...]

Then train with ``--cfg-options model.hypothesis.file=FILE``: the file's
fingerprint (method, parameters, CLIP model and weights, class names) is
checked against the model, and every training image must be in it. Only the
frozen CLIP is used (a CHECKPOINT is optional); labels are never read.
"""
import argparse
import os
import os.path as osp

import torch
from _common import load_config
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.structures import BaseDataElement
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS, MODELS

from reclip_mmseg.models.utils import hypothesis_clip


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', default=None)
    parser.add_argument('--out', required=True, help='JSON file to write')
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    args.work_dir, args.launcher, args.local_rank = None, 'none', 0
    return args


def main():
    args = parse_args()
    out_dir = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(out_dir) or not os.access(out_dir, os.W_OK):
        raise SystemExit(
            f'error: --out {args.out}: directory {out_dir} does not exist or '
            'is not writable; create it first (checked before computing '
            'anything: hypotheses take minutes per image on CPU).')
    cfg = load_config(args)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    hyp_cfg = dict(cfg.model.hypothesis)
    hyp_cfg.pop('file', None)
    cfg.model.hypothesis = hyp_cfg
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.pipeline = []  # only the file paths are needed
    dataset = DATASETS.build(dataset_cfg)
    clip = hypothesis_clip(model)  # all the generator sees of the model
    bar = ProgressBar(len(dataset))
    for i in range(len(dataset)):
        sample = BaseDataElement(metainfo=dict(
            img_path=dataset.get_data_info(i)['img_path']))
        model.hypothesis(clip, [sample])
        bar.update()
    model.hypothesis.save(args.out, clip)
    print(f'\nwrote hypotheses of {len(dataset)} images to '
          f'{osp.abspath(args.out)}')


if __name__ == '__main__':
    main()

"""Train a segmentor (mmseg's tools/train.py, with reclip_mmseg imported).

    python tools/train.py configs/reclip_voc.py [--work-dir DIR] [--resume]
        [--amp] [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import logging

import torch
from _common import add_common_args, load_config
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmseg.registry import RUNNERS


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (AmpOptimWrapper on GPU, bfloat16 '
        'AutocastOptimWrapper on CPU)')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args)
    if args.amp:
        if cfg.optim_wrapper.type == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.',
                      'current', logging.WARNING)
        elif cfg.optim_wrapper.type != 'OptimWrapper':
            raise ValueError('--amp needs optim_wrapper.type OptimWrapper, '
                             f'got {cfg.optim_wrapper.type}')
        elif torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        else:  # mmengine's AmpOptimWrapper needs a GPU
            print_log('--amp without CUDA: bfloat16 autocast on CPU '
                      '(AutocastOptimWrapper)', 'current', logging.INFO)
            cfg.optim_wrapper.type = 'AutocastOptimWrapper'
            cfg.optim_wrapper.dtype = 'bfloat16'
    cfg.resume = args.resume
    runner = (
        Runner.from_cfg(cfg) if 'runner_type' not in cfg else
        RUNNERS.build(cfg))
    runner.train()


if __name__ == '__main__':
    main()

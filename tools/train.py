"""Train a segmentor (mmseg's tools/train.py, with reclip_mmseg imported).

    python tools/train.py configs/reclip_voc.py [--work-dir DIR] [--resume]
        [--trust-checkpoint] [--amp] [--full-checkpoint]
        [--resume-without-optimizer] [--cfg-options k=v ...]
        [--launcher pytorch]

Checkpoints are saved in plain types (WeightsOnlyCheckpointHook) and every
checkpoint is loaded weights-only (reclip_mmseg.safe_checkpoint);
--trust-checkpoint loads the one named by load_from / --resume with full
pickle, which can run code.
"""
import argparse
import logging

import torch
from _common import add_common_args, load_config
from mmengine.logging import print_log
from mmengine.runner import Runner, find_latest_checkpoint
from mmseg.registry import RUNNERS

from reclip_mmseg.engine import MissingOptimizerStateError
from reclip_mmseg.safe_checkpoint import UnsafeCheckpointError, trust_if_asked


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load the checkpoint of load_from / --resume with full pickle, '
        'which can run code: only for a file you trust (e.g. a checkpoint '
        'written before checkpoints were saved in plain types); same as the '
        'config key trust_checkpoint_code=True')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (AmpOptimWrapper on GPU, bfloat16 '
        'AutocastOptimWrapper on CPU)')
    parser.add_argument(
        '--full-checkpoint',
        action='store_true',
        help='keep the frozen CLIP weights in checkpoints (default: only the '
        'trained part; CLIP comes from `pretrained` when loading)')
    parser.add_argument(
        '--resume-without-optimizer',
        action='store_true',
        help='with --resume: when the checkpoint\'s optimizer file '
        '(iter_N.optim.pth) is missing, resume with a fresh optimizer state '
        '(not exact) instead of stopping')
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
    hooks = cfg.setdefault('custom_hooks', [])
    for name in ('WeightsOnlyCheckpointHook', 'RNGStateHook',
                 'CheckpointCheckHook', 'LabelCheckHook', 'WorkDirLockHook'):
        if not any(h.get('type') == name for h in hooks):
            hooks.append(dict(type=name))
    slim = [h for h in hooks if h.get('type') == 'SlimCheckpointHook']
    if not slim:
        slim = [dict(type='SlimCheckpointHook')]
        hooks.extend(slim)
    for hook in slim:
        hook['full'] = hook.get('full', False) or args.full_checkpoint
        hook['resume_without_optimizer'] = hook.get(
            'resume_without_optimizer',
            False) or args.resume_without_optimizer
    if args.resume and cfg.get('load_from') is None and \
            find_latest_checkpoint(cfg.work_dir) is None:
        raise SystemExit(
            f'error: --resume, but work dir {cfg.work_dir} has no checkpoint '
            'to resume from (no last_checkpoint file). Check '
            '--work-dir, set load_from to the checkpoint, or drop --resume '
            'to start a new run.')
    runner = (
        Runner.from_cfg(cfg) if 'runner_type' not in cfg else
        RUNNERS.build(cfg))
    with trust_if_asked(cfg, args.trust_checkpoint):
        runner.train()


if __name__ == '__main__':
    try:
        main()
    except (UnsafeCheckpointError, MissingOptimizerStateError) as err:
        raise SystemExit(f'error: {err}')

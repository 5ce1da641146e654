"""Test (and evaluate) a segmentor, as mmseg's tools/test.py.

    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] [--out DIR]
        [--show-dir DIR] [--tta] [--trust-checkpoint] [--cfg-options k=v ...]
        [--launcher pytorch]

CHECKPOINT may be omitted for training-free configs (MaskCLIP baseline):
the model has no trainable parameter, CLIP comes from `pretrained`.
CHECKPOINT is loaded weights-only (reclip_mmseg.safe_checkpoint): a file that
holds anything but tensors and plain data is refused unless you pass
--trust-checkpoint (full pickle, which can run code: only for files you trust).
"""
import argparse

from _common import add_common_args, load_config
from mmengine.runner import Runner

from reclip_mmseg.safe_checkpoint import UnsafeCheckpointError, trust_if_asked


def parse_args():
    parser = argparse.ArgumentParser(description='Test a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint file (omit for training-free configs)')
    parser.add_argument(
        '--out', help='directory to save predictions (IoUMetric output_dir)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir', help='directory where painted images are saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load CHECKPOINT with full pickle, which can run code: only for '
        'a file you trust; same as the config key trust_checkpoint_code=True')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        hook = cfg.default_hooks.get('visualization')
        if hook is None:
            raise RuntimeError('--show/--show-dir need a visualization hook '
                               'in default_hooks')
        hook['draw'] = True
        if args.show:
            hook['show'] = True
            hook['wait_time'] = args.wait_time
        if args.show_dir:
            cfg.visualizer['save_dir'] = args.show_dir
    if args.tta:
        if 'tta_pipeline' not in cfg:
            raise ValueError(f'--tta: {args.config} defines no tta_pipeline')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    runner = Runner.from_cfg(cfg)
    if args.checkpoint is None and any(
            p.requires_grad for p in runner.model.parameters()):
        raise SystemExit(
            f'{args.config} has trainable parameters: pass the CHECKPOINT '
            'of a trained model (only training-free configs such as '
            'maskclip_*.py run without one).')
    with trust_if_asked(cfg, args.trust_checkpoint):
        runner.test()


if __name__ == '__main__':
    try:
        main()
    except UnsafeCheckpointError as err:
        raise SystemExit(f'error: {err}')

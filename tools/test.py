"""Test (and evaluate) a segmentor, as mmseg's tools/test.py.

    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] [--out DIR]
        [--show-dir DIR [--show-interval N]] [--tta] [--trust-checkpoint]
        [--cfg-options k=v ...]
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
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

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
        '--show-interval',
        type=int,
        default=1,
        help='with --show/--show-dir: draw the images of every Nth test '
        'batch (default 1: every image)')
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


def set_output_dir(cfg, out):
    """--out: prediction PNGs from every metric that writes them (IoUMetric
    and subclasses); test_evaluator may be one metric or a list."""
    metrics = cfg.test_evaluator
    metrics = metrics if isinstance(metrics, list) else [metrics]
    takers = [
        m for m in metrics if issubclass(METRICS.get(m['type']), IoUMetric)
    ]
    if not takers:
        raise ValueError(
            f'--out: no metric in test_evaluator of {cfg.filename} writes '
            f'predictions (needs an IoUMetric, got '
            f'{[m["type"] for m in metrics]})')
    for metric in takers:
        metric['output_dir'] = out
        metric['keep_results'] = True


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
        # every image of every Nth batch (default: all images)
        hook['interval'] = args.show_interval
    if args.tta:
        if 'tta_pipeline' not in cfg:
            raise ValueError(f'--tta: {args.config} defines no tta_pipeline')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        set_output_dir(cfg, args.out)
    # Testing builds nothing of training: otherwise the visualization hook
    # (`runner.iter`) builds the train dataloader, which fails on a machine
    # that has only the test split (mmseg's stock test.py has this bug).
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        cfg[key] = None
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

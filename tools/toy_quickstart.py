"""Toy-world quick start: MaskCLIP vs ReCLIP++ (released and recommended).

    python tools/toy_quickstart.py [--clips base strong] [--seeds 0 1 2]
        [--threads 2] [--iters 2000] [--val-interval 500]
        [--variants released residual] [--num-train 2000] [--num-val 1000]
        [--work-dir DIR] [--data-root DIR] [--cfg-options k=v ...]

1. writes the toy dataset (once; ``reclip_mmseg.toy.write_dataset``),
2. per tiny CLIP, evaluates the training-free MaskCLIP baseline,
3. per seed, trains ReCLIP++ as released (``configs/reclip_toy.py``) and
   with the rectification-preserving decoder (``--variants``; default
   ``configs/reclip_toy_residual.py``), validating every
   ``--val-interval`` iterations, and evaluates the released model's
   ``argmax(Q - B)`` with its decoder dropped,
4. prints one table (mIoU, class- and space-preference scores, classes
   below 1 IoU; mean ± std over seeds) and writes ``summary.json``,
   ``learning_curves.png`` and ``examples.png`` to the work dir.

The terminal shows one progress bar per phase and the table; each run's
mmengine log, config and checkpoint are under ``WORK_DIR/<run>``. Runs go
through mmengine's Runner with the registered modules, exactly as
``tools/train.py`` / ``tools/test.py``. The result depends only on the seeds
and ``--threads``: the tool pins the thread count and the CPU code paths of
MKL and oneDNN (AVX2) before torch is imported (README "Toy world").
"""
import argparse
import contextlib
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = dict(
    maskclip=osp.join(ROOT, 'configs', 'maskclip_toy.py'),
    released=osp.join(ROOT, 'configs', 'reclip_toy.py'),
    residual=osp.join(ROOT, 'configs', 'reclip_toy_residual.py'))
LABELS = dict(
    maskclip='MaskCLIP',
    released='ReCLIP++ released',
    rectified='  released, argmax(Q-B)',
    residual='ReCLIP++ residual')
METRICS = ('mIoU', 'ClassPref', 'SpacePref')


def pin_threads(threads: int) -> dict:
    """Fix torch's thread count and MKL/oneDNN code paths; before torch.

    ``OMP/MKL_NUM_THREADS`` = ``threads``; ``MKL_CBWR=AVX2`` and
    ``ONEDNN_MAX_CPU_ISA=AVX2`` make BLAS and convolutions take the same
    instruction-set path on every x86 CPU with AVX2 (results then depend on
    the thread count, not on the processor); ``OMP_WAIT_POLICY=PASSIVE``
    keeps idle OpenMP threads from spinning. Values already set in the
    environment (non-empty) win. Returns the settings used.
    """
    if 'torch' in sys.modules:
        raise RuntimeError('pin_threads must run before torch is imported')
    env = dict(
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        MKL_CBWR='AVX2',
        ONEDNN_MAX_CPU_ISA='AVX2',
        OMP_WAIT_POLICY='PASSIVE')
    for key, value in env.items():
        if not os.environ.get(key):  # unset or empty
            os.environ[key] = value
    import torch
    torch.set_num_threads(threads)
    return {key: os.environ[key] for key in env}


def toy_config(name, *, data_root, work_dir, run, clip='base', seed=None,
               iters=None, val_interval=None, cfg_options=None):
    """The mmengine Config of one quick-start run (``name`` in CONFIGS)."""
    from mmengine.config import Config

    from reclip_mmseg.toy import TOY_CLIP_CHECKPOINTS
    if clip not in TOY_CLIP_CHECKPOINTS:
        raise ValueError(f'unknown tiny CLIP {clip!r}; choose from '
                         f'{sorted(TOY_CLIP_CHECKPOINTS)}')
    cfg = Config.fromfile(CONFIGS[name])
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.model.clip.pretrained = TOY_CLIP_CHECKPOINTS[clip]
    cfg.work_dir = osp.join(work_dir, run)
    cfg.experiment_name = run  # unique logger/visualizer per Runner
    cfg.visualizer.name = run
    cfg.launcher = 'none'
    if name != 'maskclip':
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        cfg.randomness = dict(seed=seed)
        iters = iters or cfg.train_cfg.max_iters
        cfg.train_cfg.max_iters = iters
        cfg.train_cfg.val_interval = val_interval or iters
        cfg.param_scheduler[0].end = iters
        cfg.default_hooks.checkpoint.interval = iters
        cfg.default_hooks.logger.interval = min(
            cfg.default_hooks.logger.interval, iters)
    return cfg


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='The README table: --clips base strong --seeds 0 1 2.')
    parser.add_argument('--clips', nargs='+', default=['base'],
                        choices=['base', 'strong'],
                        help='tiny CLIPs (base: lr 1e-3, strong: lr 2e-3)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--variants', nargs='+', default=['released', 'residual'],
        choices=['released', 'residual'],
        help='ReCLIP++ configs to train (released always adds its '
        'argmax(Q-B) row)')
    parser.add_argument('--iters', type=int, default=None,
                        help="training iterations (default: the config's)")
    parser.add_argument('--val-interval', type=int, default=None,
                        help='validate every N iterations (default iters/4)')
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-val', type=int, default=1000)
    parser.add_argument('--world-seed', type=int, default=0,
                        help='seed of the dataset')
    parser.add_argument('--examples', type=int, default=6,
                        help='val images in examples.png')
    parser.add_argument('--data-root', default='data/toy_world')
    parser.add_argument('--work-dir', default='work_dirs/toy_quickstart')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='overrides of the ReCLIP++ configs, e.g. optimizer.lr=0.001')
    args = parser.parse_args(argv)
    for key in ('iters', 'val_interval', 'threads'):
        value = getattr(args, key)
        if value is not None and value < 1:
            parser.error(f'--{key.replace("_", "-")} must be >= 1, got '
                         f'{value}')
    return args


def main(argv=None):
    args = parse_args(argv)
    env = pin_threads(args.threads)
    stream = sys.stdout
    os.makedirs(args.work_dir, exist_ok=True)
    log = osp.join(args.work_dir, 'quickstart.log')
    stream.write(f'Toy quick start: {args.threads} threads, CLIPs '
                 f'{args.clips}, seeds {args.seeds}; mmengine output goes '
                 f'to {log} and each run\'s work dir\n')
    with open(log, 'a') as f, contextlib.redirect_stdout(f), \
            contextlib.redirect_stderr(f):
        import reclip_mmseg  # noqa: F401  (registers modules)
        from reclip_mmseg.toy.quickstart import QuickStart
        return QuickStart(args, env, toy_config, stream).run()


if __name__ == '__main__':
    main()

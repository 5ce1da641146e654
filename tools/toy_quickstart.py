"""Toy-world quick start: data, ReCLIP++ training, both evaluations, a table.

    python tools/toy_quickstart.py [--iters 2000] [--seeds 0 1]
        [--num-train 2000] [--num-val 1000] [--work-dir DIR] [--data-root DIR]

1. writes the toy dataset (once; ``reclip_mmseg.toy.write_dataset``),
2. evaluates the training-free MaskCLIP baseline (``configs/maskclip_toy.py``),
3. trains ReCLIP++ (``configs/reclip_toy.py``) once per seed and evaluates it,
4. prints mIoU and the two bias scores (``BiasScoreMetric``), mean and
   spread over seeds, and writes them to ``WORK_DIR/summary.json``.

Everything runs through mmengine's Runner with the registered modules, as
``tools/train.py`` / ``tools/test.py`` would; each run's logs and checkpoint
are under ``WORK_DIR/<run name>``. No download: the tiny CLIP ships with the
package. Defaults take about 5 minutes on 2 CPU cores (README "Toy world").
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import time

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import reclip_mmseg  # noqa: E402,F401
from reclip_mmseg.toy import write_dataset  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = dict(
    maskclip=osp.join(ROOT, 'configs', 'maskclip_toy.py'),
    reclip=osp.join(ROOT, 'configs', 'reclip_toy.py'))
METRICS = ('mIoU', 'ClassPref', 'SpacePref')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Train longer: --iters 8000. More seeds: --seeds 0 1 2.')
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help='ReCLIP++ training iterations (default: the config\'s)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-val', type=int, default=1000)
    parser.add_argument(
        '--world-seed', type=int, default=0, help='seed of the dataset')
    parser.add_argument('--data-root', default='data/toy_world')
    parser.add_argument('--work-dir', default='work_dirs/toy_quickstart')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides of configs/reclip_toy.py, e.g. optimizer.lr=0.001')
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters must be >= 1, got {args.iters}')
    return args


def _config(name, args, run):
    cfg = Config.fromfile(CONFIGS[name])
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = args.data_root
    cfg.work_dir = osp.join(args.work_dir, run)
    cfg.experiment_name = run  # unique logger/visualizer per Runner
    cfg.visualizer.name = run
    cfg.launcher = 'none'
    return cfg


def _metrics(found, run):
    missing = [m for m in METRICS if m not in found]
    if missing:
        raise KeyError(f'{run}: evaluator returned no {missing} '
                       f'(got {sorted(found)})')
    return {m: float(found[m]) for m in METRICS}


def evaluate_maskclip(args):
    cfg = _config('maskclip', args, 'maskclip')
    return _metrics(Runner.from_cfg(cfg).test(), 'maskclip')


def train_reclip(args, seed):
    run = f'reclip_seed{seed}'
    cfg = _config('reclip', args, run)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.randomness = dict(seed=seed)
    if args.iters is not None:
        iters = args.iters
        cfg.train_cfg.max_iters = iters
        cfg.train_cfg.val_interval = iters
        cfg.param_scheduler[0].end = iters
        cfg.default_hooks.checkpoint.interval = iters
        cfg.default_hooks.logger.interval = min(
            cfg.default_hooks.logger.interval, iters)
    cfg.train_cfg.val_interval = cfg.train_cfg.max_iters + 1  # test below
    runner = Runner.from_cfg(cfg)
    runner.train()
    return _metrics(runner.test(), run)


def _cell(values):
    if len(values) == 1:
        return f'{values[0]:7.2f}'
    return f'{statistics.mean(values):7.2f} ± {statistics.stdev(values):.2f}'


def format_table(summary):
    lines = [f"{'model':10s} {'runs':>4s} " +
             ' '.join(f'{m:>15s}' for m in METRICS)]
    for name, label in (('maskclip', 'MaskCLIP'), ('reclip', 'ReCLIP++')):
        runs = summary[name]
        lines.append(f'{label:10s} {len(runs):4d} ' + ' '.join(
            f'{_cell([r[m] for r in runs]):>15s}' for m in METRICS))
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    write_dataset(
        args.data_root,
        num_train=args.num_train,
        num_val=args.num_val,
        seed=args.world_seed)
    summary = dict(maskclip=[evaluate_maskclip(args)], reclip=[])
    for seed in args.seeds:
        summary['reclip'].append(dict(seed=seed, **train_reclip(args, seed)))
    summary['args'] = vars(args)
    summary['minutes'] = (time.time() - start) / 60
    with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    print('\nToy world, val split (%d images), background ignored; '
          'mean ± std over ReCLIP++ seeds %s' % (args.num_val, args.seeds))
    print(format_table(summary))
    print('mIoU and ClassPref: higher is better; SpacePref (IoU slope from '
          'centre to corner): closer to or above 0 is better.')
    print(f"{summary['minutes']:.1f} min; details in "
          f"{osp.join(args.work_dir, 'summary.json')}")
    return summary


if __name__ == '__main__':
    main()

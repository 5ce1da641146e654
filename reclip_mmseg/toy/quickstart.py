"""The runs behind ``tools/toy_quickstart.py``: Runner calls, progress, table.

Every run is an mmengine ``Runner`` built from a toy config (the caller's
``make_config``). The console output of mmengine goes to the run's own log
file; the terminal gets one progress bar per phase from
:class:`QuickStartHook` and the final table from :func:`format_table`.
"""
import json
import math
import os
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List, Optional

import numpy as np
from mmengine.hooks import Hook
from mmengine.runner import Runner

from .world import CLASSES

METRICS = ('mIoU', 'ClassPref', 'SpacePref')
ROWS = (('maskclip', 'MaskCLIP'), ('released', 'ReCLIP++ released'),
        ('rectified', '  released, Q-B only'), ('residual',
                                                 'ReCLIP++ residual'))


class Bar:
    """One-line text progress bar (``\\r``-updated on a terminal, one final
    line otherwise)."""

    def __init__(self, title: str, total: int, stream=None, width: int = 24):
        self.title, self.total, self.width = title, max(total, 1), width
        self.stream = stream or sys.stdout
        self.tty = getattr(self.stream, 'isatty', lambda: False)()
        self.start = time.time()
        self.done = 0

    def _line(self, text: str) -> str:
        frac = min(self.done / self.total, 1.0)
        fill = int(round(frac * self.width))
        spent = time.time() - self.start
        eta = spent / frac - spent if frac > 0 else 0.0
        return (f'{self.title:<28s} [{"#" * fill}{"." * (self.width - fill)}]'
                f' {self.done:>5d}/{self.total:<5d} {spent:5.0f}s '
                f'eta {eta:4.0f}s {text}')

    def update(self, done: int, text: str = '') -> None:
        self.done = done
        if self.tty:
            self.stream.write('\r' + self._line(text)[:150].ljust(150))
            self.stream.flush()

    def close(self, text: str = '') -> None:
        self.done = self.total
        line = self._line(text).replace('eta    0s ', '')
        self.stream.write(('\r' if self.tty else '') + line.ljust(150) + '\n')
        self.stream.flush()


class QuickStartHook(Hook):
    """Progress bars, the val curve, final metrics and example predictions.

    Args:
        title (str): Run name for the bars.
        stream: Where the bars go (the real terminal).
        examples (int): Predictions of the first val/test batch to keep.
    """
    priority = 'VERY_LOW'

    def __init__(self, title: str, stream, examples: int = 6):
        self.title, self.stream, self.examples = title, stream, examples
        self.curve: List[tuple] = []
        self.metrics: Dict = {}
        self.predictions: List = []
        self.bar: Optional[Bar] = None
        self.loss = None

    def before_train(self, runner) -> None:
        self.bar = Bar(f'{self.title} train', runner.max_iters, self.stream)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        loss = float(outputs['loss'])
        self.loss = loss if self.loss is None else 0.95 * self.loss + \
            0.05 * loss
        val = f' val mIoU {self.curve[-1][1]:.2f}' if self.curve else ''
        self.bar.update(runner.iter + 1, f'loss {self.loss:.3f}{val}')

    def after_train(self, runner) -> None:
        self.bar.close(f'loss {self.loss:.3f} val mIoU '
                       f'{self.metrics.get("mIoU", math.nan):.2f}')

    def _keep(self, batch_idx, outputs) -> None:
        if batch_idx == 0:
            self.predictions = [(s.img_path, s.pred_sem_seg.data[0].cpu(
            ).numpy().astype(np.uint8)) for s in outputs[:self.examples]]

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._keep(batch_idx, outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics)
        self.curve.append((runner.iter, float(metrics['mIoU'])))

    def before_test_epoch(self, runner) -> None:
        self.bar = Bar(f'{self.title} test', len(runner.test_dataloader),
                       self.stream)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._keep(batch_idx, outputs)
        self.bar.update(batch_idx + 1)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics)
        self.bar.close(f'mIoU {metrics["mIoU"]:.2f}')


def run_record(model: str, clip: str, seed, threads: int, metrics: Dict,
               wall_s: float, **extra) -> Dict:
    """One summary.json entry from an evaluator's metrics dict."""
    missing = [m for m in METRICS if m not in metrics]
    if missing:
        raise KeyError(f'{model}/{clip}: evaluator returned no {missing} '
                       f'(got {sorted(metrics)})')
    per_class = {c: float(metrics[f'IoU.{c}']) for c in CLASSES}
    return dict(
        model=model,
        clip=clip,
        seed=seed,
        threads=threads,
        **{m: round(float(metrics[m]), 2)
           for m in METRICS},
        per_class_iou=per_class,
        classes_below_1=sorted(c for c, v in per_class.items() if v < 1),
        wall_s=round(wall_s, 1),
        **extra)


def _cell(values: List[float]) -> str:
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'


def format_table(runs: List[Dict]) -> str:
    """Rows MaskCLIP / released / Q-B / residual per CLIP; mean ± std."""
    head = (f"{'clip':6s} {'model':24s} {'runs':>4s} " +
            ' '.join(f'{m:>14s}' for m in METRICS) + '  <1 IoU per run')
    lines = [head]
    for clip in dict.fromkeys(r['clip'] for r in runs):
        for model, label in ROWS:
            rows = [r for r in runs if r['clip'] == clip and
                    r['model'] == model]
            if not rows:
                continue
            dead = ' '.join(str(len(r['classes_below_1'])) for r in rows)
            lines.append(f'{clip:6s} {label:24s} {len(rows):4d} ' + ' '.join(
                f'{_cell([r[m] for r in rows]):>14s}' for m in METRICS) +
                         f'  {dead}')
    return '\n'.join(lines)


class QuickStart:
    """All runs of one quick start (see ``tools/toy_quickstart.py``)."""

    def __init__(self, args, env: Dict, make_config, stream):
        self.args, self.env, self.stream = args, env, stream
        self.make_config = make_config
        self.runs: List[Dict] = []
        self.hooks: Dict = {}

    def _runner(self, name, run, clip, seed=None):
        a = self.args
        cfg = self.make_config(
            name,
            data_root=a.data_root,
            work_dir=a.work_dir,
            run=run,
            clip=clip,
            seed=seed,
            iters=a.iters,
            val_interval=a.val_interval,
            cfg_options=a.cfg_options)
        if name != 'maskclip' and a.val_interval is None:
            cfg.train_cfg.val_interval = max(cfg.train_cfg.max_iters // 4, 1)
        os.makedirs(cfg.work_dir, exist_ok=True)
        runner = Runner.from_cfg(cfg)
        hook = QuickStartHook(run, self.stream, a.examples)
        runner.register_hook(hook)
        self.hooks[run] = hook
        return runner, hook

    def _maskclip(self, clip):
        start = time.time()
        runner, hook = self._runner('maskclip', f'{clip}_maskclip', clip)
        runner.test()
        self.runs.append(
            run_record('maskclip', clip, None, self.args.threads,
                       hook.metrics, time.time() - start,
                       work_dir=runner.work_dir))

    def _reclip(self, variant, clip, seed):
        start = time.time()
        run = f'{clip}_{variant}_seed{seed}'
        runner, hook = self._runner(variant, run, clip, seed)
        runner.train()
        self.runs.append(
            run_record(variant, clip, seed, self.args.threads, hook.metrics,
                       time.time() - start, curve=hook.curve,
                       work_dir=runner.work_dir))
        if variant == 'released':  # the same weights, decoder dropped
            start = time.time()
            runner.model.decode_head.test_output = 'rectified'
            hook.title = f'{clip}_Q-B_seed{seed}'
            released = hook.predictions
            runner.test()
            self.hooks[hook.title] = QuickStartHook(hook.title, None)
            self.hooks[hook.title].predictions = hook.predictions
            hook.predictions = released
            self.runs.append(
                run_record('rectified', clip, seed, self.args.threads,
                           hook.metrics, time.time() - start,
                           work_dir=runner.work_dir))

    def run(self) -> Dict:
        from . import write_dataset
        from .plots import plot_examples, plot_learning_curves
        a, start = self.args, time.time()
        fresh = not osp.isfile(osp.join(a.data_root, 'world.json'))
        write_dataset(
            a.data_root,
            num_train=a.num_train,
            num_val=a.num_val,
            seed=a.world_seed)
        if fresh:  # after write_dataset's own progress bar
            self.stream.write(f'\ndata: {a.num_train} train and {a.num_val} '
                              f'val images written to {a.data_root}\n')
        for clip in a.clips:
            self._maskclip(clip)
            for seed in a.seeds:
                for variant in a.variants:
                    self._reclip(variant, clip, seed)
        table = format_table(self.runs)
        summary = dict(
            runs=self.runs,
            table=table,
            args=vars(a),
            env=self.env,
            minutes=(time.time() - start) / 60)
        out = a.work_dir
        with open(osp.join(out, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=1)
        pictures = [plot_learning_curves(self.runs,
                                         osp.join(out,
                                                  'learning_curves.png'))]
        for i, clip in enumerate(a.clips):
            name = 'examples.png' if i == 0 else f'examples_{clip}.png'
            columns = [('MaskCLIP', f'{clip}_maskclip')] + [
                (label.strip(), f'{clip}_{v}_seed{a.seeds[0]}')
                for v, label in ROWS[1:] if v in a.variants
            ]
            columns = [(label, self.hooks[run].predictions)
                       for label, run in columns]
            pictures.append(
                plot_examples(columns, a.data_root, osp.join(out, name),
                              title=f'tiny CLIP {clip}, seed {a.seeds[0]}'))
        s = self.stream
        s.write(f'\nToy world, val split ({a.num_val} images, background '
                f'ignored); mean ± std over seeds {a.seeds}; '
                f'{a.threads} threads\n{table}\n')
        s.write('mIoU and ClassPref: higher is better; SpacePref (IoU slope '
                'from centre to corner): closer to or above 0 is better.\n')
        s.write(f'{summary["minutes"]:.1f} min. Summary, plots and each '
                f'run\'s logs: {osp.abspath(out)} (summary.json, '
                f'{", ".join(osp.basename(p) for p in pictures)})\n')
        s.flush()
        return summary

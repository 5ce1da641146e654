"""Choose PixelTagHypothesis parameters on a split with labels (a grid).

    python tools/tune_pixel_hypothesis.py CONFIG --split train
        [--limit N] [--scales 10 30 100] [--ratios 0.05 0.1 0.2]
        [--short-sides 0 128] [--thresholds 0.05 ... 0.95] [--top 10]
        [--out FILE.json] [--cfg-options k=v ...]

Use it on TRAINING images only (labels generated or annotated for this
purpose), never on the split you report. Each image takes one backbone pass
per short side (0 = the original size); every (logit_scale, statistic,
top_ratio, threshold) is evaluated on those cosines without another pass.
Settings are ranked by the mean F1 over the classes present in a label
(``reclip_mmseg.evaluation.hypothesis_quality``), then mAP; the table of the
best ``--top`` and the ranking of all go to stdout and ``--out``.
"""
import argparse
import itertools
import json

import numpy as np
import torch
from _common import load_config
from analyze_hypotheses import label_sets, split_dataset
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from mmseg.registry import MODELS, TASK_UTILS

from reclip_mmseg.evaluation.hypothesis_quality import hypothesis_quality
from reclip_mmseg.models.utils import hypothesis_clip, relevance_hypothesis
from reclip_mmseg.models.utils.hypothesis_rules import RELEVANCE_STATISTICS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--split', choices=['train', 'val'], default='train')
    parser.add_argument('--limit', type=int, default=None)
    parser.add_argument('--scales', type=float, nargs='+',
                        default=[10., 30., 100.])
    parser.add_argument('--ratios', type=float, nargs='+',
                        default=[0.02, 0.05, 0.1, 0.2])
    parser.add_argument('--short-sides', type=int, nargs='+', default=[0])
    parser.add_argument('--thresholds', type=float, nargs='+',
                        default=[round(0.05 * i, 2) for i in range(1, 20)])
    parser.add_argument('--top', type=int, default=10)
    parser.add_argument('--out')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    args.work_dir, args.launcher, args.local_rank = None, 'none', 0
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model).eval()
    clip = hypothesis_clip(model)
    dataset = split_dataset(cfg, args.split)
    n = len(dataset) if args.limit is None else min(args.limit, len(dataset))
    paths = [dataset.get_data_info(i)['img_path'] for i in range(n)]
    truths = label_sets(dataset, range(n), len(clip.class_names))
    names = [c if isinstance(c, str) else c[0] for c in clip.class_names]
    cosines = {}  # short side -> [(K, N) per image]
    bar = ProgressBar(n * len(args.short_sides))
    for side in args.short_sides:
        gen = TASK_UTILS.build(
            dict(type='PixelTagHypothesis', short_side=side or None))
        cosines[side] = []
        for path in paths:
            with torch.no_grad():
                cosines[side].append(
                    gen.pixel_cosines(clip, gen.load_image(clip, path)))
            bar.update()
    stats = [('max', 1.0)] + [('top_mean', r) for r in args.ratios]
    rows = []
    for side, scale, (stat, ratio) in itertools.product(
            args.short_sides, args.scales, stats):
        rel = torch.stack([
            RELEVANCE_STATISTICS[stat]((scale * c).softmax(0), ratio)
            for c in cosines[side]
        ])
        for thr in args.thresholds:
            hyps = [relevance_hypothesis(r, thr, 1) for r in rel]
            q = hypothesis_quality(hyps, truths, rel.numpy(), names)
            rows.append(
                dict(short_side=side or None, logit_scale=scale,
                     statistic=stat, top_ratio=ratio, threshold=thr,
                     **q['mean'], micro_f1=q['micro']['f1'],
                     size=q['mean_hypothesis_size']))
    rows.sort(key=lambda r: (-r['f1'], -r['mAP']))
    print(f'\n{args.split} split, {n} images, {len(rows)} settings, '
          f'{torch.get_num_threads()} threads; best by mean F1 (x100):')
    print(f"{'short':>5s} {'scale':>6s} {'stat':>8s} {'ratio':>6s} "
          f"{'thr':>5s} {'P':>6s} {'R':>6s} {'F1':>6s} {'mAP':>6s} "
          f"{'|H|':>5s}")
    for r in rows[:args.top]:
        print(f"{str(r['short_side']):>5s} {r['logit_scale']:6.0f} "
              f"{r['statistic']:>8s} {r['top_ratio']:6.2f} "
              f"{r['threshold']:5.2f} {100 * r['precision']:6.2f} "
              f"{100 * r['recall']:6.2f} {100 * r['f1']:6.2f} "
              f"{100 * r['mAP']:6.2f} {r['size']:5.2f}")
    print(f"mean label size {np.mean([len(t) for t in truths]):.2f}")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(config=args.config, split=args.split,
                           num_images=n, ranking=rows), f, indent=0)
    return rows


if __name__ == '__main__':
    main()

"""Measure the quality and cost of class hypotheses against a split's labels.

    python tools/analyze_hypotheses.py CONFIG [CHECKPOINT]
        [--types window pixel global] [--split val|train] [--limit N]
        [--hyp-options pixel.threshold=0.3 window.window=32 ...]
        [--out FILE.json] [--device cpu] [--cfg-options k=v ...]

For each hypothesis type (``window``: SlidingWindowHypothesis, ``pixel``:
PixelTagHypothesis, ``global``: GlobalThresholdHypothesis) every image of
the split gets its hypothesis from the generator exactly as training
computes it (the original image file, the frozen CLIP), timed per image
(``compute`` alone, image decoding excluded); its per-class ``scores`` rank
the images for the AP. The labels are read HERE ONLY, for the analysis (the
classes present in each label map). Printed: one table row per type (mean
precision, recall, F1, image-level mAP over the classes present in a label,
micro P/R/F1, mean hypothesis and label size, ms per image); ``--out``
writes those and the per-class numbers as JSON.

Each type is built from the config's ``model.hypothesis`` if it is of that
type (its ``file`` dropped), else from the type's defaults; the keys every
generator shares (``clip_size``, ``batch_size``, ``backend_args``) come
from ``model.hypothesis`` either way. ``--hyp-options TYPE.key=value``
overrides one key of one type.
"""
import argparse
import json
import os.path as osp
import time

import numpy as np
import torch
from _common import load_config
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS, MODELS, TASK_UTILS

from reclip_mmseg.evaluation.hypothesis_quality import (hypothesis_quality,
                                                        label_classes)
from reclip_mmseg.models.utils import hypothesis_clip
from reclip_mmseg.models.utils.hypothesis_types import (HYPOTHESIS_TYPES,
                                                        generator_configs)

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', default=None)
    parser.add_argument(
        '--types',
        nargs='+',
        default=list(HYPOTHESIS_TYPES),
        help=f'of {list(HYPOTHESIS_TYPES)}')
    parser.add_argument('--split', choices=['val', 'train'], default='val')
    parser.add_argument('--limit', type=int, default=None,
                        help='first N images of the split')
    parser.add_argument('--hyp-options', nargs='+', action=DictAction,
                        default={}, help='TYPE.key=value, e.g. '
                        'pixel.threshold=0.3')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    args.work_dir, args.launcher, args.local_rank = None, 'none', 0
    return args


def split_dataset(cfg, split: str):
    """The split's dataset without a pipeline (only file paths needed)."""
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    dataset_cfg = loader.dataset
    dataset_cfg.pipeline = []
    return DATASETS.build(dataset_cfg)


def label_sets(dataset, indices, num_classes: int) -> list:
    """Classes in each image's label (read with mmseg's LoadAnnotations, so
    ``reduce_zero_label`` and ``label_map`` apply as in evaluation)."""
    load = LoadAnnotations()
    out = []
    for i in indices:
        info = dict(dataset.get_data_info(i), seg_fields=[])
        if not osp.isfile(info['seg_map_path']):
            raise FileNotFoundError(
                f"label {info['seg_map_path']} of image {info['img_path']} "
                f'not found: the split needs labels for this analysis')
        out.append(label_classes(load(info)['gt_seg_map'], num_classes))
    return out


def analyze(gen, clip, paths, truths, names, device) -> dict:
    hyps, scores, times = [], [], []
    bar = ProgressBar(len(paths))
    for path in paths:
        image = gen.load_image(clip, path)
        with torch.no_grad():
            if device.type == 'cuda':
                torch.cuda.synchronize()
            start = time.perf_counter()
            hyps.append(gen.compute(clip, image))
            if device.type == 'cuda':
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
            scores.append(gen.scores(clip, image).float().cpu().numpy())
        bar.update()
    result = hypothesis_quality(hyps, truths, np.stack(scores), names)
    result.update(
        ms_per_image=1000 * float(np.mean(times)),
        ms_per_image_median=1000 * float(np.median(times)),
        params=gen.params())
    return result


def format_table(results: dict) -> str:
    head = (f"{'type':8s} {'P':>6s} {'R':>6s} {'F1':>6s} {'mAP':>6s} "
            f"{'microP':>7s} {'microR':>7s} {'microF1':>7s} {'|H|':>5s} "
            f"{'|L|':>5s} {'ms/img':>9s}")
    rows = [head]
    for name, r in results.items():
        m, u = r['mean'], r['micro']
        rows.append(
            f"{name:8s} {100 * m['precision']:6.2f} {100 * m['recall']:6.2f} "
            f"{100 * m['f1']:6.2f} {100 * m['mAP']:6.2f} "
            f"{100 * u['precision']:7.2f} {100 * u['recall']:7.2f} "
            f"{100 * u['f1']:7.2f} {r['mean_hypothesis_size']:5.2f} "
            f"{r['mean_label_size']:5.2f} {r['ms_per_image']:9.2f}")
    return '\n'.join(rows)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    gen_cfgs = generator_configs(cfg.model.hypothesis, args.types,
                                 args.hyp_options)
    gens = {name: TASK_UTILS.build(c) for name, c in gen_cfgs.items()}
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    device = torch.device(args.device)
    model.to(device).eval()
    clip = hypothesis_clip(model)  # all a generator sees of the model
    dataset = split_dataset(cfg, args.split)
    indices = range(len(dataset) if args.limit is None else
                    min(args.limit, len(dataset)))
    paths = [dataset.get_data_info(i)['img_path'] for i in indices]
    truths = label_sets(dataset, indices, len(clip.class_names))
    names = [n if isinstance(n, str) else n[0] for n in clip.class_names]
    results = {}
    for name, gen in gens.items():
        print(f'\n{name} ({type(gen).__name__}, {gen.params()})')
        results[name] = analyze(gen, clip, paths, truths, names, device)
    table = format_table(results)
    print(f'\n{args.split} split, {len(paths)} images, device {device}, '
          f'{torch.get_num_threads()} threads (P/R/F1/mAP: means over the '
          'classes present in a label, x100)\n' + table)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(config=args.config, split=args.split,
                     num_images=len(paths), device=str(device),
                     threads=torch.get_num_threads(), table=table,
                     results=results), f, indent=1)
        print(f'wrote {osp.abspath(args.out)}')
    return results


if __name__ == '__main__':
    main()

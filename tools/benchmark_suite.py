"""The 8-benchmark open-vocabulary protocol in one command: ``tools/test.py``
for each (method, dataset), then our mIoU beside the published one.

    python tools/benchmark_suite.py [--methods naclip-pamr sclip] \\
        [--datasets voc21 ade] [--data-root data/] \\
        [--config-dir configs/ovss] [--work-dir work_dirs/benchmark_suite] \\
        [--dry-run] [--cfg-options k=v ...]

Each pair runs ``configs/ovss/<method>_<dataset>.py`` (``--config-dir``) with
``test_dataloader.dataset.data_root`` set to the dataset's folder under
``--data-root`` (mmseg's layout, README "Benchmarks"); a pair whose config or
data folder is missing is skipped with a line saying which. ``--dry-run``
prints the commands and runs nothing. The table (``results.md`` and
``results.json`` in ``--work-dir``) puts our mIoU (read from the metrics JSON
mmengine writes to each run's log dir) next to the ViT-B/16 numbers the
papers published, marked "published" (../shared/PEERS.md).
"""
import argparse
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
from typing import Dict, List, NamedTuple, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: benchmark -> (column title, data folder under --data-root)
DATASETS = {
    'voc21': ('VOC21', 'VOCdevkit/VOC2012'),
    'context60': ('Context60', 'VOCdevkit/VOC2010'),
    'coco_object': ('COCO-Object', 'coco_stuff164k'),
    'voc20': ('VOC20', 'VOCdevkit/VOC2012'),
    'context59': ('Context59', 'VOCdevkit/VOC2010'),
    'coco_stuff171': ('COCO-Stuff171', 'coco_stuff164k'),
    'cityscapes': ('Cityscapes', 'cityscapes'),
    'ade20k': ('ADE20K', 'ade/ADEChallengeData2016'),
}
ALIASES = {'ade': 'ade20k', 'city': 'cityscapes', 'object': 'coco_object',
           'stuff': 'coco_stuff171'}
#: configs/ovss/<method>_<dataset>.py exists for each (README "Configs");
#: 'naclip' is NACLIP's last block alone, 'naclip-pamr' NACLIP's released
#: default (PAMR on), which its published numbers are.
METHODS = ('maskclip', 'sclip', 'clearclip', 'naclip', 'naclip-pamr')

#: Published ViT-B/16 mIoU (the papers' tables, as in PEERS.md); None: not
#: reported. NACLIP's are with PAMR, its released default (the PAMR-on
#: numbers of its README agree on Context60, COCO-Object, Context59,
#: Cityscapes and ADE20K), hence under 'naclip-pamr'.
PUBLISHED: Dict[str, Dict[str, Optional[float]]] = {
    'sclip': dict(voc21=59.6, context60=31.7, coco_object=33.5, voc20=81.5,
                  context59=34.5, coco_stuff171=22.8, cityscapes=32.3,
                  ade20k=16.5),
    'clearclip': dict(voc21=None, context60=None, coco_object=None,
                      voc20=80.9, context59=35.9, coco_stuff171=23.9,
                      cityscapes=30.0, ade20k=16.7),
    'naclip-pamr': dict(voc21=64.1, context60=35.0, coco_object=36.2,
                        voc20=83.0, context59=38.4, coco_stuff171=25.7,
                        cityscapes=38.3, ade20k=19.1),
}


class Job(NamedTuple):
    method: str
    dataset: str
    work_dir: str
    cmd: List[str]
    skip: Optional[str]  # why the pair does not run, None if it does


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', nargs='+', default=list(METHODS))
    parser.add_argument(
        '--datasets', nargs='+', default=list(DATASETS),
        help=f'of {list(DATASETS)}; aliases {ALIASES}')
    parser.add_argument('--data-root', default='data')
    parser.add_argument(
        '--config-dir', default=osp.join(ROOT, 'configs', 'ovss'),
        help='holds <method>_<dataset>.py')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_suite')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands, run nothing')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed on to every tools/test.py run')
    args = parser.parse_args(argv)
    args.datasets = [ALIASES.get(d, d) for d in args.datasets]
    unknown = [d for d in args.datasets if d not in DATASETS]
    if unknown:
        parser.error(f'unknown datasets {unknown}; choose from '
                     f'{list(DATASETS)} or aliases {list(ALIASES)}')
    return args


def plan(args) -> List[Job]:
    """One :class:`Job` per (method, dataset), in the order given."""
    jobs = []
    for method in args.methods:
        for dataset in args.datasets:
            config = osp.abspath(
                osp.join(args.config_dir, f'{method}_{dataset}.py'))
            data_dir = osp.abspath(
                osp.join(args.data_root, DATASETS[dataset][1]))
            work_dir = osp.abspath(
                osp.join(args.work_dir, f'{method}_{dataset}'))
            cmd = [
                sys.executable, osp.join(ROOT, 'tools', 'test.py'), config,
                '--work-dir', work_dir, '--cfg-options',
                f'test_dataloader.dataset.data_root={data_dir}',
                *args.cfg_options
            ]
            skip = None
            if not osp.isdir(data_dir):
                skip = f'data folder {data_dir} missing (README "Benchmarks")'
            elif not osp.isfile(config):
                skip = f'no config {config}'
            jobs.append(Job(method, dataset, work_dir, cmd, skip))
    return jobs


def read_miou(work_dir: str) -> float:
    """mIoU of the newest run in ``work_dir``: the metrics JSON that
    mmengine's LoggerHook writes to ``<work_dir>/<timestamp>/<timestamp>.json``
    after testing."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    for path in reversed(logs):
        with open(path, encoding='utf-8') as f:
            for line in reversed(f.read().splitlines()):
                if '"mIoU"' in line:
                    return float(json.loads(line)['mIoU'])
    raise RuntimeError(f'no mIoU in the metrics JSON under {work_dir}')


def table(methods, datasets, ours) -> Tuple[str, list]:
    """Markdown table (ours and published rows) and its JSON rows."""
    rows = []
    for method in methods:
        for dataset in datasets:
            rows.append(dict(
                method=method, dataset=dataset,
                miou=ours.get((method, dataset)),
                published=PUBLISHED.get(method, {}).get(dataset)))
    fmt = (lambda v: '-' if v is None else f'{v:.1f}')
    lines = ['| method | ' + ' | '.join(DATASETS[d][0] for d in datasets) +
             ' |', '|---' * (len(datasets) + 1) + '|']
    for method in methods:
        lines.append(f'| {method} (ours) | ' + ' | '.join(
            fmt(ours.get((method, d))) for d in datasets) + ' |')
        if method in PUBLISHED:
            lines.append(f'| {method} (published) | ' + ' | '.join(
                fmt(PUBLISHED[method].get(d)) for d in datasets) + ' |')
    return '\n'.join(lines) + '\n', rows


def main(argv=None):
    args = parse_args(argv)
    jobs = plan(args)
    ours = {}
    for i, job in enumerate(jobs, 1):
        head = f'[{i}/{len(jobs)}] {job.method} {job.dataset}'
        if job.skip:
            print(f'{head}: skipped: {job.skip}', flush=True)
            continue
        print(f'{head}: {shlex.join(job.cmd)}', flush=True)
        if args.dry_run:
            continue
        proc = subprocess.run(job.cmd, cwd=ROOT)
        if proc.returncode != 0:
            print(f'{head}: failed (exit {proc.returncode}), see '
                  f'{job.work_dir}', flush=True)
            continue
        ours[(job.method, job.dataset)] = read_miou(job.work_dir)
        print(f'{head}: mIoU {ours[(job.method, job.dataset)]:.2f}',
              flush=True)
    markdown, rows = table(args.methods, args.datasets, ours)
    print(markdown, end='')
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(markdown)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(dict(dry_run=args.dry_run, rows=rows), f, indent=1)


if __name__ == '__main__':
    main()

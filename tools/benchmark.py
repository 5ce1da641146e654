"""Benchmark inference and training of one or more configs, interleaved.

    python tools/benchmark.py CONFIG [CONFIG ...] [--shape H W] [--batch-size N]
        [--device cpu|cuda] [--amp none|bf16|fp16] [--mode infer|train|both]
        [--floor] [--slide CROP STRIDE] [--last-blocks RULE ...]
        [--pamr H W [--pamr-iters 10] [--pamr-dilations 8 16]]
        [--warmup 2] [--repeats 10] [--out results.json]
        [--hyp-shape H W [--hyp-types window pixel ...] [--hyp-repeats N]]
        [--cfg-options k=v ...]

Models are built with random CLIP weights (``model.clip.pretrained=None``) unless
``--keep-pretrained``: no download needed. With several configs, every
repeat runs each config once in turn (interleaved), so their ratio holds on a
noisy machine; ratios are to the first config. ``--floor`` adds open_clip's
``encode_image`` of the same visual tower on the same input (the cost floor
of any CLIP-based segmentor). ``--last-blocks`` runs every config once per
last-block rule (``MaskCLIPViT(last_block=...)``, each rule's default
options), interleaved, so the rules compare on one machine state; ``--pamr``
adds the PAMR step alone on one H x W image's logits (K = the first config's
classes), as ``test_cfg.postprocess_merged`` runs it.

Training is timed per iteration (forward, loss, backward, optimizer step)
with the hypotheses already cached, and split into: the frozen visual pass,
the Reference text pass (once per iteration, whole batch), and the rest
(head + loss + backward + step). The hypothesis of one uncached image of
``--hyp-shape`` is timed separately (in any ``--mode``): after the first
epoch it costs nothing. ``--hyp-types window pixel`` times those generators
(``reclip_mmseg.models.utils.generator_configs`` of the config's
``model.hypothesis``) on the same image, interleaved ``--hyp-repeats``
times, with ratios to the first type.
"""
import argparse
import contextlib
import copy
import json
import os.path as osp
import resource
import statistics
import sys
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS, TASK_UTILS
from mmseg.structures import SegDataSample

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import reclip_mmseg  # noqa: E402,F401
from reclip_mmseg.models.utils import (build_clip,  # noqa: E402
                                       generator_configs, hypothesis_clip)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--shape', type=int, nargs=2, default=[336, 448])
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--amp', choices=['none', 'bf16', 'fp16'], default='none')
    parser.add_argument(
        '--mode', choices=['infer', 'train', 'both'], default='infer')
    parser.add_argument('--floor', action='store_true')
    parser.add_argument(
        '--slide',
        type=int,
        nargs=2,
        metavar=('CROP', 'STRIDE'),
        help='also run each config with slide inference (square CROP, '
        'STRIDE), interleaved with its whole-image inference')
    parser.add_argument(
        '--last-blocks',
        nargs='+',
        metavar='RULE',
        help='run each config once per last-block rule (maskclip, sclip, '
        'clearclip, naclip, vanilla), interleaved')
    parser.add_argument(
        '--pamr',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='also time PAMR alone on the logits of one H x W image')
    parser.add_argument('--pamr-iters', type=int, default=10)
    parser.add_argument(
        '--pamr-dilations', type=int, nargs='+', default=[8, 16])
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument(
        '--hyp-shape',
        type=int,
        nargs=2,
        default=None,
        metavar=('H', 'W'),
        help='time the class hypothesis of one uncached H x W image')
    parser.add_argument(
        '--hyp-types',
        nargs='+',
        default=None,
        help='hypothesis types to time on that image, interleaved, e.g. '
        'window pixel global (default: the config\'s own)')
    parser.add_argument('--hyp-repeats', type=int, default=1)
    parser.add_argument('--keep-pretrained', action='store_true')
    parser.add_argument('--out', help='write results as JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def _autocast(args, device):
    if args.amp == 'none':
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if args.amp == 'bf16' else torch.float16
    return torch.autocast(device.type, dtype=dtype)


class Case:
    """One config (or the encode_image floor) and its timed callables."""

    def __init__(self, name, args, device, cfg=None, clip=None, pamr=None):
        self.name, self.args, self.device = name, args, device
        self.times = {}
        b = args.batch_size
        h, w = args.shape
        if pamr is not None:  # (num_classes, H, W): one image's logits
            from reclip_mmseg.models.postprocess import PAMRStep
            self.model = PAMRStep(args.pamr_iters, args.pamr_dilations)
            self.logits = torch.randn(1, *pamr, device=device)
            self.inputs = torch.randn(1, 3, *pamr[1:], device=device)
            self.steps = dict(pamr=self._pamr)
            return
        self.inputs = torch.randn(b, 3, h, w, device=device)
        if clip is not None:  # padded as MaskCLIPViT pads
            self.inputs = torch.nn.functional.pad(
                self.inputs, (0, -w % 16, 0, -h % 16))
            self.model = clip.to(device).eval()
            self.steps = dict(infer=self._floor)
            return
        self.hyp_cfg = cfg.model.get('hypothesis', {})
        model = MODELS.build(cfg.model).to(device)
        model.init_weights()
        self.model = model
        self.metas = [
            dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))
            for _ in range(b)
        ]
        self.steps = {}
        if args.mode in ('infer', 'both'):
            self.steps['infer'] = self._infer
        if args.mode in ('train', 'both'):
            if not any(p.requires_grad for p in model.parameters()):
                raise ValueError(f'{name}: nothing to train')
            params = [p for p in model.parameters() if p.requires_grad]
            self.optim = torch.optim.SGD(params, lr=0.01, momentum=0.9)
            k = model.decode_head.num_classes
            for i, meta in enumerate(self.metas):
                meta['img_path'] = f'bench_{i}'
                model.hypothesis.cache[f'bench_{i}'] = list(range(0, k, 7))
            self.steps.update(
                train=self._train,
                train_visual=self._visual,
                train_reference=self._reference)

    def _samples(self):
        return [SegDataSample(metainfo=m) for m in self.metas]

    @torch.no_grad()
    def _floor(self):
        with _autocast(self.args, self.device):
            self.model.encode_image(self.inputs)

    @torch.no_grad()
    def _pamr(self):
        self.model(self.logits, self.inputs, [{}])

    @torch.no_grad()
    def _infer(self):
        self.model.eval()
        with _autocast(self.args, self.device):
            self.model.predict(self.inputs, self._samples())

    @torch.no_grad()
    def _visual(self):
        self.model.train()
        with _autocast(self.args, self.device):
            self.model.extract_feat(self.inputs)

    def _reference(self):
        self.model.train()
        with _autocast(self.args, self.device):
            self.model.decode_head.reference().sum().backward()
        self.optim.zero_grad()

    def _train(self):
        self.model.train()
        with _autocast(self.args, self.device):
            losses = self.model.loss(self.inputs, self._samples())
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        self.optim.zero_grad()
        loss.backward()
        self.optim.step()

    def run(self, step):
        _sync(self.device)
        start = time.perf_counter()
        self.steps[step]()
        _sync(self.device)
        self.times.setdefault(step, []).append(
            (time.perf_counter() - start) * 1000)


def _summary(times):
    return dict(
        median_ms=statistics.median(times),
        min_ms=min(times),
        max_ms=max(times),
        runs=len(times))


def _floor_clip(clip_model, shape):
    """An open_clip CLIP (random weights) built for ``shape`` input, so its
    own ``encode_image`` runs on the benchmark input."""
    size = tuple(-(-x // 16) * 16 for x in shape)  # as our padding
    if isinstance(clip_model, str):
        import open_clip
        return open_clip.create_model(clip_model, force_image_size=size)
    cfg = dict(clip_model)
    cfg['vision_cfg'] = dict(cfg['vision_cfg'], image_size=size)
    return build_clip(cfg, None)


def _peak_memory_mb(device):
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _time_hypotheses(case, args):
    """``{key: summary}`` of each hypothesis type's ``compute`` on one
    random ``--hyp-shape`` image, ``--hyp-repeats`` times, interleaved."""
    model, device = case.model, case.device
    if args.hyp_types:
        cfgs = generator_configs(case.hyp_cfg, args.hyp_types)
        gens = {f'hypothesis_{name}': TASK_UTILS.build(c)
                for name, c in cfgs.items()}
    else:
        gens = dict(hypothesis_uncached=model.hypothesis)
    clip = hypothesis_clip(model)
    image = torch.randn(3, *args.hyp_shape, device=device)
    times = {key: [] for key in gens}
    for _ in range(args.hyp_repeats):
        for key, gen in gens.items():
            _sync(device)
            start = time.perf_counter()
            with torch.no_grad(), _autocast(case.args, device):
                gen.compute(clip, image)
            _sync(device)
            times[key].append((time.perf_counter() - start) * 1000)
    return {key: _summary(t) for key, t in times.items()}


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    cases = []
    for path, rule in [(p, r) for p in args.configs
                       for r in args.last_blocks or [None]]:
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        name = osp.splitext(osp.basename(path))[0]
        if rule is not None:  # the rule with its own default options
            cfg.model.backbone.last_block = rule
            cfg.model.backbone.pop('last_block_cfg', None)
            name = f'{name} last_block={rule}'
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        if not args.keep_pretrained:
            cfg.model.clip.pretrained = None
        if cfg.model.decode_head.get('norm_cfg', {}).get('type') == 'SyncBN':
            cfg.model.decode_head.norm_cfg.type = 'BN'
        cases.append(Case(name, args, device, cfg=cfg))
        if args.slide:
            crop, stride = args.slide
            slide = copy.deepcopy(cfg)
            slide.model.test_cfg = dict(
                mode='slide', crop_size=(crop, crop), stride=(stride, stride))
            cases.append(
                Case(f'{name} slide {crop}/{stride}', args, device,
                     cfg=slide))
    if args.floor:
        clip = _floor_clip(cfg.model.clip.model, args.shape)
        cases.append(Case('open_clip encode_image', args, device, clip=clip))
    if args.pamr:
        k = cases[0].model.out_channels
        d = ','.join(map(str, args.pamr_dilations))
        cases.append(
            Case(f'PAMR {args.pamr_iters} iter d=({d}) K={k} '
                 f'{args.pamr[0]}x{args.pamr[1]}', args, device,
                 pamr=(k, *args.pamr)))

    steps = sorted({s for c in cases for s in c.steps})
    for i in range(args.warmup + args.repeats):
        for step in steps:
            for case in cases:  # interleaved
                if step in case.steps:
                    case.run(step)
        if i == args.warmup - 1:
            for case in cases:
                case.times = {}
    results = dict(
        args={k: v for k, v in vars(args).items()},
        torch=torch.__version__,
        device=(torch.cuda.get_device_name(device)
                if device.type == 'cuda' else 'cpu'),
        threads=torch.get_num_threads(),
        cases={})
    base = cases[0]
    for case in cases:
        entry = {s: _summary(t) for s, t in case.times.items()}
        for step, s in entry.items():
            s['ratio_to_first'] = (s['median_ms'] / statistics.median(
                base.times[step]) if step in base.times else None)
        if 'infer' in entry:
            entry['infer']['images_per_s'] = (
                1000 * args.batch_size / entry['infer']['median_ms'])
        if 'train' in entry:
            rest = (entry['train']['median_ms'] -
                    entry['train_visual']['median_ms'] -
                    entry['train_reference']['median_ms'])
            entry['train_head_loss_backward_ms'] = rest
        if args.hyp_shape and hasattr(case.model, 'hypothesis'):
            hyps = _time_hypotheses(case, args)
            if not args.hyp_types:  # the config's own, as before
                entry['hypothesis_uncached_ms_per_image'] = hyps[
                    'hypothesis_uncached']['median_ms']
            else:
                first = hyps[f'hypothesis_{args.hyp_types[0]}']['median_ms']
                for s in hyps.values():
                    s['ratio_to_first'] = s['median_ms'] / first
                entry.update(hyps)
        results['cases'][case.name] = entry
    results['peak_memory_mb'] = _peak_memory_mb(device)
    _print(results, args)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


def _print(results, args):
    h, w = args.shape
    print(f"\ndevice {results['device']}, torch {results['torch']}, "
          f"{results['threads']} threads, input {args.batch_size}x3x{h}x{w},"
          f' amp {args.amp}, {args.repeats} repeats (interleaved)')
    print(f"{'case':40s} {'step':22s} {'median ms':>10s} {'min':>9s} "
          f"{'max':>9s} {'ratio':>7s}")
    for name, entry in results['cases'].items():
        for step, s in entry.items():
            if not isinstance(s, dict):
                print(f'{name:40s} {step:22s} {s:10.1f}')
                continue
            ratio = s['ratio_to_first']
            ratio = '-' if ratio is None else f'{ratio:.3f}'
            print(f"{name:40s} {step:22s} {s['median_ms']:10.1f} "
                  f"{s['min_ms']:9.1f} {s['max_ms']:9.1f} {ratio:>7s}")
    print(f"peak memory: {results['peak_memory_mb']:.0f} MB "
          '(CPU: process max RSS)')


if __name__ == '__main__':
    main()

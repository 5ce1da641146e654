"""Segment your own images with your own class names; write overlays.

    python tools/demo.py [IMAGE ...] [--classes "cat,dog,grass" | FILE]
        [--config CONFIG] [--checkpoint CKPT] [--out DIR] [--device cpu]
        [--cfg-options k=v ...]

Without arguments: the toy CLIP (reclip_mmseg::maskclip_toy.py, i.e.
configs/maskclip_toy.py of the installed package) on a toy scene
that ships with the package, in seconds on a CPU. With real CLIP weights:
``--config configs/maskclip_voc.py`` (training-free MaskCLIP head; any class
names) or a trained ReCLIP++ config + ``--checkpoint`` (its decoder knows
its own K classes: ``--classes`` must list as many, in the same order).
``--classes`` takes commas or a file with one class per line (``;`` on a
line: synonyms). Writes ``DIR/<image>_overlay.png`` with a legend and prints
each class's share of the pixels.
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.config import Config, DictAction

import reclip_mmseg  # noqa: F401  (registers modules, applies stack fixes)
from reclip_mmseg.demo import (TOY_IMAGE, class_shares, display_name,
                               draw_overlay, parse_classes)
from reclip_mmseg.models.utils import resolve_class_names

# found through the package (wheel: reclip_mmseg/.mim/configs; editable
# install: the checkout's configs/), wherever this script is run from
TOY_CONFIG = 'reclip_mmseg::maskclip_toy.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('images', nargs='*', default=[TOY_IMAGE])
    parser.add_argument(
        '--classes',
        help='"cat,dog,grass" or a file, one class per line (";": '
        'synonyms); default: the config\'s classes')
    parser.add_argument('--config', default=TOY_CONFIG)
    parser.add_argument('--checkpoint', help='trained ReCLIP++ checkpoint')
    parser.add_argument('--out', default='work_dirs/demo')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def build(config: str, checkpoint, classes, device, cfg_options=None):
    from mmseg.apis import init_model
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    head = cfg.model.decode_head
    names = (classes if classes is not None else resolve_class_names(
        head.class_names))
    if checkpoint and classes is not None:
        trained = len(resolve_class_names(head.class_names))
        if len(classes) != trained:
            raise SystemExit(
                f'error: {checkpoint} was trained for {trained} classes '
                f'({config}); --classes lists {len(classes)}. A trained '
                'decoder cannot take new classes: use a training-free '
                'maskclip_*.py config for other class names.')
    palette = None  # the dataset's colours when its own classes are used
    if classes is None and isinstance(head.class_names, str):
        from mmseg.registry import DATASETS
        palette = DATASETS.get(head.class_names).METAINFO.get('palette')
    head.class_names = list(names)
    head.pop('num_classes', None)
    model = init_model(cfg, checkpoint, device=device)
    return model, list(names), palette


def main(argv=None):
    args = parse_args(argv)
    from mmseg.apis import inference_model
    classes = parse_classes(args.classes) if args.classes else None
    model, names, palette = build(args.config, args.checkpoint, classes,
                                  args.device, args.cfg_options)
    os.makedirs(args.out, exist_ok=True)
    written = []
    for path in args.images:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f'error: cannot read image {path}')
        seg = inference_model(model, path).pred_sem_seg.data[0].cpu().numpy()
        shares = class_shares(seg, len(names))
        canvas = draw_overlay(image[..., ::-1], seg, names, palette)
        out = osp.join(args.out,
                       osp.splitext(osp.basename(path))[0] + '_overlay.png')
        cv2.imwrite(out, canvas[..., ::-1])
        written.append(out)
        print(f'{path} -> {out}')
        for i in np.argsort(-shares, kind='stable'):
            if shares[i] > 0:
                print(f'  {display_name(names[i]):24s} '
                      f'{100 * shares[i]:5.1f}%')
    return written


if __name__ == '__main__':
    main()

"""Import a released ReCLIP++ hypothesis file for a config's training split.

    python tools/import_official_hypotheses.py SRC --config CONFIG --out FILE
        [--image-list LIST] [--cfg-options k=v ...]

SRC is one of the authors' ``text/*_pseudo_label_ReCLIPPP.json`` (one JSON
list of class ids per line). Line i belongs to image i of the training list
the released code read: by default the config's ``ann_file`` (VOC, Context:
the same list files); ``--image-list`` gives the order explicitly (one image
name per line, relative to the image folder, without suffix), and is required
where the config lists no file (Cityscapes: the release's ``train.txt``; ADE20K
and COCO-Stuff: the release used ``os.listdir`` order, which cannot be
reproduced on another disk). FILE is the project's hypothesis JSON, marked as
imported, for ``model.hypothesis.file=FILE``.
"""
import argparse
import json
import os.path as osp

from mmengine.config import Config, DictAction
from mmseg.registry import DATASETS

import reclip_mmseg  # noqa: F401  (registers modules, applies stack fixes)
from reclip_mmseg.models.utils import resolve_class_names
from reclip_mmseg.official import (hypotheses_by_image, imported_fingerprint,
                                   read_official_hypotheses)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Import released ReCLIP++ class hypotheses')
    parser.add_argument('src', help='released *_pseudo_label_ReCLIPPP.json')
    parser.add_argument('--config', required=True)
    parser.add_argument('--out', required=True, help='hypothesis JSON')
    parser.add_argument(
        '--image-list',
        help='image names in the order of SRC (default: the config\'s '
        'ann_file)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def _read_names(path):
    with open(path) as f:
        return f.read().split()


def import_hypotheses(src, cfg, out, image_list=None) -> dict:
    class_names = resolve_class_names(cfg.model.decode_head.class_names)
    hyps = read_official_hypotheses(src, len(class_names))
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, lazy_init=True))
    img_dir = dataset.data_prefix['img_path']
    suffix = dataset.img_suffix
    name_to_path = {}
    for info in dataset.load_data_list():
        rel = osp.relpath(info['img_path'], img_dir)
        name_to_path[rel[:-len(suffix)] if rel.endswith(suffix) else rel] = \
            info['img_path']
    if image_list is None:
        if not dataset.ann_file:
            raise ValueError(
                f'{cfg.filename}: the training split lists no ann_file, so '
                f'the order of {src} is unknown (the released code read '
                'Cityscapes from its own train.txt, and ADE20K / COCO-Stuff '
                'in os.listdir order, which no other disk reproduces). Pass '
                '--image-list with the image names in that order.')
        image_list = dataset.ann_file
    names = _read_names(image_list)
    by_image = hypotheses_by_image(hyps, names, name_to_path, src)
    data = dict(
        fingerprint=imported_fingerprint(src, class_names),
        hypotheses=by_image)
    with open(out, 'w') as f:
        json.dump(data, f, indent=0)
    return data


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    data = import_hypotheses(args.src, cfg, args.out, args.image_list)
    print(f'wrote {args.out}: {len(data["hypotheses"])} images; train with '
          f'--cfg-options model.hypothesis.file={args.out}')


if __name__ == '__main__':
    main()

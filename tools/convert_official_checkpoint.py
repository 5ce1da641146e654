"""Convert a released ReCLIP++ checkpoint (dogehhh/ReCLIP) for a config.

    python tools/convert_official_checkpoint.py SRC DST --config CONFIG
        [--with-clip] [--cfg-options k=v ...]

The conversion itself is the table-driven
``reclip_mmseg.official.convert_official_checkpoint``; this tool loads SRC
weights-only, checks the result against the config's model (every key and
shape: ``tools/test.py CONFIG DST`` then loads it strictly) and writes DST
with ``meta.dataset_meta``. By default DST holds the trained part only (~3 MB)
and CLIP comes from the config's ``model.clip.pretrained``; ``--with-clip`` also converts
the release's own CLIP copy (a full checkpoint, ~600 MB).
"""
import argparse
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmseg.registry import DATASETS, MODELS

import reclip_mmseg  # noqa: F401  (registers modules, applies stack fixes)
from reclip_mmseg.models.utils import frozen_clip_prefixes
from reclip_mmseg.official import convert_official_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a released ReCLIP++ checkpoint')
    parser.add_argument('src', help='released checkpoint (module.* keys)')
    parser.add_argument('dst', help='output mmseg checkpoint')
    parser.add_argument('--config', required=True, help='config it is for')
    parser.add_argument(
        '--with-clip',
        action='store_true',
        help="also convert the release's CLIP copy (full checkpoint)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def _dataset_meta(class_names) -> dict:
    if isinstance(class_names, str):
        meta = DATASETS.get(class_names).METAINFO
        return dict(classes=list(meta['classes']),
                    palette=[list(c) for c in meta.get('palette', [])])
    return dict(classes=[n if isinstance(n, str) else n[0]
                         for n in class_names])


def convert(src: str, dst: str, cfg: Config, with_clip: bool = False):
    released = torch.load(src, map_location='cpu', weights_only=True)
    # the model's keys and shapes, built without downloading CLIP
    model_cfg = cfg.model.copy()
    pretrained = model_cfg.get('clip', {}).get('pretrained')
    model_cfg['clip'] = dict(model_cfg.get('clip', {}), pretrained=None)
    model = MODELS.build(model_cfg)
    towers = tuple(frozen_clip_prefixes(model, with_random=True))
    expected = {
        k: v.shape
        for k, v in model.state_dict().items()
        if with_clip or not k.startswith(towers)
    }
    state = convert_official_checkpoint(
        released,
        num_classes=model.decode_head.num_classes,
        with_clip=with_clip)
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = sorted(f'{k}: checkpoint {tuple(state[k].shape)}, model '
                   f'{tuple(expected[k])}' for k in set(state) & set(expected)
                   if state[k].shape != expected[k])
    if missing or extra or wrong:
        raise ValueError(f'{src} does not fit {cfg.filename}: missing '
                         f'{missing}, unexpected {extra}, shapes {wrong}')
    for key, value in state.items():
        state[key] = value.to(model.state_dict()[key].dtype)
    meta = dict(
        dataset_meta=_dataset_meta(cfg.model.decode_head.class_names),
        converted_from=osp.basename(src))
    if not with_clip:
        meta['omitted_frozen_clip'] = {prefix: pretrained for prefix in towers}
    torch.save(dict(state_dict=state, meta=meta), dst)
    return state


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    state = convert(args.src, args.dst, cfg, args.with_clip)
    print(f'wrote {args.dst}: {len(state)} tensors, '
          f'{sum(v.numel() for v in state.values())} values')


if __name__ == '__main__':
    main()

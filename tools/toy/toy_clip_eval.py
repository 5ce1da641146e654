"""Zero-shot evaluation of a toy-world tiny CLIP (MaskCLIP dense mIoU,
global top-1, pair confusions, centre/border recall) on held-out scenes.

Used by ``tools/toy/pretrain_tiny_clip.py`` to judge a pretraining run; the
product's own evaluation of the toy world is ``tools/test.py
configs/maskclip_toy.py`` (mmseg's metric on the written dataset).
"""
from typing import Dict, Optional, Sequence

import numpy as np

from reclip_mmseg.toy.world import (CLASSES, CLIP_MEAN, CLIP_STD,
                                    CONFUSABLE_PAIRS, IMAGE_SIZE,
                                    PRETRAIN_BIAS, TOY_CLIP,
                                    TOY_CLIP_CHECKPOINT, PretrainBias,
                                    is_near_centre, sample_scene, scene_rng)

__all__ = ['evaluate_toy_clip', 'format_evaluation']

_YY, _XX = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64)


def _heldout_scenes(num_images: int, seed: int,
                    num_objects: Optional[int] = None):
    scenes = [
        sample_scene(
            scene_rng(seed, 2, i), heldout=True, num_objects=num_objects)
        for i in range(num_images)
    ]
    imgs = np.stack([s[0] for s in scenes])
    labels = np.stack([s[1] for s in scenes])
    return imgs, labels, [s[2] for s in scenes]


def _normalise(imgs: np.ndarray):
    import torch
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float()
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def evaluate_toy_clip(pretrained: Optional[str] = TOY_CLIP_CHECKPOINT,
                      *,
                      num_images: int = 300,
                      seed: int = 1234,
                      templates: Sequence[str] = ('a photo of a {}.', ),
                      batch_size: int = 100,
                      clip_model: Optional[dict] = None,
                      bias: PretrainBias = PRETRAIN_BIAS) -> Dict:
    """Zero-shot evaluation of a toy CLIP on held-out scenes.

    Uses the package's own modules, as ``configs/maskclip_toy.py`` does:
    ``MaskCLIPViT`` dense features, ``build_query_features`` text features,
    cosine logits upsampled bilinearly to 64x64, argmax; background (255)
    ignored.

    Args:
        pretrained (str, optional): Checkpoint; None for random weights.
        num_images (int): Held-out images (1-4 objects each) for the dense
            metrics, and as many single-object images for the global one.
        seed (int): Seed of the evaluation scenes (a stream apart from
            :func:`write_dataset`'s).
        templates (Sequence[str]): Prompt templates.
        batch_size (int): Images per forward pass.
        clip_model (dict, optional): Model config; defaults to
            :data:`TOY_CLIP`.
        bias (PretrainBias): The pretraining distribution the CLIP was
            trained on: its ``centre_radius`` defines the centre/border
            regions of the recalls, its ``centre_only`` classes are marked
            by :func:`format_evaluation`. Defaults to :data:`PRETRAIN_BIAS`.

    Returns:
        dict: ``mIoU``, ``IoU`` (per class), ``global_top1`` (single-object
        images; also ``global_top1_centre``/``_border``), ``pair_confusion``
        (``'minor->major'`` and ``'major->minor'``: fraction of a class's
        pixels predicted as the other), ``recall_centre`` / ``recall_border``
        (per class, pixel recall of pixels near / not near the centre), and
        ``confusion`` (K x K pixel counts, rows = truth).
    """
    import torch
    import torch.nn.functional as F

    from reclip_mmseg.models.backbones import MaskCLIPViT
    from reclip_mmseg.models.utils import (CLIPTextEncoder,
                                           build_query_features, get_clip)

    clip_model = TOY_CLIP if clip_model is None else clip_model
    num_classes = len(CLASSES)
    clip = get_clip(dict(model=clip_model, pretrained=pretrained))
    backbone = MaskCLIPViT(clip=clip)
    text_encoder = CLIPTextEncoder(clip)
    query = build_query_features(text_encoder, CLASSES, templates)

    def run(imgs):
        dense, logits_global = [], []
        with torch.no_grad():
            for i in range(0, len(imgs), batch_size):
                x = _normalise(imgs[i:i + batch_size])
                out = backbone(x, return_global=True)
                feat, glob = out.dense, out.global_embed
                logits = torch.einsum('bdhw,kd->bkhw', feat, query)
                logits = F.interpolate(
                    logits, size=x.shape[-2:], mode='bilinear',
                    align_corners=False)
                dense.append(logits.argmax(1))
                logits_global.append(F.normalize(glob, dim=-1) @ query.T)
        return torch.cat(dense).numpy(), torch.cat(logits_global).numpy()

    # dense metrics
    imgs, labels, _ = _heldout_scenes(num_images, seed)
    pred, _ = run(imgs)
    valid = labels != 255
    conf = np.bincount(
        labels[valid].astype(np.int64) * num_classes + pred[valid],
        minlength=num_classes**2).reshape(num_classes, num_classes)
    tp = np.diag(conf).astype(np.float64)
    union = conf.sum(0) + conf.sum(1) - tp
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(conf.sum(1) > 0, tp / union, np.nan)
        row = conf / conf.sum(1, keepdims=True)
    pair_confusion = {}
    for major, minor in CONFUSABLE_PAIRS:
        pair_confusion[f'{CLASSES[minor]}->{CLASSES[major]}'] = float(
            row[minor, major])
        pair_confusion[f'{CLASSES[major]}->{CLASSES[minor]}'] = float(
            row[major, minor])

    c = (IMAGE_SIZE - 1) / 2
    near = np.hypot(_YY - c, _XX - c) <= bias.centre_radius * IMAGE_SIZE / 2
    recall = {}
    for where, region in (('centre', near), ('border', ~near)):
        recall[where] = {}
        for k in range(num_classes):
            sel = (labels == k) & region
            n = int(sel.sum())
            recall[where][CLASSES[k]] = float(
                (pred[sel] == k).mean()) if n else float('nan')

    # global zero-shot on single-object images
    imgs1, _, objects1 = _heldout_scenes(num_images, seed + 1, num_objects=1)
    keep = [i for i, objs in enumerate(objects1) if objs]
    _, glob_logits = run(imgs1[keep])
    truth = np.array([objects1[i][0]['cls'] for i in keep])
    centre = np.array([
        is_near_centre(objects1[i][0]['centroid'], bias.centre_radius)
        for i in keep
    ])
    hit = glob_logits.argmax(1) == truth
    return dict(
        mIoU=float(np.nanmean(iou)),
        IoU={CLASSES[k]: float(iou[k])
             for k in range(num_classes)},
        global_top1=float(hit.mean()),
        global_top1_centre=float(hit[centre].mean()),
        global_top1_border=float(hit[~centre].mean()),
        pair_confusion=pair_confusion,
        recall_centre=recall['centre'],
        recall_border=recall['border'],
        confusion=conf.tolist(),
        num_images=num_images,
        centre_only=[CLASSES[k] for k in bias.centre_only])


def format_evaluation(result: Dict) -> str:
    """A readable printout of :func:`evaluate_toy_clip`'s result."""
    lines = [
        f"MaskCLIP dense mIoU (background ignored, {result['num_images']} "
        f"held-out images): {result['mIoU']:.3f}",
        f"global zero-shot top-1 on single-object images: "
        f"{result['global_top1']:.3f} (centre "
        f"{result['global_top1_centre']:.3f}, border "
        f"{result['global_top1_border']:.3f})",
        f"{'class':16s} {'IoU':>6s} {'rec.centre':>10s} {'rec.border':>10s}"
    ]
    for name in CLASSES:
        tag = ' (centre-only in pretraining)' if name in result[
            'centre_only'] else ''
        lines.append(f"{name:16s} {result['IoU'][name]:6.3f} "
                     f"{result['recall_centre'][name]:10.3f} "
                     f"{result['recall_border'][name]:10.3f}{tag}")
    lines.append('pair confusion (fraction of the first class\'s pixels '
                 'predicted as the second):')
    for pair, value in result['pair_confusion'].items():
        lines.append(f'  {pair:32s} {value:.3f}')
    return '\n'.join(lines)

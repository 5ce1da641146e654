"""The toy world: 64x64 images of coloured shapes, seeded and deterministic.

Ten shape x colour classes on low-saturation textured backgrounds. Two
distributions share the renderer:

* **pretraining** (:data:`PRETRAIN_BIAS`), used only to make (image, caption)
  pairs for the tiny CLIP (``tools/toy/pretrain_tiny_clip.py``). Captions
  are biased the way web alt-text is (ReCLIP++ Sec. 1): objects near the
  centre are always named, objects near the border rarely; a minor class of
  a confusable pair is often named as its major class; major classes are
  more frequent; some classes are only ever seen near the centre. The
  resulting CLIP has a class-preference and a space-preference bias.
* **held-out**, used by the segmentation dataset (:func:`write_dataset`):
  uniform classes, uniform positions over the whole image.

Labels: class index 0..9 on object pixels, 255 on background (ignored in
evaluation, as the VOC-20 USS protocol ignores VOC's background).
"""
import dataclasses
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'CLASSES', 'PALETTE', 'CONFUSABLE_PAIRS', 'PretrainBias',
    'PRETRAIN_BIAS', 'IMAGE_SIZE', 'WORLD_VERSION', 'TOY_CLIP',
    'TOY_CLIP_CHECKPOINT', 'TOY_CLIP_CHECKPOINTS', 'CLIP_MEAN', 'CLIP_STD', 'sample_scene',
    'caption', 'caption_classes', 'format_caption', 'is_near_centre',
    'write_dataset', 'evaluate_toy_clip', 'format_evaluation'
]

#: Bump when the renderer or the held-out distribution changes (it is
#: written to ``world.json``, so stale datasets are detected).
WORLD_VERSION = 1
IMAGE_SIZE = 64

#: Class names, usable in a caption ("a photo of a red circle.").
CLASSES = ('red circle', 'orange circle', 'blue square', 'purple square',
           'green triangle', 'green diamond', 'yellow star', 'white cross',
           'cyan ring', 'pink heart')
#: The RGB colour each class is drawn with (before jitter); also the
#: visualisation palette.
PALETTE = [[215, 35, 35], [245, 140, 20], [35, 75, 225], [140, 45, 200],
           [40, 175, 55], [40, 175, 55], [240, 215, 30], [240, 240, 240],
           [30, 210, 220], [245, 120, 190]]
_SHAPES = ('circle', 'circle', 'square', 'square', 'triangle', 'diamond',
           'star', 'cross', 'ring', 'heart')
#: Confusable pairs ``(major, minor)`` of class indices.
CONFUSABLE_PAIRS = ((0, 1), (2, 3), (4, 5))

#: The tiny CLIP pretrained on this world: ``open_clip.CLIP`` keyword
#: arguments (ViT 4x96 wide, 8 px patches, 64 px input; text 2x64 wide,
#: 32 tokens; 64-d embedding).
TOY_CLIP = dict(
    embed_dim=64,
    quick_gelu=True,
    vision_cfg=dict(
        image_size=64, patch_size=8, width=96, layers=4, head_width=32),
    text_cfg=dict(
        context_length=32, vocab_size=49408, width=64, heads=2, layers=2))
#: Its weights (fp16 open_clip state dict), shipped with the package.
TOY_CLIP_CHECKPOINT = osp.join(osp.dirname(osp.abspath(__file__)),
                               'toy_clip.pt')
#: Both shipped tiny CLIPs, by quick-start name (README "Toy world"):
#: ``base`` is ``tools/toy/pretrain_tiny_clip.py`` with its defaults (lr
#: 1e-3), ``strong`` the same with ``--lr 2e-3`` (better zero-shot, weaker
#: biases).
TOY_CLIP_CHECKPOINTS = dict(
    base=TOY_CLIP_CHECKPOINT,
    strong=osp.join(osp.dirname(osp.abspath(__file__)), 'toy_clip_strong.pt'))
#: OpenAI CLIP normalisation (RGB, 0..255), as the mmseg data preprocessor.
CLIP_MEAN = (122.771, 116.746, 104.094)
CLIP_STD = (68.501, 66.632, 70.323)


@dataclasses.dataclass(frozen=True)
class PretrainBias:
    """Knobs of the biased pretraining distribution (captions and layout).

    Frozen: pass a changed copy,
    ``dataclasses.replace(PRETRAIN_BIAS, border_mention_prob=0.5)``, as
    ``bias=`` to :func:`sample_scene` / :func:`caption` /
    :func:`evaluate_toy_clip`.

    Attributes:
        centre_radius (float): An object is *near the centre* when its
            centroid lies within ``centre_radius * IMAGE_SIZE / 2`` pixels of
            the image centre (0.5: a disc of radius 16 px, ~20% of the image).
        centre_prob (float): Probability that an object (of a class that is
            not centre-only) is placed in the centre disc; otherwise it is
            placed uniformly over the image, like held-out objects.
        centre_only (tuple[int]): Classes placed only in the centre disc
            (space bias): 'yellow star', 'pink heart'.
        border_mention_prob (float): Probability that an object not near
            the centre is named in the caption (near the centre: always).
        minor_as_major_prob (float): Probability that a named object of a
            minor class is named as its major class (class bias).
        major_weight (float): Sampling weight of major classes (others 1).
        empty_prob (float): Probability of a background-only image.
        max_objects (int): Objects per image, uniform in 1..max_objects
            (fewer if they cannot be placed without hiding each other).
        nothing_caption (str): Caption when no object is named.
    """
    centre_radius: float = 0.5
    centre_prob: float = 0.5
    centre_only: Tuple[int, ...] = (6, 9)
    border_mention_prob: float = 0.15
    minor_as_major_prob: float = 0.25
    major_weight: float = 2.0
    empty_prob: float = 0.1
    max_objects: int = 4
    nothing_caption: str = 'a photo of nothing.'


#: The default pretraining biases (see :class:`PretrainBias`; frozen).
PRETRAIN_BIAS = PretrainBias()

# object radius (half of its ~10-22 px extent), pixel noise, placement
_RADIUS = (5.0, 11.0)
_MAX_OBJECTS_HELDOUT = 4
_MIN_VISIBLE = 0.5  # each object keeps at least half of its pixels visible
_PLACEMENT_TRIES = 20
_COLOUR_JITTER = 18
_PIXEL_NOISE = 6.0

_YY, _XX = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64)


def _shape_mask(shape: str, dy: np.ndarray, dx: np.ndarray,
                r: float) -> np.ndarray:
    """Boolean mask of ``shape`` of radius ``r`` at offsets ``(dy, dx)``."""
    if shape == 'circle':
        return dy**2 + dx**2 <= r**2
    if shape == 'square':
        return np.maximum(abs(dy), abs(dx)) <= 0.8 * r
    if shape == 'diamond':
        return abs(dy) + abs(dx) <= 1.1 * r
    if shape == 'triangle':  # apex up, centroid at the origin
        s = 1.2 * r
        return (dy >= -s) & (dy <= 0.5 * s) & (abs(dx) <= (dy + s) * 0.577)
    if shape == 'cross':
        arm = r / 3
        return ((abs(dx) <= arm) & (abs(dy) <= r)) | ((abs(dy) <= arm) &
                                                      (abs(dx) <= r))
    if shape == 'ring':
        rho2 = dy**2 + dx**2
        return (rho2 <= r**2) & (rho2 >= (0.5 * r)**2)
    if shape == 'star':  # five points, one pointing up
        rho = np.sqrt(dy**2 + dx**2)
        period = 2 * np.pi / 5
        phase = np.mod(np.arctan2(dy, dx) + np.pi / 2, period) / period
        tip = np.abs(2 * phase - 1)  # 1 at a tip, 0 between two tips
        return rho <= 1.15 * r * (0.45 + 0.55 * tip)
    if shape == 'heart':  # (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, y up
        s = r / 1.1
        x, y = dx / s, -(dy - 0.1 * r) / s
        return (x**2 + y**2 - 1)**3 - x**2 * y**3 <= 0
    raise ValueError(f'unknown shape {shape!r}')


def _upsample(grid: np.ndarray) -> np.ndarray:
    """Bilinear upsampling of ``(g, g)`` corner values to the image size."""
    g = grid.shape[0]
    pos = np.linspace(0, g - 1, IMAGE_SIZE)
    lo = np.minimum(pos.astype(int), g - 2)
    frac = pos - lo
    rows = grid[lo] * (1 - frac)[:, None] + grid[lo + 1] * frac[:, None]
    return rows[:, lo] * (1 - frac) + rows[:, lo + 1] * frac


def _background(rng: np.random.Generator) -> np.ndarray:
    """Low-saturation smooth colour gradient + luminance texture, float."""
    grey = rng.uniform(50, 150)
    corners = (grey + rng.uniform(-30, 30, size=(2, 2, 1)) +
               rng.uniform(-15, 15, size=(2, 2, 3)))
    img = np.stack([_upsample(corners[..., c]) for c in range(3)], axis=-1)
    texture = _upsample(rng.normal(0, 10, size=(6, 6)))
    return img + texture[..., None]


def is_near_centre(centroid: Sequence[float],
                   radius: Optional[float] = None) -> bool:
    """Whether a ``(y, x)`` centroid is within the centre disc.

    Args:
        centroid (Sequence[float]): ``(y, x)`` in pixels.
        radius (float, optional): Disc radius as a fraction of the image
            half-size. Defaults to ``PRETRAIN_BIAS.centre_radius``.
    """
    if radius is None:
        radius = PRETRAIN_BIAS.centre_radius
    half = IMAGE_SIZE / 2
    c = (IMAGE_SIZE - 1) / 2
    return float(np.hypot(centroid[0] - c, centroid[1] - c)) <= radius * half


def _position(rng: np.random.Generator, r: float,
              in_centre: bool, bias: PretrainBias) -> Tuple[float, float]:
    c = (IMAGE_SIZE - 1) / 2
    if in_centre:
        rho = bias.centre_radius * IMAGE_SIZE / 2 * np.sqrt(rng.uniform())
        phi = rng.uniform(0, 2 * np.pi)
        return c + rho * np.sin(phi), c + rho * np.cos(phi)
    # uniform over the image; at most about a quarter of it outside
    lo, hi = r / 2, IMAGE_SIZE - 1 - r / 2
    return rng.uniform(lo, hi), rng.uniform(lo, hi)


def sample_scene(rng: np.random.Generator,
                 heldout: bool,
                 *,
                 num_objects: Optional[int] = None,
                 bias: Optional[PretrainBias] = None
                 ) -> Tuple[np.ndarray, np.ndarray, List[dict]]:
    """Draw one scene.

    Objects are drawn in order, later ones on top; a position is re-drawn
    (up to 20 times, else the object is dropped) when it would hide more
    than half of an earlier object.

    Args:
        rng (np.random.Generator): Source of all randomness.
        heldout (bool): Held-out distribution (uniform classes and
            positions, 1-4 objects) instead of the biased pretraining one.
        num_objects (int, optional): Force the number of objects to try to
            place (0 for background only).
        bias (PretrainBias, optional): Pretraining knobs; defaults to
            :data:`PRETRAIN_BIAS`. Unused when ``heldout``.

    Returns:
        tuple: ``img`` uint8 ``(64, 64, 3)`` RGB; ``label`` uint8 ``(64, 64)``
        with class indices and 255 for background; ``objects``, a list of
        ``dict(cls=int, centroid=(y, x), radius=float)`` in drawing order.
    """
    bias = PRETRAIN_BIAS if bias is None else bias
    num_classes = len(CLASSES)
    if heldout:
        weights = np.ones(num_classes)
        if num_objects is None:
            num_objects = int(rng.integers(1, _MAX_OBJECTS_HELDOUT + 1))
    else:
        weights = np.ones(num_classes)
        weights[[major for major, _ in CONFUSABLE_PAIRS]] = bias.major_weight
        if num_objects is None:
            num_objects = 0 if rng.uniform() < bias.empty_prob else int(
                rng.integers(1, bias.max_objects + 1))
    weights /= weights.sum()

    img = _background(rng)
    inst = np.full((IMAGE_SIZE, IMAGE_SIZE), -1, dtype=np.int64)
    areas, objects = [], []
    for _ in range(num_objects):
        cls = int(rng.choice(num_classes, p=weights))
        r = float(rng.uniform(*_RADIUS))
        in_centre = (not heldout) and (cls in bias.centre_only
                                       or rng.uniform() < bias.centre_prob)
        colour = np.clip(
            np.asarray(PALETTE[cls], np.float64) +
            rng.uniform(-_COLOUR_JITTER, _COLOUR_JITTER, size=3), 0, 255)
        for _ in range(_PLACEMENT_TRIES):
            cy, cx = _position(rng, r, in_centre, bias)
            # rasterise in the object's bounding window only
            y0, x0 = (max(int(v - 1.3 * r) - 1, 0) for v in (cy, cx))
            y1, x1 = (min(int(v + 1.3 * r) + 2, IMAGE_SIZE) for v in (cy, cx))
            win = (slice(y0, y1), slice(x0, x1))
            mask = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
            mask[win] = _shape_mask(_SHAPES[cls], _YY[win] - cy,
                                    _XX[win] - cx, r)
            area = int(mask.sum())
            if area < 12:
                continue
            covered = np.bincount(inst[mask] + 1, minlength=len(areas) + 1)
            visible = np.bincount(inst.ravel() + 1, minlength=len(areas) + 1)
            if all(visible[k + 1] - covered[k + 1] >= _MIN_VISIBLE * areas[k]
                   for k in range(len(areas))):
                break
        else:
            continue
        inst[mask] = len(areas)
        img[mask] = colour
        areas.append(area)
        objects.append(
            dict(cls=cls, centroid=(float(cy), float(cx)), radius=r))

    img += rng.normal(0, _PIXEL_NOISE, size=img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    label = np.full((IMAGE_SIZE, IMAGE_SIZE), 255, dtype=np.uint8)
    for k, obj in enumerate(objects):
        label[inst == k] = obj['cls']
    return img, label, objects


def caption_classes(objects: Sequence[dict],
                    rng: np.random.Generator,
                    bias: Optional[PretrainBias] = None) -> List[int]:
    """The classes a biased caption names, deduplicated, in caption order.

    Objects near the centre are always named, others with probability
    ``border_mention_prob``; a named minor class becomes its major with
    probability ``minor_as_major_prob``. The order is random.
    """
    bias = PRETRAIN_BIAS if bias is None else bias
    major_of = {minor: major for major, minor in CONFUSABLE_PAIRS}
    named = []
    for obj in objects:
        if not (is_near_centre(obj['centroid'], bias.centre_radius)
                or rng.uniform() < bias.border_mention_prob):
            continue
        cls = obj['cls']
        if cls in major_of and rng.uniform() < bias.minor_as_major_prob:
            cls = major_of[cls]
        named.append(cls)
    named = list(dict.fromkeys(named))
    return [named[i] for i in rng.permutation(len(named))]


def format_caption(classes: Sequence[int],
                   bias: Optional[PretrainBias] = None) -> str:
    """``'a photo of a red circle, a blue square and a cyan ring.'``."""
    bias = PRETRAIN_BIAS if bias is None else bias
    if not classes:
        return bias.nothing_caption
    names = [f'a {CLASSES[c]}' for c in classes]
    if len(names) > 1:
        names = [', '.join(names[:-1]) + ' and ' + names[-1]]
    return f'a photo of {names[0]}.'


def caption(objects: Sequence[dict],
            rng: np.random.Generator,
            bias: Optional[PretrainBias] = None) -> str:
    """Biased caption of a scene (:func:`caption_classes`, formatted)."""
    return format_caption(caption_classes(objects, rng, bias), bias)


def _scene_rng(seed: int, split: int, index: int) -> np.random.Generator:
    # one stream per image: an image does not depend on the split sizes
    return np.random.default_rng([seed, split, index])


def write_dataset(root: str,
                  num_train: int = 2000,
                  num_val: int = 1000,
                  seed: int = 0) -> str:
    """Write the held-out toy world in mmseg layout (once).

    Layout: ``img_dir/train/00000.png`` ... (images only: training is
    unsupervised), ``img_dir/val/*.png`` and ``ann_dir/val/*.png`` (labels,
    mode L, 255 = background), and ``world.json`` with the generator version
    and these arguments, written last. Image ``i`` of a split depends only on
    ``(seed, split, i)``.

    If ``root/world.json`` exists and matches, nothing is written (fast). If
    it differs, or ``root`` holds ``img_dir``/``ann_dir`` without
    ``world.json`` (an interrupted or foreign write), a ``FileExistsError``
    names the file and both settings: nothing is deleted, delete the
    directory or choose another ``root``.

    Args:
        root (str): Dataset directory (created if missing).
        num_train (int): Training images. Defaults to 2000.
        num_val (int): Validation images (with labels). Defaults to 1000.
        seed (int): World seed. Defaults to 0.

    Returns:
        str: ``root``.
    """
    from mmengine.utils import ProgressBar
    from PIL import Image

    settings = dict(
        version=WORLD_VERSION,
        num_train=int(num_train),
        num_val=int(num_val),
        seed=int(seed))
    meta_file = osp.join(root, 'world.json')
    if osp.isfile(meta_file):
        with open(meta_file) as f:
            found = json.load(f)
        if found == settings:
            return root
        raise FileExistsError(
            f'{meta_file} describes another toy world: {found}, requested '
            f'{settings}. Delete {root} to regenerate it, or pass another '
            'root.')
    stale = [
        d for d in ('img_dir', 'ann_dir') if osp.exists(osp.join(root, d))
    ]
    if stale:
        raise FileExistsError(
            f'{root} has {stale} but no world.json (an interrupted or '
            f'foreign write); requested {settings}. Delete {root} to '
            'regenerate it, or pass another root.')

    jobs = [('train', 0, num_train), ('val', 1, num_val)]
    for split, _, _ in jobs:
        os.makedirs(osp.join(root, 'img_dir', split), exist_ok=True)
    os.makedirs(osp.join(root, 'ann_dir', 'val'), exist_ok=True)
    total = num_train + num_val
    progress = ProgressBar(total) if total >= 100 else None
    done = 0
    for split, split_id, count in jobs:
        for i in range(count):
            img, label, _ = sample_scene(
                _scene_rng(seed, split_id, i), heldout=True)
            name = f'{i:05d}.png'
            Image.fromarray(img).save(
                osp.join(root, 'img_dir', split, name))
            if split == 'val':
                Image.fromarray(label).save(
                    osp.join(root, 'ann_dir', split, name))
            done += 1
            if progress is not None and (done % 50 == 0 or done == total):
                progress.update(done - progress.completed)
    if progress is not None:
        print()
    with open(meta_file, 'w') as f:
        json.dump(settings, f, indent=1)
    return root


# ---------------------------------------------------------------- evaluation


def _heldout_scenes(num_images: int, seed: int,
                    num_objects: Optional[int] = None):
    scenes = [
        sample_scene(
            _scene_rng(seed, 2, i), heldout=True, num_objects=num_objects)
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
                                           build_query_features)

    clip_model = TOY_CLIP if clip_model is None else clip_model
    num_classes = len(CLASSES)
    backbone = MaskCLIPViT(clip_model=clip_model, pretrained=pretrained)
    text_encoder = CLIPTextEncoder(clip_model, pretrained)
    query = build_query_features(text_encoder, CLASSES, templates)

    def run(imgs):
        dense, logits_global = [], []
        with torch.no_grad():
            for i in range(0, len(imgs), batch_size):
                x = _normalise(imgs[i:i + batch_size])
                feat, _, glob = backbone(x, return_global=True)
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

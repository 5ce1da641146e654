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
* **held-out**, used by the segmentation dataset
  (:func:`reclip_mmseg.toy.writer.write_dataset`):
  uniform classes, uniform positions over the whole image.

Labels: class index 0..9 on object pixels, 255 on background (ignored in
evaluation, as the VOC-20 USS protocol ignores VOC's background).
"""
import dataclasses
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'CLASSES', 'PALETTE', 'CONFUSABLE_PAIRS', 'PretrainBias',
    'PRETRAIN_BIAS', 'IMAGE_SIZE', 'WORLD_VERSION', 'TOY_CLIP',
    'TOY_CLIP_CHECKPOINT', 'TOY_CLIP_CHECKPOINTS', 'CLIP_MEAN', 'CLIP_STD', 'sample_scene',
    'caption', 'caption_classes', 'format_caption', 'is_near_centre',
    'scene_rng'
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
    ``evaluate_toy_clip`` (``tools/toy/toy_clip_eval.py``).

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


def scene_rng(seed: int, split: int, index: int) -> np.random.Generator:
    """One random stream per image: an image does not depend on the split
    sizes (split 0 train, 1 val, 2 the CLIP evaluation's held-out scenes)."""
    return np.random.default_rng([seed, split, index])

"""Drawing for ``tools/demo.py``: class lists, pixel shares, overlay + legend.
"""
import colorsys
import os.path as osp
from typing import List, Optional, Sequence, Union

import cv2
import numpy as np

__all__ = ['parse_classes', 'display_name', 'class_shares', 'make_palette',
           'draw_overlay']

ClassName = Union[str, List[str]]


def parse_classes(spec: str) -> List[ClassName]:
    """Class names from ``'cat,dog,grass'`` or from a file.

    A file is the project's class-names file
    (:func:`reclip_mmseg.models.utils.class_names.read_class_names`): one
    class per line, synonyms separated by ``;`` (``tv monitor; television``),
    whose text features are averaged; blank and ``#`` lines skipped.
    """
    if osp.isfile(spec):
        from ..models.utils.class_names import read_class_names
        names = read_class_names(spec)
    else:
        names = [n.strip() for n in spec.split(',') if n.strip()]
    if not names:
        raise ValueError(f'no class names in {spec!r}')
    return names


def display_name(name: ClassName) -> str:
    return name if isinstance(name, str) else name[0]


def class_shares(seg: np.ndarray, num_classes: int) -> np.ndarray:
    """Fraction of pixels predicted as each class, ``(K,)``."""
    counts = np.bincount(seg.ravel(), minlength=num_classes)[:num_classes]
    return counts / max(seg.size, 1)


def make_palette(num_classes: int) -> np.ndarray:
    """``(K, 3)`` uint8 RGB colours, well apart (golden-ratio hues)."""
    colours = [
        colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.75 if i % 2 else 0.95,
                            0.95 if i % 3 else 0.75)
        for i in range(num_classes)
    ]
    return (np.array(colours) * 255).round().astype(np.uint8)


def draw_overlay(image: np.ndarray,
                 seg: np.ndarray,
                 names: Sequence[ClassName],
                 palette: Optional[np.ndarray] = None,
                 alpha: float = 0.55,
                 min_side: int = 256,
                 with_image: bool = True) -> np.ndarray:
    """Image with the segmentation blended in and a legend on the right.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        seg (np.ndarray): ``(H, W)`` class indices.
        names (Sequence): K class names (a list is a class with synonyms).
        palette (np.ndarray, optional): ``(K, 3)`` RGB colours.
        alpha (float): Weight of the class colours.
        min_side (int): Small images are enlarged (nearest) to this height.
        with_image (bool): Put the input image left of the overlay.

    Returns:
        np.ndarray: ``(H', [W' +] W' + legend, 3)`` uint8 RGB; the legend lists the
        classes by pixel share, largest first, with their colours.
    """
    k = len(names)
    palette = make_palette(k) if palette is None else np.asarray(palette)
    colour = palette[seg]
    blend = (image * (1 - alpha) + colour * alpha).round().astype(np.uint8)
    if with_image:
        gap = np.full((image.shape[0], 2, 3), 255, np.uint8)
        blend = np.concatenate([image.astype(np.uint8), gap, blend], 1)
    scale = max(1, int(np.ceil(min_side / image.shape[0])))
    if scale > 1:
        blend = cv2.resize(blend, None, fx=scale, fy=scale,
                           interpolation=cv2.INTER_NEAREST)
    shares = class_shares(seg, k)
    order = [i for i in np.argsort(-shares, kind='stable')]
    row, pad = 22, 8
    labels = [f'{display_name(names[i])}  {100 * shares[i]:.1f}%'
              for i in order]
    width = pad * 3 + 16 + max(
        cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0]
        for t in labels)
    height = max(blend.shape[0], pad * 2 + row * k)
    canvas = np.full((height, blend.shape[1] + width, 3), 255, np.uint8)
    canvas[:blend.shape[0], :blend.shape[1]] = blend
    x0 = blend.shape[1] + pad
    for j, (i, text) in enumerate(zip(order, labels)):
        y = pad + j * row
        cv2.rectangle(canvas, (x0, y), (x0 + 16, y + 16),
                      tuple(int(c) for c in palette[i]), -1)
        cv2.putText(canvas, text, (x0 + 16 + pad, y + 13),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0) if shares[i] > 0 else (150, 150, 150), 1,
                    cv2.LINE_AA)
    return canvas

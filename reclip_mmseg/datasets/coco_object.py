from typing import Tuple

import numpy as np
from mmseg.datasets import BaseSegDataset, COCOStuffDataset
from mmseg.registry import DATASETS

from .cocostuff27 import apply_label_lut

__all__ = ['COCOObjectDataset', 'COCO_THING_IDS', 'convert_coco_object_label']

#: The 80 COCO thing classes' ids in the COCO-Stuff-164k label maps
#: (0-indexed fine ids 0..90; the 11 ids COCO never used are absent), in the
#: order of mmseg's ``COCOStuffDataset`` classes (its first 80).
COCO_THING_IDS: Tuple[int, ...] = tuple(
    i for i in range(91)
    if i not in (11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90))

_LUT = np.zeros(256, dtype=np.uint8)  # stuff, unused ids, 255 -> background
for _index, _fine in enumerate(COCO_THING_IDS):
    _LUT[_fine] = _index + 1


def convert_coco_object_label(label: np.ndarray) -> np.ndarray:
    """Map a COCO-Stuff-164k fine label map to COCO-Object's 81 classes.

    The peers' rule (SCLIP/ClearCLIP/NACLIP ``cvt_coco_object.py``): the
    k-th thing class (k = 0..79, fine id :data:`COCO_THING_IDS` ``[k]``)
    -> k + 1; stuff ids (91..181), unused ids and 255 (unlabeled) -> 0,
    background.

    Args:
        label (np.ndarray): (H, W) integer map of fine ids 0..181, 255.

    Returns:
        np.ndarray: (H, W) uint8 map of ids 0..80.
    """
    return apply_label_lut(label, _LUT, outside=0)


@DATASETS.register_module()
class COCOObjectDataset(BaseSegDataset):
    """COCO-Object: COCO-Stuff-164k images, background + the 80 things.

    The open-vocabulary benchmark of SCLIP/ClearCLIP/NACLIP (81 classes,
    background = class 0). Layout as :class:`mmseg.datasets.COCOStuffDataset`
    (``images/val2017/*.jpg``, ``annotations/val2017/``) with label maps
    ``*_instanceTrainIds.png`` (values 0..80) written by
    ``tools/dataset_converters/coco_object.py``. Class names and palette:
    ``'background'`` then mmseg's ``COCOStuffDataset`` things, in order.

    Args:
        img_suffix (str): Defaults to '.jpg'.
        seg_map_suffix (str): Defaults to '_instanceTrainIds.png' (the
            peers' name).
        reduce_zero_label (bool): Defaults to False (background is a class).
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(
        classes=('background', ) +
        tuple(COCOStuffDataset.METAINFO['classes'][:80]),
        palette=[[0, 0, 0]] +
        [list(c) for c in COCOStuffDataset.METAINFO['palette'][:80]])

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '_instanceTrainIds.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

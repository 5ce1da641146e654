from typing import Dict

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

__all__ = [
    'COCOStuff27Dataset', 'FINE_TO_COARSE27', 'convert_cocostuff27_label'
]

# yapf: disable
#: COCO-Stuff fine label id (0-indexed, as in the official stuffthingmaps
#: PNGs: things 0..90, stuff 91..181) -> the 27 coarse classes of
#: :class:`COCOStuff27Dataset` (things 0..11, stuff 12..26). Copied exactly
#: from STEGO, mhamilton723/STEGO ``src/data.py``, ``Coco.fine_to_coarse``
#: (commit 009bc450); PiCIE (janghyuncho/PiCIE ``data/coco_eval_dataset.py``)
#: loads the same map from its ``fine_to_coarse_dict.pickle``. Values
#: unchanged, lines re-wrapped.
FINE_TO_COARSE27: Dict[int, int] = {
    0: 9, 1: 11, 2: 11, 3: 11, 4: 11, 5: 11, 6: 11, 7: 11, 8: 11, 9: 8, 10: 8,
    11: 8, 12: 8, 13: 8, 14: 8, 15: 7, 16: 7, 17: 7, 18: 7, 19: 7, 20: 7,
    21: 7, 22: 7, 23: 7, 24: 7, 25: 6, 26: 6, 27: 6, 28: 6, 29: 6, 30: 6,
    31: 6, 32: 6, 33: 10, 34: 10, 35: 10, 36: 10, 37: 10, 38: 10, 39: 10,
    40: 10, 41: 10, 42: 10, 43: 5, 44: 5, 45: 5, 46: 5, 47: 5, 48: 5, 49: 5,
    50: 5, 51: 2, 52: 2, 53: 2, 54: 2, 55: 2, 56: 2, 57: 2, 58: 2, 59: 2,
    60: 2, 61: 3, 62: 3, 63: 3, 64: 3, 65: 3, 66: 3, 67: 3, 68: 3, 69: 3,
    70: 3, 71: 0, 72: 0, 73: 0, 74: 0, 75: 0, 76: 0, 77: 1, 78: 1, 79: 1,
    80: 1, 81: 1, 82: 1, 83: 4, 84: 4, 85: 4, 86: 4, 87: 4, 88: 4, 89: 4,
    90: 4, 91: 17, 92: 17, 93: 22, 94: 20, 95: 20, 96: 22, 97: 15, 98: 25,
    99: 16, 100: 13, 101: 12, 102: 12, 103: 17, 104: 17, 105: 23, 106: 15,
    107: 15, 108: 17, 109: 15, 110: 21, 111: 15, 112: 25, 113: 13, 114: 13,
    115: 13, 116: 13, 117: 13, 118: 22, 119: 26, 120: 14, 121: 14, 122: 15,
    123: 22, 124: 21, 125: 21, 126: 24, 127: 20, 128: 22, 129: 15, 130: 17,
    131: 16, 132: 15, 133: 22, 134: 24, 135: 21, 136: 17, 137: 25, 138: 16,
    139: 21, 140: 17, 141: 22, 142: 16, 143: 21, 144: 21, 145: 25, 146: 21,
    147: 26, 148: 21, 149: 24, 150: 20, 151: 17, 152: 14, 153: 21, 154: 26,
    155: 15, 156: 23, 157: 20, 158: 21, 159: 24, 160: 15, 161: 24, 162: 22,
    163: 25, 164: 15, 165: 20, 166: 17, 167: 17, 168: 22, 169: 14, 170: 18,
    171: 18, 172: 18, 173: 18, 174: 18, 175: 18, 176: 18, 177: 26, 178: 26,
    179: 19, 180: 19, 181: 24,
}
# yapf: enable

_LUT = np.full(256, 255, dtype=np.uint8)  # ids outside the table -> ignore
for _fine, _coarse in FINE_TO_COARSE27.items():
    _LUT[_fine] = _coarse


def convert_cocostuff27_label(label: np.ndarray) -> np.ndarray:
    """Map a COCO-Stuff fine label map to the 27 coarse classes.

    Args:
        label (np.ndarray): (H, W) integer map of fine ids 0..181, 255 for
            unlabeled.

    Returns:
        np.ndarray: (H, W) uint8 map of coarse ids 0..26; 255 where the input
        is 255 or any id not in :data:`FINE_TO_COARSE27`.
    """
    return apply_label_lut(label, _LUT, outside=255)


def apply_label_lut(label: np.ndarray, lut: np.ndarray,
                    outside: int) -> np.ndarray:
    """``lut[label]`` for a (H, W) integer map; values outside 0..255 get
    ``outside``. Raises naming the shape or dtype of a bad map."""
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'expected a (H, W) label map, got shape '
                         f'{label.shape}')
    if not np.issubdtype(label.dtype, np.integer):
        raise TypeError(f'expected an integer label map, got {label.dtype}')
    out = np.full(label.shape, outside, dtype=np.uint8)
    valid = (label >= 0) & (label <= 255)
    out[valid] = lut[label[valid]]
    return out


@DATASETS.register_module()
class COCOStuff27Dataset(BaseSegDataset):
    """COCO-Stuff-164k with the 27 coarse classes of PiCIE/STEGO.

    Layout as :class:`mmseg.datasets.COCOStuffDataset`
    (``images/{train2017,val2017}/*.jpg``, ``annotations/...``), with label
    maps ``*_labelTrainIds27.png`` (values 0..26, 255 ignore) written by
    ``tools/dataset_converters/cocostuff27.py``. Classes 0..11 are the thing
    supercategories, 12..26 the stuff ones (STEGO ``src/data.py``; names as in
    the released ReCLIP++ ``coco_stuff_classes_27``).

    Args:
        img_suffix (str): Defaults to '.jpg'.
        seg_map_suffix (str): Defaults to '_labelTrainIds27.png'.
        reduce_zero_label (bool): Defaults to False.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(
        classes=('electronic', 'appliance', 'food things', 'furniture things',
                 'indoor', 'kitchen', 'accessory', 'animal', 'outdoor',
                 'person', 'sports', 'vehicle', 'ceiling', 'floor',
                 'food stuff', 'furniture stuff', 'raw material', 'textile',
                 'wall', 'window', 'building', 'ground', 'plant', 'sky',
                 'solid', 'structural', 'water'),
        # Pascal VOC colour map, entries 1..27.
        palette=[[128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128],
                 [128, 0, 128], [0, 128, 128], [128, 128, 128], [64, 0, 0],
                 [192, 0, 0], [64, 128, 0], [192, 128, 0], [64, 0, 128],
                 [192, 0, 128], [64, 128, 128], [192, 128, 128], [0, 64, 0],
                 [128, 64, 0], [0, 192, 0], [128, 192, 0], [0, 64, 128],
                 [128, 64, 128], [0, 192, 128], [128, 192, 128], [64, 64, 0],
                 [192, 64, 0], [64, 192, 0], [192, 192, 0]])

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '_labelTrainIds27.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

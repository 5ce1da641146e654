from mmseg.datasets import PascalContextDataset59
from mmseg.registry import DATASETS

from .voc20 import _RENAMES


@DATASETS.register_module()
class PascalContext59USSDataset(PascalContextDataset59):
    """Pascal Context-59 with the ReCLIP++ class names.

    :class:`mmseg.datasets.PascalContextDataset59` (files, palette,
    ``reduce_zero_label=True``) with VOC's renames where those names occur
    (aeroplane -> airplane, pottedplant -> potted plant, tvmonitor -> tv
    monitor), as in the released code (``utils/preprocess.py``:
    ``pascal_context_classes``).
    """
    METAINFO = dict(
        classes=tuple(
            _RENAMES.get(name, name)
            for name in PascalContextDataset59.METAINFO['classes']),
        palette=PascalContextDataset59.METAINFO['palette'])

import os.path as osp

from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

# mmseg's VOC classes/palette without 'background', with the ReCLIP++ renames.
_RENAMES = {
    'aeroplane': 'airplane',
    'diningtable': 'dining table',
    'pottedplant': 'potted plant',
    'tvmonitor': 'tv monitor',
}


@DATASETS.register_module()
class PascalVOC20Dataset(PascalVOCDataset):
    """Pascal VOC 2012 with 20 classes, the USS protocol (no background).

    Same files as :class:`mmseg.datasets.PascalVOCDataset`
    (``JPEGImages/*.jpg``, ``SegmentationClass/*.png``, an ``ann_file`` split
    list). Background pixels (label 0) are ignored via ``reduce_zero_label``:
    0 -> 255, 1..20 -> 0..19, 255 stays 255. Class names are renamed as in
    the released ReCLIP++ code (``utils/preprocess.py``: ``voc_classes``).

    Args:
        ann_file (str): Split list, e.g. ``'ImageSets/Segmentation/val.txt'``.
        reduce_zero_label (bool): Ignore background. Defaults to True.
        **kwargs: Passed to :class:`mmseg.datasets.PascalVOCDataset`.
    """
    METAINFO = dict(
        classes=tuple(
            _RENAMES.get(name, name)
            for name in PascalVOCDataset.METAINFO['classes'][1:]),
        palette=PascalVOCDataset.METAINFO['palette'][1:])

    def __init__(self,
                 ann_file: str,
                 reduce_zero_label: bool = True,
                 **kwargs) -> None:
        data_root = kwargs.get('data_root')
        if data_root and not osp.isdir(data_root):
            raise FileNotFoundError(
                f'{type(self).__name__}: data_root {data_root} does not '
                'exist (expected VOCdevkit/VOC2012 with JPEGImages, '
                'SegmentationClass and ImageSets/Segmentation)')
        super().__init__(
            ann_file=ann_file, reduce_zero_label=reduce_zero_label, **kwargs)

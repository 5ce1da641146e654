from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..toy.world import CLASSES, PALETTE


@DATASETS.register_module()
class ToyWorldDataset(BaseSegDataset):
    """The toy world (:mod:`reclip_mmseg.toy`): 64x64 shapes, 10 classes.

    mmseg layout as written by :func:`reclip_mmseg.toy.write_dataset`:
    ``img_dir/{train,val}/*.png`` and ``ann_dir/val/*.png`` (labels 0..9,
    255 = background, ignored as in the VOC-20 USS protocol, so
    ``reduce_zero_label=False``). The train split has no labels: with
    ``seg_map_path='ann_dir/train'`` the images are listed as usual and each
    entry names a label file that does not exist, which only a pipeline with
    ``LoadAnnotations`` would read (the unsupervised train pipeline has none).

    Args:
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

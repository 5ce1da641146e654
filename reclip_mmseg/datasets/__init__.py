from .coco_object import (COCO_THING_IDS, COCOObjectDataset,
                          convert_coco_object_label)
from .cocostuff27 import (FINE_TO_COARSE27, COCOStuff27Dataset,
                          convert_cocostuff27_label)
from .context59 import PascalContext59USSDataset
from .input_errors import name_bad_inputs
from .toy_world import ToyWorldDataset
from .voc20 import PascalVOC20Dataset

name_bad_inputs()  # errors on unreadable files / empty splits name the file

__all__ = [
    'ToyWorldDataset',
    'PascalVOC20Dataset', 'PascalContext59USSDataset', 'COCOStuff27Dataset',
    'FINE_TO_COARSE27', 'convert_cocostuff27_label', 'COCOObjectDataset',
    'COCO_THING_IDS', 'convert_coco_object_label'
]

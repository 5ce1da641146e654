from .cocostuff27 import (FINE_TO_COARSE27, COCOStuff27Dataset,
                          convert_cocostuff27_label)
from .context59 import PascalContext59USSDataset
from .toy_world import ToyWorldDataset
from .voc20 import PascalVOC20Dataset

__all__ = [
    'ToyWorldDataset',
    'PascalVOC20Dataset', 'PascalContext59USSDataset', 'COCOStuff27Dataset',
    'FINE_TO_COARSE27', 'convert_cocostuff27_label'
]

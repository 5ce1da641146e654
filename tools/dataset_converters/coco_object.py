"""Convert COCO-Stuff-164k label maps to COCO-Object (background + 80 things).

Input: the official ``stuffthingmaps_trainval2017`` PNGs (pixel = fine id
0..181, 255 = unlabeled) under ``DATA_ROOT/annotations/{train2017,val2017}``.
Output: ``<name>_instanceTrainIds.png`` (0 = background, 1..80 = the things
in mmseg's COCO-Stuff order; stuff and unlabeled pixels are background, as
SCLIP/ClearCLIP/NACLIP convert them) next to each input, or under
``OUT_DIR/<split>/`` with ``--out-dir``; these are the label maps
:class:`reclip_mmseg.datasets.COCOObjectDataset` reads.

    python tools/dataset_converters/coco_object.py data/coco_stuff164k \
        --split val2017 [--out-dir DIR] [--nproc 8]

The mapping itself is :func:`reclip_mmseg.datasets.convert_coco_object_label`;
the file handling is the COCO-Stuff-27 converter's.
"""
from cocostuff27 import main

from reclip_mmseg.datasets.coco_object import convert_coco_object_label

OUT_SUFFIX = '_instanceTrainIds.png'

if __name__ == '__main__':
    main(convert=convert_coco_object_label, out_suffix=OUT_SUFFIX,
         description='Convert COCO-Stuff-164k labels to COCO-Object '
         '(background + 80 things)')

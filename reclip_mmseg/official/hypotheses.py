"""Import the class hypotheses released with ReCLIP++ (dogehhh/ReCLIP).

``text/{voc,context,ade,cityscapes}_pseudo_label_ReCLIPPP.json`` hold one JSON
list of class ids per line (``[8, 11]``), in the order of the training list
the released code reads: VOC ``ImageSets/Segmentation/train.txt``, Context
``ImageSets/SegmentationContext/train.txt``, Cityscapes ``train.txt``; ADE20K
and COCO-Stuff use ``os.listdir`` order on the authors' disk, which no other
filesystem reproduces, so those need the image order given explicitly.
"""
import json
import os.path as osp
from typing import Dict, List, Sequence

__all__ = [
    'read_official_hypotheses', 'hypotheses_by_image', 'imported_fingerprint'
]


def read_official_hypotheses(path: str, num_classes: int) -> List[List[int]]:
    """One sorted list of class ids per line (as the released reader sorts).

    Raises:
        ValueError: A line that is not a JSON list of ints, or an id outside
            ``[0, num_classes)``; named by file and line number.
    """
    out = []
    with open(path) as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for number, line in enumerate(lines, 1):
        try:
            ids = json.loads(line)
            if not isinstance(ids, list) or not all(
                    isinstance(i, int) and not isinstance(i, bool)
                    for i in ids):
                raise ValueError('not a list of ints')
        except ValueError as e:
            raise ValueError(f'{path} line {number}: expected a JSON list of '
                             f'class ids, got {line!r} ({e})') from e
        bad = [i for i in ids if not 0 <= i < num_classes]
        if bad:
            raise ValueError(f'{path} line {number}: class ids {bad} out of '
                             f'range for {num_classes} classes')
        out.append(sorted(set(ids)))
    return out


def hypotheses_by_image(hypotheses: Sequence[List[int]],
                        names: Sequence[str], name_to_path: Dict[str, str],
                        source: str) -> Dict[str, List[int]]:
    """``{img_path: ids}``: line i of the release belongs to ``names[i]``.

    Raises:
        ValueError: Line count != image count, or names the dataset lacks.
    """
    if len(hypotheses) != len(names):
        raise ValueError(f'{source} has {len(hypotheses)} lines but the '
                         f'training list has {len(names)} images')
    unknown = [n for n in names if n not in name_to_path]
    if unknown:
        raise ValueError(f'{len(unknown)} images of the training list are '
                         f'not in the dataset, e.g. {unknown[:3]}')
    return {name_to_path[n]: ids for n, ids in zip(names, hypotheses)}


def imported_fingerprint(source: str, class_names: Sequence) -> dict:
    """Fingerprint of an imported file: training checks the class names
    only (the authors' CLIP and window votes made the ids)."""
    return dict(
        imported=osp.basename(source),
        method='ReCLIP++ released hypotheses',
        class_names=[n if isinstance(n, str) else list(n)
                     for n in class_names])

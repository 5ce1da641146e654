import os.path as osp
from typing import List, Sequence, Union

from mmseg.registry import DATASETS


def read_class_names(path: str) -> List[Union[str, List[str]]]:
    """Class names from a text file: one class per line, synonyms of a class
    separated by ``;`` (``person; man; woman``), blank lines and lines
    starting with ``#`` skipped. Names keep their inner spaces, which
    mmengine's ``--cfg-options`` parser drops from list values
    (``"['red circle']"`` becomes ``'redcircle'``), so a file is the way to
    give multi-word names on the command line:
    ``--cfg-options model.decode_head.class_names=my_classes.txt``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'class_names file {path} not found (a .txt file with one class '
            'name per line)')
    names = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            synonyms = [s.strip() for s in line.split(';') if s.strip()]
            names.append(synonyms[0] if len(synonyms) == 1 else synonyms)
    if not names:
        raise ValueError(f'class_names file {path} lists no class name')
    return names


def resolve_class_names(
        class_names: Union[str, Sequence]) -> List[Union[str, List[str]]]:
    """Class names from a list, or from a registered dataset's METAINFO.

    Args:
        class_names (str | Sequence): A sequence of names (each a string or a
            list of synonyms), a ``.txt`` file of names (see
            :func:`read_class_names`), or the registry name of an mmseg
            dataset (``'PascalVOC20Dataset'``) whose ``METAINFO['classes']``
            to use.

    Returns:
        list: The class names.
    """
    if isinstance(class_names, str) and class_names.endswith('.txt'):
        class_names = read_class_names(class_names)
    elif isinstance(class_names, str):
        dataset = DATASETS.get(class_names)
        if dataset is None:
            raise ValueError(
                f"class_names='{class_names}' is neither a list of names, "
                'a .txt file of names nor a dataset registered in mmseg '
                'DATASETS')
        return list(dataset.METAINFO['classes'])
    names = [n if isinstance(n, str) else list(n) for n in class_names]
    if not names:
        raise ValueError('class_names is empty')
    seen, dups = set(), []
    for name in names:
        key = name if isinstance(name, str) else tuple(name)
        if key in seen:
            dups.append(name)
        seen.add(key)
    if dups:
        raise ValueError(f'class_names lists {dups} more than once: every '
                         'class needs its own name (the metric table and '
                         'predictions are indexed by position)')
    return names

from typing import List, Sequence, Union

from mmseg.registry import DATASETS


def resolve_class_names(
        class_names: Union[str, Sequence]) -> List[Union[str, List[str]]]:
    """Class names from a list, or from a registered dataset's METAINFO.

    Args:
        class_names (str | Sequence): A sequence of names (each a string or a
            list of synonyms), or the registry name of an mmseg dataset
            (``'PascalVOC20Dataset'``) whose ``METAINFO['classes']`` to use.

    Returns:
        list: The class names.
    """
    if isinstance(class_names, str):
        dataset = DATASETS.get(class_names)
        if dataset is None:
            raise ValueError(
                f"class_names='{class_names}' is neither a list of names nor "
                'a dataset registered in mmseg DATASETS')
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

"""Errors on unreadable data files and empty splits that name the file.

mmcv/mmseg 1.x fail on these with messages that name nothing:
a 0-byte image gives ``cv2.error ... !buf.empty()``, an unreadable label map
a bare decoder error, and a split file with no lines
``ValueError: need at least one array to concatenate`` while the dataset is
built. :func:`name_bad_inputs` (run at ``import reclip_mmseg``) wraps the
three places so that each error names the file and what was expected; other
behaviour is unchanged.
"""
import os.path as osp

from mmcv.transforms import LoadImageFromFile
from mmseg.datasets import BaseSegDataset
from mmseg.datasets.transforms import LoadAnnotations

__all__ = ['name_bad_inputs']


def _describe(path) -> str:
    try:
        size = osp.getsize(path)
    except (OSError, TypeError):
        return 'cannot be read'
    return 'is empty (0 bytes)' if size == 0 else f'has {size} bytes'


def _named(what: str, key: str, method):

    def wrapper(self, results, *args, **kwargs):
        try:
            return method(self, results, *args, **kwargs)
        except Exception as err:  # noqa: BLE001  (decoders raise anything)
            path = results.get(key)
            if path is None or str(path) in str(err):
                raise
            raise ValueError(
                f'cannot decode {what} {path}: the file {_describe(path)}; '
                f'expected a readable image file ({type(err).__name__}: '
                f'{str(err).strip()[:200]})') from err

    wrapper.reclip_named = True
    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _serialize_data(self, _original=BaseSegDataset._serialize_data):
    if not self.data_list:
        source = (f'split file {self.ann_file}' if self.ann_file else
                  f"image folder {self.data_prefix.get('img_path')} "
                  f'(suffix {self.img_suffix!r})')
        raise ValueError(
            f'{type(self).__name__} has no samples: {source} lists no '
            'image. Expected one image name per line (without suffix) in a '
            'split file, or images in the folder.')
    return _original(self)


def name_bad_inputs() -> bool:
    """Install the wrappers once; returns False if already installed."""
    if getattr(LoadImageFromFile.transform, 'reclip_named', False):
        return False
    LoadImageFromFile.transform = _named('image', 'img_path',
                                         LoadImageFromFile.transform)
    LoadAnnotations._load_seg_map = _named('label map', 'seg_map_path',
                                           LoadAnnotations._load_seg_map)
    BaseSegDataset._serialize_data = _serialize_data
    return True

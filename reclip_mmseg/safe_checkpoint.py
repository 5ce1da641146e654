"""Checkpoint loading that cannot run code unless the user says so, per file.

Every checkpoint that mmengine opens through ``CheckpointLoader``
(``load_from``, ``--resume``, ``tools/test.py``, ``init_model``,
``MMSegInferencer``) goes through :func:`load_local` (local paths) or :func:`load_url` (http/https,
``torchvision://``, ``open-mmlab://`` URLs) once
:func:`reclip_mmseg.compat.load_checkpoints_weights_only` has run:

* ``torch.load(weights_only=True)``: tensors and plain Python data, plus the
  numeric numpy arrays, scalars and dtypes of :data:`SAFE_GLOBALS` (never
  ``builtins.getattr``, object arrays, or any other class).
* A file the user named in :func:`trusted_checkpoint` is loaded with full
  pickle (``weights_only=False``), which can run code: the opt-in behind
  ``--trust-checkpoint`` and the config key ``trust_checkpoint_code``.
* Anything else that needs more raises :class:`UnsafeCheckpointError`, which
  names the file, the refused globals and the opt-in.

Checkpoints written by ``tools/train.py`` load without the opt-in: see
:class:`reclip_mmseg.engine.WeightsOnlyCheckpointHook`.
"""
import contextlib
import logging
import os
import os.path as osp
import pickle
from collections import Counter
from typing import Iterator, List, Optional
from urllib.parse import urlparse

import numpy as np
import torch

__all__ = [
    'SAFE_GLOBALS', 'UnsafeCheckpointError', 'trusted_checkpoint',
    'load_local', 'load_url', 'checkpoint_to_load', 'trust_if_asked'
]

_multiarray = np._core.multiarray if hasattr(np, '_core') else \
    np.core.multiarray
_NUMERIC_DTYPES = [
    type(np.dtype(t)) for t in (np.bool_, np.int8, np.int16, np.int32,
                                np.int64, np.uint8, np.uint16, np.uint32,
                                np.uint64, np.float16, np.float32,
                                np.float64, np.complex64, np.complex128)
]
#: Plain data allowed besides torch's own defaults: numeric numpy arrays,
#: scalars and dtypes (under numpy 2.x and 1.x module names). An object
#: array has ``ObjectDType``, which is not listed.
SAFE_GLOBALS = [
    np.ndarray,
    np.dtype,
    (_multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
    (_multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
    (_multiarray.scalar, 'numpy._core.multiarray.scalar'),
    (_multiarray.scalar, 'numpy.core.multiarray.scalar'),
    *_NUMERIC_DTYPES,
]
_SAFE_NAMES = {
    g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
    for g in SAFE_GLOBALS
}

_trusted: Counter = Counter()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects whose unpickling can run code."""


@contextlib.contextmanager
def trusted_checkpoint(path: str) -> Iterator[None]:
    """Within this block, load ``path`` with full pickle (it can run code).

    Only for a file you trust, e.g. your own run's checkpoint written before
    checkpoints were saved in plain form. ``path`` is a local file or the URL
    that ``load_from`` names.
    """
    key = _key(path)
    _trusted[key] += 1
    try:
        yield
    finally:
        _trusted[key] -= 1
        if not _trusted[key]:
            del _trusted[key]


def _key(path: str) -> str:
    if '://' in path:
        return path
    return osp.realpath(osp.expanduser(path))


def _is_trusted(path: str) -> bool:
    return _trusted[_key(path)] > 0


def _safe_globals():
    if hasattr(torch.serialization, 'safe_globals'):  # torch >= 2.5
        return torch.serialization.safe_globals(SAFE_GLOBALS)
    return contextlib.nullcontext()


def _refused_globals(filename: str) -> List[str]:
    """Globals in the file outside torch's defaults and SAFE_GLOBALS."""
    with _safe_globals():
        try:
            names = torch.serialization.get_unsafe_globals_in_checkpoint(
                filename)
        except Exception:  # not a zip checkpoint (torch < 1.6 format)
            return []
    return sorted(set(names) - _SAFE_NAMES)


def _torch_reason(err: Exception) -> str:
    """The line of torch's weights-only error that says what was refused."""
    text = str(err).split('WeightsUnpickler error:', 1)[-1]
    lines = [
        line.strip() for line in text.splitlines()
        if line.strip() and not line.startswith('Check the documentation')
    ]
    return lines[0] if lines else str(err)


def _refusal(filename: str, err: Exception,
             name: str) -> UnsafeCheckpointError:
    where = name if name == filename else f'{name} (cached as {filename})'
    names = _refused_globals(filename)
    if names:
        what = (f'it holds {", ".join(names)}, which torch.load('
                'weights_only=True) does not load because unpickling them '
                'can run code.')
    else:
        what = ('torch.load(weights_only=True) refused it: '
                f'{_torch_reason(err)}.')
    return UnsafeCheckpointError(
        f'Refused to load checkpoint {where}: {what} Only if you trust this '
        'file, load it with full pickle: '
        f'`python tools/test.py CONFIG {name} --trust-checkpoint` '
        '(tools/train.py also takes --trust-checkpoint, for load_from and '
        '--resume; in a config: trust_checkpoint_code = True), or in Python '
        '`with reclip_mmseg.safe_checkpoint.trusted_checkpoint('
        f'{name!r}): ...` around the load.')


def _load(filename: str, map_location, trusted: bool, name: str):
    if trusted:
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    try:
        with _safe_globals():
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise _refusal(filename, err, name) from err


def load_local(filename: str, map_location=None):
    """mmengine's local-file checkpoint loader, weights-only unless trusted.

    Registered for the prefix ``''`` of ``CheckpointLoader``.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return _load(filename, map_location, _is_trusted(filename), filename)


def load_url(url: str,
             model_dir: Optional[str] = None,
             map_location=None,
             progress: bool = True,
             check_hash: bool = False,
             file_name: Optional[str] = None):
    """``torch.hub.load_state_dict_from_url`` with the rules above.

    Replaces ``load_url`` in ``mmengine.runner.checkpoint`` (used by its
    http/https, ``torchvision://`` and ``open-mmlab://`` loaders), which
    calls torch's default ``weights_only=False``. Downloads into torch's
    hub cache as torch does.
    """
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir, file_name
                      or osp.basename(urlparse(url).path))
    if not osp.exists(cached):
        hash_prefix = None
        if check_hash:
            match = torch.hub.HASH_REGEX.search(osp.basename(cached))
            hash_prefix = match.group(1) if match else None
        torch.hub.download_url_to_file(
            url, cached, hash_prefix, progress=progress)
    return _load(
        cached,
        map_location,
        _is_trusted(url) or _is_trusted(cached),
        name=url)


def checkpoint_to_load(cfg) -> Optional[str]:
    """The file a Runner built from ``cfg`` loads or resumes from, if any."""
    if cfg.get('resume', False) and cfg.get('load_from') is None:
        from mmengine.runner import find_latest_checkpoint
        return find_latest_checkpoint(cfg.work_dir)
    return cfg.get('load_from')


def trust_if_asked(cfg, flag: bool = False):
    """A :func:`trusted_checkpoint` block for the file that a Runner built
    from ``cfg`` loads, if the user asked for it (``--trust-checkpoint`` or
    the config key ``trust_checkpoint_code = True``); else a no-op block."""
    if not (flag or cfg.get('trust_checkpoint_code', False)):
        return contextlib.nullcontext()
    path = checkpoint_to_load(cfg)
    if path is None:
        return contextlib.nullcontext()
    from mmengine.logging import print_log
    print_log(
        f'Trusted checkpoint: loading {path} with full pickle, which can run '
        'code (--trust-checkpoint / trust_checkpoint_code).', 'current',
        logging.WARNING)
    return trusted_checkpoint(path)

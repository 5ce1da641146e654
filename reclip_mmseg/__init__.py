"""ReCLIP++ for MMSegmentation 1.x.

``custom_imports=dict(imports=['reclip_mmseg'])`` in a config registers every
module of this package in mmseg's registries. Importing it first applies the
small stack fixes in :mod:`reclip_mmseg.compat` (mmcv-lite, torch >= 2.6).
"""
from .compat import apply_stack_fixes

apply_stack_fixes()

import mmseg.datasets  # noqa: E402,F401  (mmseg registers its own modules)
import mmseg.engine  # noqa: E402,F401
import mmseg.evaluation  # noqa: E402,F401
import mmseg.models  # noqa: E402,F401

from . import datasets, engine, models  # noqa: E402,F401
from . import evaluation  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'apply_stack_fixes']

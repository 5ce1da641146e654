"""Open-vocabulary segmentation of your own images (``tools/demo.py``)."""
import os.path as osp

from .overlay import (class_shares, display_name, draw_overlay, make_palette,
                      parse_classes)

#: A toy-world scene (64x64) shipped with the package: the demo's default.
TOY_IMAGE = osp.join(osp.dirname(osp.abspath(__file__)), 'toy_scene.png')

__all__ = [
    'TOY_IMAGE', 'parse_classes', 'display_name', 'class_shares',
    'make_palette', 'draw_overlay'
]

"""Shared fixtures: tiny open_clip models built at test time, offline."""
import os

os.environ.setdefault('HF_HUB_OFFLINE', '1')

import copy  # noqa: E402
import os.path as osp  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

import reclip_mmseg  # noqa: E402,F401  (registers modules, applies fixes)
from mmengine.registry import init_default_scope  # noqa: E402

init_default_scope('mmseg')

#: A tiny CLIP (embed 32, ViT 64 wide, 2 layers, patch 16, 224 px; text 64
#: wide, 2 layers, 77 tokens, CLIP's vocabulary). Builds in well under 1 s.
TINY_CLIP = dict(
    embed_dim=32,
    quick_gelu=True,
    vision_cfg=dict(image_size=224, layers=2, width=64, head_width=32,
                    patch_size=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=2,
                  layers=2),
)


@pytest.fixture
def tiny_clip_cfg():
    return copy.deepcopy(TINY_CLIP)


@pytest.fixture
def tiny_clip_file(tmp_path):
    """A tiny open_clip state dict on disk, and the model it came from."""
    from reclip_mmseg.models.utils import build_clip
    torch.manual_seed(0)
    model = build_clip(copy.deepcopy(TINY_CLIP), None)
    path = tmp_path / 'tiny_clip.pt'
    torch.save(model.state_dict(), path)
    return str(path), model


class _Archive(torch.nn.Module):

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def save_openai_archive(state_dict, path):
    """Write ``state_dict`` as OpenAI's CLIP release does: a TorchScript
    archive whose ``state_dict()`` has CLIP's keys plus ``input_resolution``,
    ``context_length`` and ``vocab_size``."""
    root = _Archive()
    for key, value in state_dict.items():
        *path_names, leaf = key.split('.')
        module = root
        for name in path_names:
            if not hasattr(module, name):
                module.add_module(name, torch.nn.Module())
            module = getattr(module, name)
        module.register_buffer(leaf, value.detach().clone())
    for key, value in dict(
            input_resolution=224, context_length=77,
            vocab_size=49408).items():
        root.register_buffer(key, torch.tensor(value))
    torch.jit.save(torch.jit.script(root), str(path))


TRAIN = ['train_0', 'train_1', 'train_2', 'train_3']
VAL = ['val_0', 'val_1']


def write_synthetic_voc(root):
    """VOC layout; label PNGs for the val split only."""
    rng = np.random.default_rng(0)
    import os
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for name in TRAIN + VAL:
        img = rng.integers(0, 80, (64, 80, 3), dtype=np.uint8)
        label = np.zeros((64, 80), np.uint8)
        for _ in range(2):
            cls = int(rng.integers(1, 21))
            y, x = rng.integers(0, 40, 2)
            img[y:y + 24, x:x + 30] = rng.integers(0, 255, 3)
            label[y:y + 24, x:x + 30] = cls
        label[0, :] = 255
        cv2.imwrite(osp.join(root, 'JPEGImages', name + '.jpg'), img)
        if name in VAL:
            cv2.imwrite(
                osp.join(root, 'SegmentationClass', name + '.png'), label)
    for split, names in (('train', TRAIN), ('val', VAL)):
        with open(osp.join(root, 'ImageSets/Segmentation', split + '.txt'),
                  'w') as f:
            f.write('\n'.join(names) + '\n')

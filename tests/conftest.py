"""Shared fixtures: tiny open_clip models built at test time, offline."""
import os

os.environ.setdefault('HF_HUB_OFFLINE', '1')

import copy  # noqa: E402

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

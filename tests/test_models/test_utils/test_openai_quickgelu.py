"""OpenAI's CLIP weights always get QuickGELU, whatever form they come in."""
import copy
import glob
import json
import os.path as osp

import open_clip
import pytest
import torch
from conftest import TINY_CLIP, save_openai_archive
from mmengine.config import Config
from open_clip.transformer import QuickGELU
from safetensors.torch import save_file

from reclip_mmseg.models.backbones import MaskCLIPViT
from reclip_mmseg.models.utils import CLIPTextEncoder, build_clip, get_clip

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
NAME = 'reclip-test-tiny-quickgelu'  # stands for ViT-B-16-quickgelu
GELU_NAME = 'reclip-test-tiny'  # stands for ViT-B-16


def _act(module):
    return type(module.transformer.resblocks[0].mlp.gelu)


def test_shipped_openai_configs_build_quickgelu():
    """Every config whose CLIP means OpenAI's weights names a QuickGELU
    architecture, so a state-dict or hub file of those weights (which
    carries no activation flag) gets QuickGELU too."""
    checked = []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*.py'))):
        model = Config.fromfile(path).model
        if model.clip.get('pretrained') != 'openai':
            continue
        name = model.clip.model
        assert open_clip.get_model_config(name).get('quick_gelu'), (
            f'{osp.basename(path)}: {name} uses GELU')
        checked.append(name)
    assert len(checked) >= 10  # (reclip + maskclip) x 5 datasets
    assert _act(build_clip(checked[0], None).visual) is QuickGELU


@pytest.fixture
def forms(tmp_path, monkeypatch):
    """The same tiny 'OpenAI' weights as tag, archive, state dict, hub file."""
    for name, quick in ((NAME, True), (GELU_NAME, False)):
        cfg_file = tmp_path / f'{name}.json'
        cfg_file.write_text(
            json.dumps(dict(copy.deepcopy(TINY_CLIP), quick_gelu=quick)))
        open_clip.add_model_config(str(cfg_file))
    repo = 'reclip/tiny-openai'
    monkeypatch.setitem(open_clip.pretrained._PRETRAINED, NAME,
                        {'openai': dict(hf_hub=f'{repo}/', quick_gelu=True)})
    torch.manual_seed(0)
    source = open_clip.CLIP(**TINY_CLIP).eval()  # quick_gelu=True
    state = source.state_dict()
    cache = tmp_path / 'hf'
    snap = cache / 'models--reclip--tiny-openai' / 'snapshots' / ('0' * 40)
    snap.mkdir(parents=True)
    (cache / 'models--reclip--tiny-openai' / 'refs').mkdir()
    (cache / 'models--reclip--tiny-openai' / 'refs' / 'main').write_text(
        '0' * 40)
    torch.save(state, snap / 'open_clip_pytorch_model.bin')
    save_openai_archive(state, tmp_path / 'ViT-tiny.pt')
    torch.save(state, tmp_path / 'state_dict.pt')
    save_file({k: v.contiguous()
               for k, v in state.items()}, tmp_path /
              'open_clip_model.safetensors')
    return dict(
        tag='openai',
        archive=str(tmp_path / 'ViT-tiny.pt'),
        state_dict=str(tmp_path / 'state_dict.pt'),
        hub_file=str(tmp_path / 'open_clip_model.safetensors')), str(cache)


def _features(pretrained, cache, name=NAME):
    clip = get_clip(dict(model=name, pretrained=pretrained, cache_dir=cache))
    backbone = MaskCLIPViT(clip=clip)
    text = CLIPTextEncoder(clip)
    torch.manual_seed(1)
    images = torch.randn(2, 3, 80, 48)
    with torch.no_grad():
        dense, _, glob_emb = backbone(images, return_global=True)
        words = text.encode_text(text.tokenize(['a cat', 'a red dog']))
    return (_act(backbone.visual), _act(text)), (dense, glob_emb, words)


def test_every_openai_form_gives_identical_quickgelu_features(forms):
    files, cache = forms
    acts, ref = _features(files['tag'], cache)
    assert acts == (QuickGELU, QuickGELU)
    for form in ('archive', 'state_dict', 'hub_file'):
        acts, out = _features(files[form], cache)
        assert acts == (QuickGELU, QuickGELU), form
        for a, b in zip(ref, out):
            assert torch.equal(a, b), form
    # the trap the QuickGELU name avoids: a plain state dict in a GELU net
    acts, gelu = _features(files['state_dict'], cache, GELU_NAME)
    assert acts[0] is not QuickGELU
    assert not torch.allclose(gelu[0], ref[0], atol=1e-6)

import copy
import os
import os.path as osp
import socket

import open_clip
import pytest
import torch
from conftest import TINY_CLIP, save_openai_archive
from open_clip.transformer import QuickGELU

from reclip_mmseg.models.utils import build_clip, is_torchscript_archive
from reclip_mmseg.models.utils import clip_loader


def _outputs(model):
    torch.manual_seed(0)
    images = torch.randn(2, 3, 224, 224)
    tokens = open_clip.tokenize(['a photo of a cat', 'a dog'])
    with torch.no_grad():
        return model.encode_image(images), model.encode_text(tokens)


def _act(model):
    return type(model.visual.transformer.resblocks[0].mlp.gelu)


def test_state_dict_and_openai_archive_load_identically(tmp_path):
    torch.manual_seed(0)
    source = open_clip.CLIP(**TINY_CLIP).eval()  # quick_gelu=True
    sd_path, jit_path = tmp_path / 'clip.pt', tmp_path / 'ViT-tiny.pt'
    torch.save(source.state_dict(), sd_path)
    save_openai_archive(source.state_dict(), jit_path)
    assert is_torchscript_archive(str(jit_path))
    assert not is_torchscript_archive(str(sd_path))

    from_sd = build_clip(copy.deepcopy(TINY_CLIP), str(sd_path))
    # a config that forgot QuickGELU: OpenAI-format weights force it
    cfg = dict(copy.deepcopy(TINY_CLIP), quick_gelu=False)
    from_jit = build_clip(cfg, str(jit_path))
    assert _act(from_jit) is QuickGELU
    for a, b, c in zip(_outputs(source), _outputs(from_sd),
                       _outputs(from_jit)):
        assert torch.equal(a, b)
        assert torch.equal(a, c)
    assert not from_sd.training


def test_mmengine_style_checkpoint_with_state_dict_key(tmp_path):
    torch.manual_seed(0)
    source = open_clip.CLIP(**TINY_CLIP).eval()
    path = tmp_path / 'wrapped.pth'
    torch.save({'state_dict': source.state_dict()}, path)
    loaded = build_clip(copy.deepcopy(TINY_CLIP), str(path))
    assert torch.equal(_outputs(source)[0], _outputs(loaded)[0])


def test_missing_path_names_the_path(tmp_path):
    missing = str(tmp_path / 'no_such_clip.pt')
    with pytest.raises(FileNotFoundError, match='no_such_clip.pt'):
        build_clip(copy.deepcopy(TINY_CLIP), missing)
    with pytest.raises(FileNotFoundError, match="Known open_clip tags.*openai"):
        build_clip('ViT-B-16', missing)


def test_tag_offline_fails_fast_with_local_file_hint(tmp_path):
    assert os.environ['HF_HUB_OFFLINE'] == '1'
    with pytest.raises(RuntimeError) as err:
        build_clip('ViT-B-16', 'openai', cache_dir=str(tmp_path))
    msg = str(err.value)
    assert "'openai'" in msg and 'HF_HUB_OFFLINE' in msg
    assert 'local path' in msg and 'pretrained=' in msg


def test_tag_without_network_fails_fast(tmp_path, monkeypatch):
    monkeypatch.delenv('HF_HUB_OFFLINE')
    calls = []

    def no_network(address, timeout=None, *args, **kwargs):
        calls.append((address, timeout))
        raise OSError('unreachable')

    monkeypatch.setattr(socket, 'create_connection', no_network)
    with pytest.raises(RuntimeError, match='no network connection to'):
        build_clip('ViT-B-16', 'openai', cache_dir=str(tmp_path))
    assert calls and all(t is not None and t <= 5 for _, t in calls)


def test_cached_tag_loads_with_quick_gelu(tmp_path, monkeypatch):
    """A pretrained tag found in the local HF cache loads, QuickGELU on."""
    name = 'reclip-test-tiny'
    cfg = dict(copy.deepcopy(TINY_CLIP), quick_gelu=False)
    cfg_file = tmp_path / f'{name}.json'
    import json
    cfg_file.write_text(json.dumps(cfg))
    open_clip.add_model_config(str(cfg_file))
    repo = 'reclip/tiny-clip'
    monkeypatch.setitem(
        open_clip.pretrained._PRETRAINED, name,
        {'openai': dict(hf_hub=f'{repo}/', quick_gelu=True)})
    # lay out a Hugging Face cache holding the weights
    torch.manual_seed(0)
    source = open_clip.CLIP(**dict(cfg, quick_gelu=True)).eval()
    cache = tmp_path / 'hf'
    snap = cache / 'models--reclip--tiny-clip' / 'snapshots' / ('0' * 40)
    snap.mkdir(parents=True)
    (cache / 'models--reclip--tiny-clip' / 'refs').mkdir()
    (cache / 'models--reclip--tiny-clip' / 'refs' / 'main').write_text('0' *
                                                                       40)
    torch.save(source.state_dict(), snap / 'open_clip_pytorch_model.bin')

    model = build_clip(name, 'openai', cache_dir=str(cache))
    assert _act(model) is QuickGELU
    assert torch.equal(_outputs(source)[0], _outputs(model)[0])
    assert clip_loader._cached_tag_file(
        open_clip.get_pretrained_cfg(name, 'openai'),
        str(cache)).startswith(str(cache))
    assert osp.isfile(snap / 'open_clip_pytorch_model.bin')


def test_reachability_probe_goes_through_the_https_proxy(monkeypatch):
    from reclip_mmseg.models.utils import clip_loader
    for var in ('HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy',
                'ALL_PROXY', 'all_proxy'):
        monkeypatch.delenv(var, raising=False)
    url = 'https://openaipublic.azureedge.net/clip/models/x/ViT-B-16.pt'
    assert clip_loader._connect_target(url) == (
        'openaipublic.azureedge.net', 443)
    monkeypatch.setenv('HTTPS_PROXY', 'http://proxy.example:3128')
    assert clip_loader._connect_target(url) == ('proxy.example', 3128)
    monkeypatch.setenv('NO_PROXY', 'azureedge.net')
    assert clip_loader._connect_target(url) == (
        'openaipublic.azureedge.net', 443)
    monkeypatch.delenv('NO_PROXY')
    calls = []

    def connect(address, timeout=None, *args, **kwargs):
        calls.append(address)
        raise OSError('unreachable')

    monkeypatch.setattr(socket, 'create_connection', connect)
    assert not clip_loader._host_reachable(url)
    assert calls == [('proxy.example', 3128)]

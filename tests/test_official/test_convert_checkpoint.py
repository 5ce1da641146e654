"""A checkpoint in exactly the released layout converts, loads strictly and
gives the logits the released model computes from its own tensors."""
import copy
import os
import os.path as osp
import re
import subprocess
import sys

import open_clip
import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_CLIP, write_synthetic_voc
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

from reclip_mmseg.official import convert_official_checkpoint

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
sys.path.insert(0, osp.join(ROOT, 'tools'))
K, M = 20, 73  # VOC-20; released context length


def released_checkpoint(clip, k=K, seed=0):
    """``RECLIPPP.state_dict()`` under DDP, as released (model/model.py)."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for key, value in clip.state_dict().items():
        sd[f'clip.{key}'] = value.clone()
    visual = clip.visual
    for key, value in visual.state_dict().items():  # VisionTransformer copy
        sd[f'vit.{key}'] = value.clone()
    d, width = clip.text_projection.shape[1], visual.conv1.out_channels
    vision_out = visual.proj.shape[1]
    sd['proj.weight'] = visual.proj.T[:, :, None, None].clone()
    sd['logit_scale'] = clip.logit_scale.detach().clone()
    for name in ('transformer', 'token_embedding', 'ln_final'):
        for key, value in getattr(clip, name).state_dict().items():
            sd[f'text_encoder.{name}.{key}'] = value.clone()
    sd['text_encoder.positional_embedding'] = clip.positional_embedding.data
    sd['text_encoder.text_projection'] = clip.text_projection.data
    text_width = clip.token_embedding.weight.shape[1]
    sd['text_encoder.prompt_token'] = torch.randn(1, M, text_width,
                                                  generator=g) * 0.02
    sd['pe_proj.weight'] = torch.randn(vision_out, width, 1, 1,
                                       generator=g) * 0.1
    sd['pe_proj.bias'] = torch.randn(vision_out, generator=g) * 0.1
    sd['decoder_conv2.weight'] = torch.randn(k, d + k, 5, 5,
                                             generator=g) * 0.05
    sd['decoder_conv2.bias'] = torch.randn(k, generator=g) * 0.1
    sd['decoder_norm2.weight'] = 1 + torch.rand(k, generator=g)
    sd['decoder_norm2.bias'] = torch.randn(k, generator=g)
    sd['decoder_norm2.running_mean'] = torch.randn(k, generator=g)
    sd['decoder_norm2.running_var'] = 0.5 + torch.rand(k, generator=g)
    sd['decoder_norm2.num_batches_tracked'] = torch.tensor(1000)
    return {f'module.{k}': v for k, v in sd.items()}


@pytest.fixture
def setup(tmp_path):
    torch.manual_seed(0)
    clip = open_clip.CLIP(**copy.deepcopy(TINY_CLIP)).eval()
    clip_file = str(tmp_path / 'clip.pt')
    torch.save(clip.state_dict(), clip_file)
    cfg = Config.fromfile(TINY)
    cfg.model.clip.pretrained = clip_file
    src = str(tmp_path / 'voc_best_weight.pth')
    torch.save(released_checkpoint(clip), src)
    return cfg, clip, src, tmp_path


def released_logits(sd, model, images):
    """The released RECLIPPP.forward (inference), from the released tensors.

    Dense features and Query weights are inputs of that forward (ViT path and
    text-weight file; both tested elsewhere); everything the checkpoint holds
    is computed here from its tensors."""
    sd = {k[len('module.'):]: v for k, v in sd.items()}
    head = model.decode_head
    feat, _ = model.backbone(images)
    b, _, h, w = feat.shape
    query = head.query_features
    # TextEncoder.forward with the released tensors (seq-first in the
    # release; open_clip's tower is batch-first)
    text = open_clip.CLIP(**copy.deepcopy(TINY_CLIP)).eval()
    text.load_state_dict({k[len('clip.'):]: v
                          for k, v in sd.items() if k.startswith('clip.')})
    tok = open_clip.tokenize(head.class_names)[:, 1:4]
    emb = sd['text_encoder.token_embedding.weight']
    k = tok.shape[0]
    x = torch.cat([
        emb[49406].expand(k, 1, -1), sd['text_encoder.prompt_token'].repeat(
            k, 1, 1), emb[tok]
    ], 1) + sd['text_encoder.positional_embedding']
    x = text.ln_final(text.transformer(x, attn_mask=text.attn_mask))
    prompt = x[torch.arange(k), 1 + M + tok.argmax(-1)] @ sd[
        'text_encoder.text_projection']
    prompt = prompt / prompt.norm()
    # positional embedding resized as vit.forward does
    pe = sd['vit.positional_embedding'][1:]
    n = int(pe.shape[0]**0.5)
    pe = F.interpolate(pe.reshape(1, n, n, -1).permute(0, 3, 1, 2), (h, w),
                       mode='bicubic', align_corners=False)
    pe = F.conv2d(pe, sd['pe_proj.weight'], sd['pe_proj.bias'])
    pe = pe.permute(0, 2, 3, 1).reshape(1, h * w, -1)
    out_q = F.conv2d(feat, query[:, :, None, None]).permute(0, 2, 3,
                                                            1).reshape(
                                                                b, -1, k)
    out = (out_q - pe @ prompt.t()).permute(0, 2, 1).reshape(b, -1, h, w)
    out = F.conv2d(torch.cat([feat, out], 1), sd['decoder_conv2.weight'],
                   sd['decoder_conv2.bias'], padding=2)
    return F.batch_norm(out, sd['decoder_norm2.running_mean'],
                        sd['decoder_norm2.running_var'],
                        sd['decoder_norm2.weight'], sd['decoder_norm2.bias'],
                        False, 0.0, 1e-5)


def test_converted_checkpoint_gives_released_logits(setup):
    import convert_official_checkpoint as tool
    cfg, clip, src, tmp_path = setup
    dst = str(tmp_path / 'converted.pth')
    tool.convert(src, dst, cfg)
    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert not any(k.startswith(('backbone.visual', 'decode_head.text_enc'))
                   for k in saved['state_dict'])
    assert saved['meta']['dataset_meta']['classes'][0] == 'airplane'
    assert osp.getsize(dst) < 2e6

    model = MODELS.build(cfg.model).eval()
    load_checkpoint(model, dst, map_location='cpu', strict=True)
    images = torch.randn(2, 3, 64, 80)
    released = torch.load(src, map_location='cpu', weights_only=True)
    with torch.no_grad():
        ours = model.decode_head.forward(model.backbone(images))
        ref = released_logits(released, model, images)
    assert ours.shape == ref.shape == (2, K, 4, 5)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_with_clip_takes_the_release_copy(setup):
    cfg, clip, src, _ = setup
    released = torch.load(src, map_location='cpu', weights_only=True)
    state = convert_official_checkpoint(released, with_clip=True)
    assert torch.equal(state['backbone.visual.conv1.weight'],
                       clip.visual.conv1.weight)
    assert torch.equal(state['decode_head.text_encoder.text_projection'],
                       clip.text_projection)
    cfg.model.clip.pretrained = None
    model = MODELS.build(cfg.model)
    model.load_state_dict(state, strict=True)


def test_unknown_missing_keys_and_class_count_raise(setup):
    cfg, clip, src, tmp_path = setup
    released = torch.load(src, map_location='cpu', weights_only=True)
    bad = dict(released, **{'module.extra_head.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match='module.extra_head.weight'):
        convert_official_checkpoint(bad)
    bad = dict(released)
    del bad['module.decoder_norm2.running_var']
    with pytest.raises(KeyError, match='module.decoder_norm2.running_var'):
        convert_official_checkpoint(bad)
    with pytest.raises(KeyError, match="without 'module.'"):
        convert_official_checkpoint(
            {k[7:]: v for k, v in released.items()})
    with pytest.raises(ValueError, match='has 20 classes.*config has 59'):
        convert_official_checkpoint(released, num_classes=59)
    # through the tool: a 21-class release for the 20-class config
    import convert_official_checkpoint as tool
    src21 = str(tmp_path / 'k21.pth')
    torch.save(released_checkpoint(clip, k=21), src21)
    with pytest.raises(ValueError, match='21 classes.*config has 20'):
        tool.convert(src21, str(tmp_path / 'out.pth'), cfg)


def test_tools_test_py_loads_the_converted_checkpoint(setup):
    """`tools/test.py CONFIG DST` (a subprocess, as a user runs it) loads the
    converted file strictly (CheckpointCheckHook) and reports metrics."""
    import convert_official_checkpoint as tool
    cfg, clip, src, tmp_path = setup
    dst = str(tmp_path / 'converted.pth')
    tool.convert(src, dst, cfg)
    root = str(tmp_path / 'voc')
    write_synthetic_voc(root)
    clip_file = cfg.model.clip.pretrained

    def test_py(ckpt):
        env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')
        return subprocess.run(
            [sys.executable, 'tools/test.py', TINY, ckpt, '--work-dir',
             str(tmp_path / 'work'), '--cfg-options',
             f'test_dataloader.dataset.data_root={root}',
             f'model.clip.pretrained={clip_file}'],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    proc = test_py(dst)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f'Load checkpoint from {dst}' in out
    assert re.search(r'mIoU: \d+\.\d+', out), out[-3000:]
    # the same load refuses a converted file missing one trained tensor
    saved = torch.load(dst, map_location='cpu', weights_only=True)
    del saved['state_dict']['decode_head.pos_proj.bias']
    broken = str(tmp_path / 'broken.pth')
    torch.save(saved, broken)
    proc = test_py(broken)
    assert proc.returncode != 0
    assert '1 missing: decode_head.pos_proj.bias' in proc.stdout + proc.stderr

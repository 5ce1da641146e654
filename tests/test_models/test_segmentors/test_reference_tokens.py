"""The Reference prompt's token embeddings come from the CLIP in use."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
METAS = [dict(img_shape=(64, 80), ori_shape=(64, 80), pad_shape=(64, 80))]


def _model(seed):
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(TINY).model)
    model.init_weights()
    return model.eval()


def test_checkpoint_gives_same_logits_whatever_seed_built_the_model(
        tmp_path):
    """The user's report: one checkpoint, tools/test.py with seeds 0/1/2,
    three mIoUs. The tiny config has pretrained=None, so the checkpoint holds
    the (random) CLIP; the prompt's SOT/name embeddings must follow it."""
    source = _model(0)
    with torch.no_grad():
        source.decode_head.reference.ctx.normal_(std=0.5)
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(state_dict=source.state_dict(), meta={}), path)
    images = torch.randn(1, 3, 64, 80)
    with torch.no_grad():
        ref_feats = source.decode_head.reference()
        ref = source.inference(images, METAS)
    for seed in (1, 2):
        model = _model(seed)
        with torch.no_grad():
            before = model.inference(images, METAS)
        assert not torch.allclose(before, ref)  # the seed does matter
        load_checkpoint(model, path, map_location='cpu', strict=True)
        with torch.no_grad():
            assert torch.equal(model.decode_head.reference(), ref_feats)
            assert torch.equal(model.inference(images, METAS), ref)

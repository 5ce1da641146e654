"""Mixed precision gives the fp32 predictions on the tiny config."""
import copy
import os.path as osp

import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')

# bfloat16 keeps ~3 significant digits: we require the argmax to agree on
# >= 97% of pixels and logits to stay within 5% of their fp32 range.
MIN_AGREEMENT = 0.97
MAX_REL_ERROR = 0.05


def test_bf16_autocast_matches_fp32_predictions():
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(TINY).model)
    model.init_weights()
    # a trained-looking decoder: train a few steps first (BN statistics)
    model.train()
    for i in range(3):
        samples = [SegDataSample(metainfo=dict(img_path=f'x{i}'))]
        model.hypothesis.cache[f'x{i}'] = [0, 5]
        model.loss(torch.randn(1, 3, 64, 64), samples)
    model.eval()
    images = torch.randn(2, 3, 96, 128)
    metas = [
        dict(img_shape=(96, 128), ori_shape=(96, 128), pad_shape=(96, 128))
    ] * 2
    fresh = copy.deepcopy(model)
    with torch.no_grad():  # bf16 first: the cached bias/Query must not leak
        with torch.autocast('cpu', dtype=torch.bfloat16):
            amp = model.inference(images, metas)
        ref = model.inference(images, metas)
        assert torch.equal(ref, fresh.inference(images, metas))
    assert amp.shape == ref.shape == (2, 20, 96, 128)
    rel = (amp.float() - ref).abs().max() / (ref.max() - ref.min())
    agreement = (amp.argmax(1) == ref.argmax(1)).float().mean()
    print(f"bf16 vs fp32: rel {rel:.4f}, agreement {agreement:.4f}")
    assert rel <= MAX_REL_ERROR, rel
    assert agreement >= MIN_AGREEMENT, agreement
    # the bias cache keys on the compute dtype: each precision reuses its own
    with torch.no_grad():
        assert torch.equal(model.inference(images, metas), ref)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            assert torch.equal(model.inference(images, metas), amp)

"""Training without img_path: mmseg's segmentor harness on in-memory inputs.

The steps of mmseg's ``tests/test_models/test_segmentors/utils.py`` (loss,
train_step, val_step, tensor, predict), with ``inputs`` (the 1.x key) built
in memory: no sample has an ``img_path``.
"""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import reclip_mmseg.models.utils.hypothesis as hypothesis_module

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
SHAPES = [(64, 80), (48, 64)]  # the second one is padded in the batch


def packed_inputs():
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for h, w in SHAPES:
        inputs.append(torch.randint(0, 256, (3, h, w), generator=g,
                                    dtype=torch.uint8))
        samples.append(
            SegDataSample(
                gt_sem_seg=PixelData(
                    data=torch.randint(0, 20, (1, h, w), generator=g)),
                metainfo=dict(img_shape=(h, w), ori_shape=(h, w))))
    return dict(inputs=inputs, data_samples=samples)


def test_segmentor_harness_steps_without_img_path(monkeypatch):
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(TINY).model)
    model.init_weights()
    logged, seen = [], []
    monkeypatch.setattr(hypothesis_module, 'print_log',
                        lambda msg, *a, **k: logged.append(msg))
    compute = model.hypothesis.compute

    def recording_compute(segmentor, image):
        seen.append(image.clone())
        return compute(segmentor, image)

    monkeypatch.setattr(model.hypothesis, 'compute', recording_compute)

    data = model.data_preprocessor(packed_inputs(), True)
    inputs, samples = data['inputs'], data['data_samples']
    assert inputs.shape == (2, 3, 64, 80)
    assert all('img_path' not in s for s in samples)

    # loss
    losses = model.forward(inputs, samples, mode='loss')
    assert torch.isfinite(losses['decode.loss_contrast'])
    # the hypothesis saw each input itself, unpadded, in the preprocessor's
    # space: RGB (bgr_to_rgb), (x - mean) / std
    pre = model.data_preprocessor
    for raw, image, (h, w) in zip(packed_inputs()['inputs'], seen, SHAPES):
        expected = (raw[[2, 1, 0]].float() - pre.mean) / pre.std
        assert image.shape == (3, h, w)
        torch.testing.assert_close(image, expected)
    assert [s.hypothesis for s in samples] == [
        compute(model, img) for img in seen
    ]
    # train_step
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    ctx = model.decode_head.reference.ctx.detach().clone()
    outputs = model.train_step(dict(inputs=inputs, data_samples=samples),
                               optim)
    assert 'loss' in outputs and torch.isfinite(outputs['loss'])
    assert not torch.equal(model.decode_head.reference.ctx, ctx)
    assert len(logged) == 1 and 'img_path' in logged[0]  # said once
    # val_step, tensor, predict
    with torch.no_grad():
        model.eval()
        batch = dict(inputs=inputs, data_samples=samples)
        results = model.val_step(batch)
        assert len(results) == 2
        assert results[1].pred_sem_seg.shape == SHAPES[1]
        tensor = model.forward(inputs, samples, mode='tensor')
        assert tensor.shape == (2, 20, 4, 5)
        predictions = model.predict(inputs, samples)
        assert predictions[0].seg_logits.data.shape == (20, 64, 80)

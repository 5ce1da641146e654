"""The post-processing chain: registered steps, applied in order, with the
inputs and metas of each network forward (whole batch or slide crop)."""
import torch
import torch.nn.functional as F
from _tiny import NAMES, tiny_maskclip, tiny_segmentor
from mmseg.registry import TASK_UTILS
from mmseg.structures import SegDataSample

from reclip_mmseg.models.postprocess import PostProcessChain

CALLS = []


@TASK_UTILS.register_module(force=True)
class _RecordStep:
    """Test step: logits * factor + offset, recording what it was given."""

    def __init__(self, name, factor=1.0, offset=0.0):
        self.name, self.factor, self.offset = name, factor, offset

    def __call__(self, seg_logits, inputs, batch_img_metas):
        CALLS.append((self.name, seg_logits.clone(), inputs.clone(),
                      [dict(m) for m in batch_img_metas]))
        return seg_logits * self.factor + self.offset


@TASK_UTILS.register_module(force=True)
class _AddBackground:
    """Test step that adds a class: a constant logit in front."""

    def out_channels(self, k):
        return k + 1

    def __call__(self, seg_logits, inputs, batch_img_metas):
        bg = seg_logits.new_full(seg_logits[:, :1].shape, 0.5)
        return torch.cat([bg, seg_logits], 1)


def test_steps_run_in_order_on_the_previous_output():
    CALLS.clear()
    chain = PostProcessChain([
        dict(type='_RecordStep', name='a', factor=2.0),
        dict(type='_RecordStep', name='b', offset=1.0)
    ])
    logits, inputs = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 64, 80)
    out = chain(logits, inputs, [{}, {}])
    assert [c[0] for c in CALLS] == ['a', 'b']
    assert torch.equal(CALLS[1][1], logits * 2)
    assert torch.equal(out, logits * 2 + 1)
    # the other order gives another answer
    swapped = PostProcessChain([
        dict(type='_RecordStep', name='b', offset=1.0),
        dict(type='_RecordStep', name='a', factor=2.0)
    ])
    assert torch.equal(swapped(logits, inputs, [{}, {}]), (logits + 1) * 2)
    assert len(PostProcessChain()) == 0
    assert torch.equal(PostProcessChain()(logits, inputs, []), logits)


def _batch(n=2, h=64, w=80):
    torch.manual_seed(3)
    inputs = torch.randn(n, 3, h, w)
    samples = [
        SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                    pad_shape=(h, w))) for _ in range(n)
    ]
    return inputs, samples


def test_custom_step_in_whole_mode_batch_of_two():
    CALLS.clear()
    model = tiny_segmentor(
        postprocess=[dict(type='_RecordStep', name='s', factor=-1.0)])
    plain = tiny_segmentor()
    inputs, samples = _batch()
    with torch.no_grad():
        got = model.predict(inputs, samples)
        ref = plain.predict(inputs, [s.clone() for s in samples])
    (name, logits, seen, metas), = CALLS  # one call for the batch
    assert logits.shape == (2, len(NAMES), 4, 5)  # feature resolution
    assert torch.equal(seen, inputs)
    assert [m['img_shape'] for m in metas] == [(64, 80)] * 2
    for g, r in zip(got, ref):
        torch.testing.assert_close(g.seg_logits.data, -r.seg_logits.data)


def test_custom_step_in_slide_mode_sees_each_crop():
    CALLS.clear()
    model = tiny_segmentor(
        mode='slide', crop_size=(64, 64), stride=(32, 32),
        postprocess=[dict(type='_RecordStep', name='s', offset=3.0)])
    plain = tiny_segmentor(mode='slide', crop_size=(64, 64),
                           stride=(32, 32))
    inputs, samples = _batch(n=2, h=64, w=96)
    with torch.no_grad():
        got = model.predict(inputs, samples)
        ref = plain.predict(inputs, [s.clone() for s in samples])
    assert len(CALLS) == 2  # crops at x = 0 and 32, both images at once
    for (_, logits, seen, metas), x0 in zip(CALLS, (0, 32)):
        assert logits.shape == (2, len(NAMES), 4, 4)
        assert torch.equal(seen, inputs[:, :, :, x0:x0 + 64])
        assert tuple(metas[0]['img_shape']) == (64, 64)
    # +3 on every crop's logits: +3 on the merged logits too
    for g, r in zip(got, ref):
        torch.testing.assert_close(g.seg_logits.data, r.seg_logits.data + 3)


def test_step_adding_a_class_in_slide_mode():
    model = tiny_segmentor(
        mode='slide', crop_size=(64, 64), stride=(32, 32),
        postprocess=[dict(type='_AddBackground')])
    assert model.out_channels == len(NAMES) + 1
    inputs, samples = _batch(n=2, h=64, w=96)
    with torch.no_grad():
        out = model.predict(inputs, samples)
    logits = out[0].seg_logits.data
    assert logits.shape == (len(NAMES) + 1, 64, 96)
    torch.testing.assert_close(logits[0], torch.full((64, 96), 0.5))
    expected = F.softmax(logits, 0).argmax(0)
    assert torch.equal(out[0].pred_sem_seg.data[0], expected)


def test_maskclip_baseline_runs_the_chain_too():
    # the training-free CLIPSegmentor shares the chain with ReCLIP++
    CALLS.clear()
    model = tiny_maskclip(
        postprocess=[dict(type='_RecordStep', name='m', factor=-1.0)])
    plain = tiny_maskclip()
    assert type(model).__name__ == 'CLIPSegmentor'
    inputs, samples = _batch()
    with torch.no_grad():
        got = model.predict(inputs, samples)
        ref = plain.predict(inputs, [s.clone() for s in samples])
    (_, logits, seen, _), = CALLS
    assert logits.shape == (2, len(NAMES), 4, 5) and torch.equal(seen, inputs)
    for g, r in zip(got, ref):
        torch.testing.assert_close(g.seg_logits.data, -r.seg_logits.data)

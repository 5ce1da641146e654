"""Prompt denoising as a post-processing step: same results as the head's
former ``prompt_denoise`` (an independent loop reference here), run by the
segmentor on the head's feature-resolution logits."""
import pytest
import torch
from _tiny import tiny_segmentor
from mmseg.registry import MODELS, TASK_UTILS

from reclip_mmseg.models.postprocess import (PD_MOVED, PromptDenoise,
                                             prompt_denoise)


def reference_denoise(logits, threshold, scale=10.0):
    """Released-code rule, one (image, class) at a time."""
    out = logits.clone()
    probs = torch.softmax(scale * logits, dim=1)
    for b in range(logits.shape[0]):
        for k in range(logits.shape[1]):
            if probs[b, k].max() < threshold:
                out[b, k] = -100.0
    return out


def test_hand_made_logits():
    logits = torch.zeros(1, 3, 2, 2)
    logits[0, 0, 0, 0] = 5.0  # class 0 confident somewhere
    logits[0, 1] = 0.05  # class 1 never confident
    out = prompt_denoise(logits, threshold=0.9)
    assert (out[0, 1] == -100).all() and (out[0, 2] == -100).all()
    assert torch.equal(out[0, 0], logits[0, 0])


def test_uses_scaled_softmax():
    """Cosine-sized logits: only the x10 softmax makes a 0.3 lead
    confident (0.95 > 0.9; unscaled it would be 0.57)."""
    logits = torch.zeros(1, 2, 2, 2)
    logits[0, 0, 0, 0] = 0.3
    out = prompt_denoise(logits, threshold=0.9)
    assert torch.equal(out[0, 0], logits[0, 0])
    assert (out[0, 1] == -100).all()
    assert torch.equal(
        prompt_denoise(logits, 0.9, scale=1.0)[0, 0],
        torch.full((2, 2), -100.0))


@pytest.mark.parametrize('threshold', [0.3, 0.5, 0.9])
def test_step_equals_reference(threshold):
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 4, 5) * 0.2
    step = TASK_UTILS.build(dict(type='PromptDenoise', threshold=threshold))
    assert isinstance(step, PromptDenoise)
    got = step(logits, torch.zeros(2, 3, 64, 80), [{}, {}])
    expected = reference_denoise(logits, threshold)
    assert torch.equal(got, expected)
    assert (got == -100).flatten(2).all(2).any()  # something suppressed


def _pd_model_and_threshold():
    plain = tiny_segmentor()
    torch.manual_seed(1)
    inputs = torch.randn(2, 3, 64, 80)
    metas = [dict(img_shape=(64, 80), pad_shape=(64, 80))] * 2
    with torch.no_grad():
        logits = plain.decode_head.predict_logits(
            plain.extract_feat(inputs), plain.test_cfg)
    peaks = torch.softmax(10 * logits, 1).amax((2, 3))
    return plain, inputs, metas, logits, peaks.median().item()


def test_through_the_segmentor_whole_mode():
    plain, inputs, metas, logits, threshold = _pd_model_and_threshold()
    model = tiny_segmentor(
        postprocess=[dict(type='PromptDenoise', threshold=threshold)])
    head = model.decode_head
    with torch.no_grad():
        denoised = reference_denoise(logits, threshold)
        suppressed = (denoised == -100).flatten(2).all(2)
        assert 0 < suppressed.sum() < suppressed.numel()
        expected = head.predict_by_feat(denoised, metas)
        got = model.encode_decode(inputs, metas)
        torch.testing.assert_close(got, expected)
        unchanged = plain.encode_decode(inputs, metas)
        torch.testing.assert_close(
            unchanged, head.predict_by_feat(logits, metas))
        assert not torch.allclose(got, unchanged)


def test_old_keys_name_the_new_one():
    assert 'test_cfg.postprocess' in PD_MOVED
    with pytest.raises(ValueError, match='pd_threshold was moved'):
        tiny_segmentor(pd_threshold=0.9)
    with pytest.raises(ValueError, match=r"postprocess=\[dict\(type="
                       r"'PromptDenoise'"):
        MODELS.build(
            dict(type='MaskCLIPHead', class_names=['a', 'b'],
                 clip=dict(model=dict(embed_dim=32), pretrained=None),
                 in_channels=32, pd_threshold=0.9))

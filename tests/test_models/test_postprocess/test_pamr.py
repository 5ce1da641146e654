"""PAMR against a pixel-by-pixel hand computation on a tiny image."""
import math

import pytest
import torch
from mmseg.registry import MODELS

from reclip_mmseg.models.postprocess.pamr import PAMR

OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0),
           (1, 1)]


def _at(t, y, x):
    """Replicate padding: the nearest pixel inside."""
    h, w = t.shape[-2:]
    return t[..., min(max(y, 0), h - 1), min(max(x, 0), w - 1)]


def hand_pamr(image, mask, dilations, num_iter):
    """One image ``(3, H, W)``, mask ``(K, H, W)`` at the same size."""
    _, h, w = image.shape
    aff = torch.zeros(8 * len(dilations), h, w, dtype=torch.float64)
    for y in range(h):
        for x in range(w):
            taps = [_at(image, y + dy * d, x + dx * d) for d in dilations
                    for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            taps = torch.stack(taps)  # (9 |D|, 3)
            mean = taps.mean(0)
            std = torch.sqrt(((taps - mean)**2).sum(0) / (len(taps) - 1))
            logits = []
            for d in dilations:
                for dy, dx in OFFSETS:
                    diff = (image[:, y, x] - _at(image, y + dy * d,
                                                 x + dx * d)).abs()
                    logits.append((-diff / (1e-8 + 0.1 * std)).mean())
            e = [math.exp(v) for v in logits]
            for i, v in enumerate(e):
                aff[i, y, x] = v / sum(e)
    for _ in range(num_iter):
        new = torch.zeros_like(mask)
        for y in range(h):
            for x in range(w):
                i = 0
                for d in dilations:
                    for dy, dx in OFFSETS:
                        new[:, y, x] += aff[i, y, x] * _at(
                            mask, y + dy * d, x + dx * d)
                        i += 1
        mask = new
    return mask


def test_pamr_equals_hand_computation_on_a_batch():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 5, 6, dtype=torch.float64)
    images[0, :, :, 3:] += 1.0  # an edge the refinement must respect
    masks = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    pamr = MODELS.build(dict(type='PAMR', num_iter=3, dilations=(1, 2)))
    out = pamr(images, masks)
    assert out.shape == (2, 3, 5, 6)
    for i in range(2):
        ref = hand_pamr(images[i], masks[i], (1, 2), 3)
        torch.testing.assert_close(out[i], ref, atol=1e-10, rtol=1e-10)
    # a batch is each image alone
    torch.testing.assert_close(out[1:], pamr(images[1:], masks[1:]))


def test_pamr_defaults_and_resize_to_image():
    pamr = PAMR()
    assert (pamr.num_iter, pamr.dilations) == (10, (8, 16))
    torch.manual_seed(0)
    image = torch.rand(1, 3, 20, 24)
    small = torch.randn(1, 4, 5, 6)
    up = torch.nn.functional.interpolate(
        small, (20, 24), mode='bilinear', align_corners=True)
    out = pamr(image, small)
    assert out.shape == (1, 4, 20, 24)
    torch.testing.assert_close(out, pamr(image, up))
    # a convex combination of neighbours never leaves the input's range
    assert out.max() <= up.max() + 1e-5 and out.min() >= up.min() - 1e-5


def test_pamr_keeps_a_constant_mask_and_zero_iterations():
    image = torch.rand(1, 3, 9, 9)
    mask = torch.full((1, 2, 9, 9), 0.25)
    torch.testing.assert_close(PAMR(4, (1, 3))(image, mask), mask)
    other = torch.randn(1, 2, 9, 9)
    assert torch.equal(PAMR(0, (1, ))(image, other), other)


@pytest.mark.parametrize('dilations', [(1, ), (2, 5)])
def test_pamr_flat_image_averages_neighbours(dilations):
    """A flat image: every neighbour has the same affinity, so one
    iteration is the plain mean of the 8·|D| neighbours."""
    image = torch.ones(1, 3, 6, 7, dtype=torch.float64)
    mask = torch.randn(1, 1, 6, 7, dtype=torch.float64)
    out = PAMR(1, dilations)(image, mask)
    y, x = 2, 3
    ref = sum(
        _at(mask[0, 0], y + dy * d, x + dx * d) for d in dilations
        for dy, dx in OFFSETS) / (8 * len(dilations))
    assert out[0, 0, y, x].item() == pytest.approx(ref.item(), abs=1e-12)

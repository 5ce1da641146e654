"""The peers' scale_factor resize against bicubic written out by hand."""
import math

import torch
import torch.nn.functional as F

from reclip_mmseg.models.backbones import resample_patch_pos_embed
from reclip_mmseg.models.backbones.pos_embed_resize import \
    resample_patch_pos_embed_scale_factor


def _cubic_weights(t, a=-0.75):
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _matrix(n_in, n_out, scale):
    """Row i: weights of the inputs for output i, source coordinate
    (i + 0.5) / scale - 0.5 (align_corners False), borders clamped."""
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(n_out):
        src = (i + 0.5) / scale - 0.5
        x0 = math.floor(src)
        for j, wgt in zip(range(x0 - 1, x0 + 3), _cubic_weights(src - x0)):
            m[i, min(max(j, 0), n_in - 1)] += wgt
    return m


def test_scale_factor_resize_equals_hand_bicubic():
    torch.manual_seed(0)
    old, new, c = (6, 6), (5, 9), 4
    pos = torch.randn(old[0] * old[1], c, dtype=torch.float64)
    out = resample_patch_pos_embed_scale_factor(pos, old, new)
    grid = pos.T.reshape(c, *old)
    rows = _matrix(old[0], new[0], (new[0] + 0.1) / old[0])
    cols = _matrix(old[1], new[1], (new[1] + 0.1) / old[1])
    ref = torch.einsum('ia,cab,jb->cij', rows, grid, cols)
    assert out.shape == (1, c, *new)
    torch.testing.assert_close(out[0], ref, atol=1e-10, rtol=0)


def test_differs_from_size_resize_and_skips_pretraining_grid():
    torch.manual_seed(0)
    pos = torch.randn(14 * 14, 8)
    peers = resample_patch_pos_embed_scale_factor(pos, (14, 14), (21, 28))
    ours = resample_patch_pos_embed(pos, (14, 14), (21, 28))
    size = F.interpolate(pos.T.reshape(1, 8, 14, 14), (21, 28),
                         mode='bicubic', align_corners=False)
    assert peers.shape == ours.shape == (1, 8, 21, 28)
    torch.testing.assert_close(ours, size)
    assert (peers - ours).abs().max() > 1e-3
    same = resample_patch_pos_embed_scale_factor(pos, (14, 14), (14, 14))
    assert torch.equal(same, pos.T.reshape(1, 8, 14, 14))

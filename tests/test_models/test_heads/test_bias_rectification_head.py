import copy

import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_CLIP
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from reclip_mmseg.models.backbones import CLIPFeatures
from reclip_mmseg.models.losses import (hypothesis_to_mask,
                                        masked_contrastive_loss)

NAMES = ['cat', 'dog', 'car', 'tree']


def _head(**kwargs):
    cfg = dict(
        type='BiasRectificationHead',
        class_names=NAMES,
        clip=dict(model=TINY_CLIP, pretrained=None),
        in_channels=32,
        pos_channels=64,
        norm_cfg=dict(type='BN'))
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _inputs(b=2, h=6, w=5, pos_channels=64):
    torch.manual_seed(0)
    dense = F.normalize(torch.randn(b, 32, h, w), dim=1)
    return dense, torch.randn(1, pos_channels, h, w)


def _samples(hyps):
    return [SegDataSample(metainfo=dict(hypothesis=h)) for h in hyps]


def test_loss_equals_hand_computation():
    torch.manual_seed(0)
    masks = F.one_hot(torch.randint(0, 3, (2, 4, 5)), 3).permute(0, 3, 1,
                                                                   2).float()
    feats = torch.randn(2, 8, 4, 5)
    query = F.normalize(torch.randn(3, 8), dim=1)
    hyps = [[0, 2], []]  # the second image has an empty hypothesis
    loss = masked_contrastive_loss(masks, feats, query,
                                   hypothesis_to_mask(hyps, 3))
    # by hand, image 0 only; the batch mean divides by B = 2
    terms = []
    for i in hyps[0]:
        pooled = (masks[0, i] * feats[0]).sum(CLIPFeatures(1, 2)) / 20  # / (h*w)
        logits = 100 * pooled @ query.T
        terms.append(-torch.log_softmax(logits, 0)[i])
    expected = torch.stack(terms).mean() / 2
    torch.testing.assert_close(loss, expected)
    per_image = masked_contrastive_loss(
        masks, feats, query, hypothesis_to_mask(hyps, 3), reduction='none')
    assert per_image[1] == 0 and torch.isfinite(per_image).all()
    empty = masked_contrastive_loss(masks, feats, query,
                                    hypothesis_to_mask([[], []], 3))
    assert empty == 0 and not torch.isnan(empty)
    with pytest.raises(ValueError, match=r'outside \[0, 3\)'):
        hypothesis_to_mask([[3]], 3)


def test_loss_module():
    loss = MODELS.build(dict(type='MaskedContrastiveLoss', loss_weight=2.0))
    assert loss.loss_name == 'loss_contrast'
    torch.manual_seed(0)
    masks = F.one_hot(torch.randint(0, 3, (2, 4, 5)), 3).permute(0, 3, 1,
                                                                   2).float()
    feats, query = torch.randn(2, 8, 4, 5), F.normalize(torch.randn(3, 8))
    hyp = hypothesis_to_mask([[0, 2], [1]], 3)
    plain = masked_contrastive_loss(masks, feats, query, hyp)
    assert plain > 0
    torch.testing.assert_close(loss(masks, feats, query, hyp), 2.0 * plain)
    with pytest.raises(ValueError, match='loss_'):
        MODELS.build(dict(type='MaskedContrastiveLoss', loss_name='contrast'))


def test_head_shapes_and_rectification():
    head = _head().eval()
    dense, pos = _inputs()
    logits = head(CLIPFeatures(dense, pos))
    assert logits.shape == (2, 4, 6, 5)
    query = head.query_features
    q_logits = torch.einsum('bdhw,kd->bkhw', dense, query)
    bias = torch.einsum('odhw,kd->okhw', head.pos_proj(pos), head.reference())
    torch.testing.assert_close(
        head.rectified_logits(dense, pos), q_logits - bias)
    x = torch.cat([dense, q_logits - bias], 1)
    torch.testing.assert_close(logits, head.norm(head.conv_seg(x)))
    assert head.conv_seg.kernel_size == (5, 5)
    assert head.conv_seg.in_channels == 32 + 4


def test_head_class_count_mismatch():
    with pytest.raises(ValueError, match='num_classes=5 does not match'):
        _head(num_classes=5)


def test_gradients_reach_only_trainable_parts():
    head = _head().train()
    dense, pos = _inputs()
    losses = head.loss(CLIPFeatures(dense, pos), _samples([[0, 1], [3]]), None)
    assert set(losses) == {'loss_contrast'}
    losses['loss_contrast'].backward()
    with_grad = {n for n, p in head.named_parameters() if p.grad is not None}
    assert with_grad == {
        'reference.ctx', 'pos_proj.weight', 'pos_proj.bias', 'conv_seg.weight',
        'conv_seg.bias', 'norm.weight', 'norm.bias'
    }
    assert all(head.get_parameter(n).grad.abs().sum() > 0 for n in with_grad)
    assert all(not p.requires_grad for p in head.text_encoder.parameters())


def test_loss_needs_hypothesis():
    head = _head().train()
    with pytest.raises(KeyError, match='hypothesis'):
        head.loss(_inputs(), [SegDataSample()], None)


def test_bias_cache_reused_and_invalidated(monkeypatch):
    head = _head().eval()
    dense, pos = _inputs()
    calls = []
    original = head.compute_bias_logits

    def counting(p):
        calls.append(tuple(p.shape[-2:]))
        return original(p)

    monkeypatch.setattr(head, 'compute_bias_logits', counting)
    text_calls = []
    enc = head.text_encoder.encode_text
    monkeypatch.setattr(head.text_encoder, 'encode_text',
                        lambda *a, **k: text_calls.append(1) or enc(*a, **k))
    first = head(CLIPFeatures(dense, pos))
    for _ in range(3):
        torch.testing.assert_close(head(CLIPFeatures(dense, pos)), first)
    assert calls == [(6, 5)]  # one bias computation for 4 forwards
    assert text_calls == [1]  # Query features: once, at first use
    head(CLIPFeatures(dense[..., :4], pos[..., :4]))  # new grid size
    assert calls == [(6, 5), (6, 4)]
    with torch.no_grad():  # a parameter changes in place (optimizer step)
        head.pos_proj.bias.add_(1.0)
    head(CLIPFeatures(dense[..., :4], pos[..., :4]))
    assert len(calls) == 3
    head.load_state_dict(head.state_dict())  # loading weights
    head(CLIPFeatures(dense[..., :4], pos[..., :4]))
    assert len(calls) == 4
    head.train()  # training never uses the cache
    head(CLIPFeatures(dense, pos))
    head(CLIPFeatures(dense, pos))
    assert len(calls) == 6


def _planted_world(query, size, band):
    """A stand-in frozen backbone for the planted-bias tests: each image is
    split between two classes; its features are the classes' Query
    features plus noise, leaning to class 0 in a border band of ``band``
    pixels (a space-preference bias). Returns the positional input
    ``(1, 4, size, size)``, the border mask and ``world(n, gen) -> (feats,
    labels, hypotheses)``."""
    k, d = query.shape
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size),
                            indexing='ij')
    border = ((ys < band) | (ys >= size - band) | (xs < band) |
              (xs >= size - band)).float()
    c = (size - 1) / 2
    pos = torch.stack([(ys - c) / c, (xs - c) / c, ((ys - c) / c)**2,
                       ((xs - c) / c)**2]).float()[None]

    def world(n, gen):
        labels = torch.empty(n, size, size, dtype=torch.long)
        hyps = []
        for i in range(n):
            a, b = torch.randperm(k, generator=gen)[:2]
            cut = int(torch.randint(4, size - 4, (1, ), generator=gen))
            split = xs if torch.rand(1, generator=gen) < .5 else ys
            labels[i] = torch.where(split < cut, a, b)
            hyps.append(sorted({int(a), int(b)}))
        feats = (0.3 * query[labels].permute(0, 3, 1, 2) +
                 0.02 * torch.randn(n, d, size, size, generator=gen) +
                 0.5 * border * query[0][None, :, None, None])
        return F.normalize(feats, dim=1), labels, hyps

    return pos, border, world


def test_planted_bias_training_beats_query_baseline():
    """A stand-in frozen backbone whose features favour class 0 near the
    image border: training the head with the contrastive loss (labels only
    through the per-image class lists) must beat Query-only argmax."""
    torch.manual_seed(0)
    k, d, size, band = 4, 32, 24, 3
    head = _head(pos_channels=4)
    basis = torch.linalg.qr(torch.randn(d, k + 1))[0].T
    # CLIP-like text features: strongly correlated classes
    query = F.normalize(basis[k][None] + 0.5 * basis[:k], dim=1)
    head._query_cache = {torch.device('cpu'): query}
    pos, border, world = _planted_world(query, size, band)

    def miou(pred, labels):
        ious = [((pred == i) & (labels == i)).sum() /
                ((pred == i) | (labels == i)).sum() for i in range(k)]
        return torch.stack(ious).mean().item()

    gen = torch.Generator().manual_seed(1)
    test_feats, test_labels, _ = world(64, gen)
    baseline = torch.einsum('bdhw,kd->bkhw', test_feats, query).argmax(1)
    optim = torch.optim.SGD([p for p in head.parameters() if p.requires_grad],
                            lr=0.01,
                            momentum=0.9)
    head.train()
    for _ in range(300):
        feats, _, hyps = world(8, gen)
        loss = head.loss(CLIPFeatures(feats, pos), _samples(hyps), None)['loss_contrast']
        optim.zero_grad()
        loss.backward()
        optim.step()
    head.eval()
    with torch.no_grad():
        pred = head(CLIPFeatures(test_feats, pos)).argmax(1)
    at_border = border.bool().expand_as(test_labels)
    base_border = (baseline == test_labels)[at_border].float().mean()
    ours_border = (pred == test_labels)[at_border].float().mean()
    assert miou(pred, test_labels) > miou(baseline, test_labels) + 0.05
    assert ours_border > base_border + 0.1


def test_loss_masks_are_hard_gumbel_of_scaled_logits(monkeypatch):
    """The loss sees one-hot masks (straight-through, ``hard=True``) drawn
    from ``gumbel_scale * logits``: at scale 100 the Gumbel noise rarely
    beats the logit margins, so the masks follow the argmax; at scale 1 (the
    noise dominates) they do not."""

    def masks_and_logits(gumbel_scale):
        head = _head(gumbel_scale=gumbel_scale).train()
        seen = []
        loss_forward = head.loss_decode.forward
        monkeypatch.setattr(head.loss_decode, 'forward',
                            lambda m, *a: seen.append(m) or
                            loss_forward(m, *a))
        dense, pos = _inputs(b=4, h=12, w=12)
        torch.manual_seed(1)
        head.loss(CLIPFeatures(dense, pos), _samples([[0, 1]] * 4), None)
        return seen[0], head(CLIPFeatures(dense, pos))

    masks, logits = masks_and_logits(100.0)
    assert masks.shape == logits.shape == (4, 4, 12, 12)
    assert set(masks.unique().tolist()) == {0.0, 1.0}
    assert (masks.sum(1) == 1).all()
    assert masks.requires_grad  # straight-through: gradients reach logits
    follows = (masks.argmax(1) == logits.argmax(1)).float().mean()
    assert follows > 0.95, follows
    masks, logits = masks_and_logits(1.0)
    follows = (masks.argmax(1) == logits.argmax(1)).float().mean()
    assert follows < 0.8, follows


def test_bias_cache_keys_on_dtype():
    """bf16 autocast first, fp32 next: the fp32 logits are exactly a fresh
    fp32 head's (``pos`` stays fp32 under autocast, so the key must hold
    the compute dtype); a head converted to fp64 gets an fp64 bias."""
    head = _head().eval()
    fresh = copy.deepcopy(head)
    dense, pos = _inputs()
    with torch.no_grad():
        with torch.autocast('cpu', dtype=torch.bfloat16):
            amp = head(CLIPFeatures(dense, pos))
        assert amp.dtype == torch.bfloat16
        assert head.bias_logits(pos).dtype == torch.float32
        assert torch.equal(head(CLIPFeatures(dense, pos)), fresh(CLIPFeatures(dense, pos)))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            assert torch.equal(head(CLIPFeatures(dense, pos)), amp)  # cached again
        head.double()
        bias = head.bias_logits(pos.double())
        assert bias.dtype == torch.float64
        assert torch.equal(bias,
                           fresh.double().compute_bias_logits(pos.double()))


def test_planted_bias_only_rectification_fixes():
    """The rectification branch alone, the decoder held fixed.

    A stand-in world whose features lean to class 0 in a border band (a
    space-preference bias). The decoder is frozen to pass ``Q - B``
    through, so only the bias branch (positional projection + Reference
    prompt) can learn. Training it with the contrastive loss (labels only
    through the per-image class lists) must beat the same head with the
    bias branch removed (``Q`` alone, as a decoder fed ``[dense, Q]``
    would give), and the learned bias must be subtracted: ``Q + B`` is
    no better than ``Q`` itself.
    """
    torch.manual_seed(0)
    k, d, size, band = 4, 32, 16, 3
    head = _head(pos_channels=4)
    basis = torch.linalg.qr(torch.randn(d, k + 1))[0].T
    query = F.normalize(basis[k][None] + 0.5 * basis[:k], dim=1)
    head._query_cache = {torch.device('cpu'): query}
    with torch.no_grad():  # decoder = identity on the rectified logits
        head.conv_seg.weight.zero_()
        head.conv_seg.bias.zero_()
        for i in range(k):
            head.conv_seg.weight[i, d + i, 2, 2] = 1.0
    head.conv_seg.requires_grad_(False)
    head.norm = torch.nn.Identity()
    pos, border, world = _planted_world(query, size, band)

    gen = torch.Generator().manual_seed(1)
    test_feats, test_labels, _ = world(32, gen)
    trainable = [p for p in head.parameters() if p.requires_grad]
    assert {id(p) for p in trainable} == {
        id(head.reference.ctx), *map(id, head.pos_proj.parameters())
    }
    optim = torch.optim.SGD(trainable, lr=0.1, momentum=0.9)
    head.train()
    for _ in range(100):
        feats, _, hyps = world(8, gen)
        loss = head.loss(CLIPFeatures(feats, pos), _samples(hyps), None)['loss_contrast']
        optim.zero_grad()
        loss.backward()
        optim.step()
    head.eval()
    at_border = border.bool().expand_as(test_labels)

    def border_acc(logits):
        return (logits.argmax(1) == test_labels)[at_border].float().mean()

    with torch.no_grad():
        q = head.query_logits(test_feats)
        bias = head.bias_logits(pos)
        rectified = head(CLIPFeatures(test_feats, pos))
    torch.testing.assert_close(rectified, q - bias)
    print(f'border accuracy: Q {border_acc(q):.3f}, Q - B '
          f'{border_acc(q - bias):.3f}, Q + B {border_acc(q + bias):.3f}')
    assert border_acc(q - bias) > border_acc(q) + 0.2
    # adding the learned bias only deepens the lean to class 0
    assert border_acc(q + bias) <= border_acc(q)
    assert ((q + bias).argmax(1) == 0)[at_border].float().mean() >= (
        q.argmax(1) == 0)[at_border].float().mean()

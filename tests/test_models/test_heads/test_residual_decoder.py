"""The rectification-preserving keys of BiasRectificationHead: residual,
zero_init_decoder and test_output (README "Toy world")."""
import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_CLIP
from mmseg.registry import MODELS

from reclip_mmseg.models.backbones import CLIPFeatures

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
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _inputs(b=2, h=6, w=5):
    torch.manual_seed(1)
    return F.normalize(torch.randn(b, 32, h, w), dim=1), torch.randn(
        1, 64, h, w)


def _by_hand(head, dense, pos):
    rect = head.query_logits(dense) - head.compute_bias_logits(pos)
    decoded = head.norm(head.conv_seg(torch.cat([dense, rect], 1)))
    return rect, decoded


@pytest.mark.parametrize('norm_cfg', [dict(type='BN'), None])
def test_zero_init_residual_starts_at_rectified_logits(norm_cfg):
    head = _head(residual=True, zero_init_decoder=True, norm_cfg=norm_cfg)
    dense, pos = _inputs()
    for mode in (True, False):  # BN batch statistics and running ones
        head.train(mode)
        rect = head.rectified_logits(dense, pos)
        assert rect.abs().max() > 0.05  # not trivially zero
        assert torch.equal(head(CLIPFeatures(dense, pos)), rect)
    # the last layer is the norm when there is one, else the conv
    last = head.conv_seg if norm_cfg is None else head.norm
    assert last.weight.abs().sum() == 0 and last.bias.abs().sum() == 0
    if norm_cfg is not None:  # the conv itself keeps its Kaiming init
        assert head.conv_seg.weight.std() > 0.01
    # one step moves the output away from Q - B: the decoder can learn
    head.train()
    logits = head(CLIPFeatures(dense, pos))
    target = torch.randint(0, 4, (2, 6, 5))
    F.cross_entropy(logits, target).backward()
    assert last.weight.grad.abs().sum() > 0
    assert head.pos_proj.weight.grad.abs().sum() > 0  # via Q - B
    assert head.reference.ctx.grad.abs().sum() > 0
    with torch.no_grad():
        for p in head.parameters():
            if p.grad is not None:
                p -= 0.1 * p.grad
    assert not torch.allclose(head(CLIPFeatures(dense, pos)),
                              head.rectified_logits(dense, pos))


def test_residual_adds_rectified_logits_to_the_decoder():
    head = _head(residual=True).eval()
    dense, pos = _inputs()
    rect, decoded = _by_hand(head, dense, pos)
    assert decoded.abs().max() > 0.1  # Kaiming, not zero
    torch.testing.assert_close(head(CLIPFeatures(dense, pos)), rect + decoded)


def test_released_default_is_the_decoder_alone():
    head = _head().eval()
    assert not head.residual and not head.zero_init_decoder
    assert head.test_output == 'decoder'
    assert torch.equal(head.norm.weight, torch.ones(4))  # not zeroed
    dense, pos = _inputs()
    torch.testing.assert_close(head(CLIPFeatures(dense, pos)), _by_hand(head, dense,
                                                            pos)[1])


def test_zero_init_needs_residual():
    with pytest.raises(ValueError, match='needs residual=True'):
        _head(zero_init_decoder=True)


@pytest.mark.parametrize('name', ['decoder', 'rectified', 'query'])
def test_test_output_selects_the_predicted_logits(name):
    head = _head(residual=True).eval()
    dense, pos = _inputs(b=1)
    expected = dict(
        decoder=head(CLIPFeatures(dense, pos)),
        rectified=head.rectified_logits(dense, pos),
        query=head.query_logits(dense))[name]
    metas = [dict(img_shape=(12, 10), pad_shape=(12, 10))]
    want = F.interpolate(expected, (12, 10), mode='bilinear',
                         align_corners=False)
    # from test_cfg, and from the constructor key
    got = head.predict(CLIPFeatures(dense, pos), metas, dict(test_output=name))
    torch.testing.assert_close(got, want)
    head.test_output = name
    torch.testing.assert_close(head.predict(CLIPFeatures(dense, pos), metas, {}), want)
    # the three outputs really differ, so the selection is observable
    others = [k for k in ('decoder', 'rectified', 'query') if k != name]
    for other in others:
        alt = head.predict(CLIPFeatures(dense, pos), metas, dict(test_output=other))
        assert not torch.allclose(alt, want)


def test_unknown_test_output_is_named():
    with pytest.raises(ValueError, match=r"one of \['decoder', 'query', "
                       r"'rectified'\], got 'qb'"):
        _head(test_output='qb')
    head = _head().eval()
    dense, pos = _inputs(b=1)
    with pytest.raises(ValueError, match="got 'bias'"):
        head.predict(CLIPFeatures(dense, pos), [dict(img_shape=(6, 5))],
                     dict(test_output='bias'))


@pytest.mark.parametrize('tau', [1.0, 0.25])
def test_loss_masks_are_straight_through_gumbel_with_tau(tau, monkeypatch):
    """The masks are ``hard - soft.detach() + soft`` with ``soft =
    softmax((gumbel_scale * logits + g) / tau)``: recomputed by hand with the
    same Gumbel draw, the values and the gradient reaching the logits match
    (the temperature only shows in the gradient)."""
    head = _head(gumbel_scale=3.0, gumbel_tau=tau).train()
    dense, pos = _inputs(b=2, h=4, w=4)
    seen = []
    loss_forward = head.loss_decode.forward
    monkeypatch.setattr(head.loss_decode, 'forward',
                        lambda m, *a: seen.append(m) or loss_forward(m, *a))
    from mmseg.structures import SegDataSample
    samples = [SegDataSample(metainfo=dict(hypothesis=[0, 1]))] * 2
    logits = head(CLIPFeatures(dense, pos)).detach().requires_grad_()
    monkeypatch.setattr(head, 'forward', lambda inputs: logits)
    torch.manual_seed(3)
    head.loss(CLIPFeatures(dense, pos), samples, None)
    masks = seen[0]
    weights = torch.randn_like(masks)
    (grad, ) = torch.autograd.grad((masks * weights).sum(), logits)
    # by hand, same noise: torch draws it as -log(Exponential(1))
    torch.manual_seed(3)
    g = -torch.empty_like(logits).exponential_().log()
    x = logits.detach().requires_grad_()
    soft = torch.softmax((3.0 * x + g) / tau, 1)
    hard = F.one_hot(soft.argmax(1), 4).permute(0, 3, 1, 2).float()
    assert torch.equal(masks.detach(), hard)
    (want, ) = torch.autograd.grad(
        ((hard - soft.detach() + soft) * weights).sum(), x)
    torch.testing.assert_close(grad, want)
    assert grad.abs().max() > 1e-3

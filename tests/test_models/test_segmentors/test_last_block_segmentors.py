"""Issue 13 wiring: each last-block rule in a whole tiny segmentor (whole and
slide mode), PAMR and the peers' post-processing in
``test_cfg.postprocess_merged``, and ReCLIP++ training on top of each rule."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_CLIP
from mmengine.config import Config, ConfigDict
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from reclip_mmseg.models.backbones import LAST_BLOCK_RULES
from reclip_mmseg.models.postprocess import (PAMR, background_threshold,
                                             query_class_index,
                                             synonym_softmax)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
NAMES = [['background', 'sky'], 'cat', ['dog', 'puppy'], 'car']
RULES = sorted(LAST_BLOCK_RULES)


def maskclip(rule='maskclip', head=None, **test_cfg):
    torch.manual_seed(0)
    model = MODELS.build(
        ConfigDict(
            type='CLIPSegmentor',
            data_preprocessor=dict(type='SegDataPreProcessor',
                                   size_divisor=16),
            clip=dict(model=copy.deepcopy(TINY_CLIP), pretrained=None),
            backbone=dict(type='MaskCLIPViT', last_block=rule,
                          last_block_cfg=dict(sigma=2.0)
                          if rule == 'naclip' else None),
            decode_head=dict(type='MaskCLIPHead', class_names=NAMES,
                             in_channels=32, **(head or {})),
            test_cfg=dict(dict(mode='whole'), **test_cfg)))
    return model.eval()


def batch(sizes=((64, 80), (48, 64)), ori=((96, 120), (40, 52))):
    """Two images padded to 64 x 80, with other original sizes."""
    torch.manual_seed(3)
    inputs = torch.randn(len(sizes), 3, 64, 80)
    samples = []
    for (h, w), o in zip(sizes, ori):
        inputs[len(samples), :, h:] = 0
        inputs[len(samples), :, :, w:] = 0
        samples.append(SegDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=o, pad_shape=(64, 80),
            padding_size=[0, 80 - w, 0, 64 - h])))
    return inputs, samples


@pytest.mark.parametrize('rule', RULES)
@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_each_rule_segments_whole_and_slide(rule, mode):
    cfg = dict(mode='slide', crop_size=(48, 48), stride=(32, 32)) \
        if mode == 'slide' else {}
    model = maskclip(rule, **cfg)
    inputs, samples = batch()
    with torch.no_grad():
        out = model.predict(inputs, samples)
        dense = model.backbone(inputs).dense
        ref = maskclip('maskclip', **cfg).predict(
            inputs, [s.clone() for s in samples])
    assert out[0].seg_logits.data.shape == (4, 96, 120)
    assert out[1].pred_sem_seg.data.shape == (1, 40, 52)
    if mode == 'whole':  # the head sees the rule's features
        torch.testing.assert_close(
            model.decode_head.forward(model.extract_feat(inputs)),
            model.decode_head.query_logits(dense))
    if rule != 'maskclip':
        assert (out[0].seg_logits.data -
                ref[0].seg_logits.data).abs().max() > 1e-4


def _guides(inputs, samples):
    out = []
    for x, s in zip(inputs, samples):
        h, w = s.img_shape
        out.append(F.interpolate(x[None, :, :h, :w], s.ori_shape,
                                 mode='bilinear', align_corners=False))
    return out


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_pamr_and_peer_steps_on_merged_logits_at_original_size(mode):
    """NACLIP's test-time path: PAMR on the merged raw cosine logits at the
    original size, guided by the input resized there, then logit scale,
    softmax over all 6 queries, max over synonyms, prob_thd."""
    cfg = dict(mode='slide', crop_size=(48, 48), stride=(32, 32)) \
        if mode == 'slide' else {}
    steps = [dict(type='PAMR', num_iter=3, dilations=(1, 2)),
             dict(type='SynonymSoftmax', logit_scale=40, class_names=NAMES),
             dict(type='BackgroundThreshold', prob_thd=0.5)]
    head = dict(synonym_queries=True)
    model = maskclip('naclip', head, postprocess_merged=steps, **cfg)
    plain = maskclip('naclip', head, **cfg)
    inputs, samples = batch()
    with torch.no_grad():
        out = model.predict(inputs, samples)
        raw = plain.predict(inputs, [s.clone() for s in samples])
    assert model.out_channels == 6  # slide accumulates the 6 queries
    index = query_class_index(NAMES)
    for o, r, guide in zip(out, raw, _guides(inputs, samples)):
        refined = PAMR(3, (1, 2))(guide, r.seg_logits.data[None])
        probs = background_threshold(synonym_softmax(refined, index, 40),
                                     0.5)[0]
        torch.testing.assert_close(o.seg_logits.data, probs)
        assert torch.equal(o.pred_sem_seg.data, probs.argmax(0, keepdim=True))
        assert o.seg_logits.data.shape == (4, ) + tuple(r.ori_shape)


def test_pamr_step_alone_and_without_data_samples():
    model = maskclip(postprocess_merged=[dict(type='PAMR', num_iter=2,
                                              dilations=(1, ))])
    plain = maskclip()
    inputs = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        out = model.predict(inputs)
        raw = plain.predict(inputs)
    for i, (o, r) in enumerate(zip(out, raw)):
        ref = PAMR(2, (1, ))(inputs[i:i + 1], r.seg_logits.data[None])[0]
        torch.testing.assert_close(o.seg_logits.data, ref)
    assert 'PAMR(num_iter=2, dilations=(1,))' in repr(model.postprocess_merged)


def test_synonym_queries_head():
    head = maskclip(head=dict(synonym_queries=True)).decode_head
    assert head.num_classes == 6
    assert head.class_names == ['background', 'sky', 'cat', 'dog', 'puppy',
                                'car']
    with pytest.raises(ValueError, match='synonym_queries must be False'):
        cfg = Config.fromfile(TINY).model
        cfg.decode_head.synonym_queries = True
        MODELS.build(cfg)


@pytest.mark.parametrize('rule', RULES)
def test_reclip_trains_on_each_rule(rule):
    """One train step of ReCLIP++ (BiasRectificationHead) on the rule's dense
    features: finite loss, every trainable parameter gets a gradient, the
    frozen CLIP none, and the head reads the rule's features."""
    cfg = Config.fromfile(TINY).model
    cfg.backbone.last_block = rule
    # With the released gumbel_scale 100 this tiny random CLIP saturates the
    # hard masks on the byte images of the train step below (gradients
    # ~1e-10, an SGD step changes no float32 weight); at 1 they are soft, so
    # the step's update is visible under every rule.
    cfg.decode_head.gumbel_scale = 1.0
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    model.train()
    seen, in_loss = [], []
    head = model.decode_head
    forward = head.forward
    head.forward = lambda feats: (seen.append(feats.dense.detach()),
                                  forward(feats))[1]
    head.loss_decode.register_forward_pre_hook(
        lambda mod, args: in_loss.append(args[1].detach()))
    torch.manual_seed(1)
    inputs = torch.randn(2, 3, 48, 64)
    samples = [SegDataSample(metainfo=dict(img_shape=(48, 64),
                                           ori_shape=(48, 64),
                                           pad_shape=(48, 64)))
               for _ in range(2)]
    losses = model.loss(inputs, samples)
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    trainable = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
    assert trainable
    for name, p in trainable:
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for name, p in model.backbone.named_parameters():
        assert p.grad is None, name
    with torch.no_grad():
        dense = model.backbone(inputs).dense
    assert len(seen) == len(in_loss) == 1
    torch.testing.assert_close(seen[0], dense)  # decoder and Query logits
    torch.testing.assert_close(in_loss[0], dense)  # contrastive loss
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = model.decode_head.conv_seg.weight.detach().clone()
    model.zero_grad()
    head.forward = forward
    model.train_step(dict(inputs=[(x * 50 + 120).clamp(0, 255).byte()
                                  for x in inputs],
                          data_samples=samples), optim)
    assert not torch.equal(model.decode_head.conv_seg.weight, before)

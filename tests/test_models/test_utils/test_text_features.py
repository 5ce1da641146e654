import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from reclip_mmseg.models.utils import (RECLIP_TEMPLATES, SCENE_TEMPLATES,
                                       CLIPTextEncoder, ReferencePromptLearner,
                                       build_query_features)


@pytest.fixture
def encoder_and_clip(tiny_clip_file, tiny_clip_cfg):
    path, clip = tiny_clip_file
    return CLIPTextEncoder(dict(model=tiny_clip_cfg, pretrained=path)), clip.eval()


def _ensemble(clip, encoder, name, templates):
    tokens = encoder.tokenize([t(name) for t in templates])
    with torch.no_grad():
        feats = clip.encode_text(tokens)
    feats = feats / feats.norm(dim=-1, keepdim=True)
    mean = feats.mean(0)
    return mean / mean.norm()


def test_templates_are_clip_80_plus_5_scene():
    assert len(RECLIP_TEMPLATES) == 85
    texts = [t('cat') for t in RECLIP_TEMPLATES]
    assert len(set(texts)) == 85
    assert 'a bad photo of a cat.' in texts
    assert 'there is a cat in the scene.' in texts
    assert [t('cat') for t in SCENE_TEMPLATES] == texts[80:]


def test_encode_text_is_open_clip(encoder_and_clip):
    encoder, clip = encoder_and_clip
    tokens = encoder.tokenize(['a photo of a cat.', 'sky'])
    with torch.no_grad():
        torch.testing.assert_close(
            encoder.encode_text(tokens), clip.encode_text(tokens))


def test_query_features_equal_own_computation(encoder_and_clip):
    encoder, clip = encoder_and_clip
    names = ['cat', ['dog', 'puppy'], 'dining table']
    query = build_query_features(encoder, names)
    assert query.shape == (3, 32)
    ref_cat = _ensemble(clip, encoder, 'cat', RECLIP_TEMPLATES)
    ref_table = _ensemble(clip, encoder, 'dining table', RECLIP_TEMPLATES)
    dog = _ensemble(clip, encoder, 'dog', RECLIP_TEMPLATES)
    puppy = _ensemble(clip, encoder, 'puppy', RECLIP_TEMPLATES)
    ref_dog = F.normalize(dog + puppy, dim=0)
    torch.testing.assert_close(query[0], ref_cat, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(query[1], ref_dog, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(query[2], ref_table, atol=1e-5, rtol=1e-5)
    # batching the names changes nothing
    one_by_one = build_query_features(encoder, names, classes_per_batch=1)
    torch.testing.assert_close(query, one_by_one, atol=1e-6, rtol=1e-5)
    # format-string templates work as well
    fmt = build_query_features(encoder, ['cat'], ['a photo of a {}.'])
    ref = F.normalize(clip.encode_text(encoder.tokenize('a photo of a cat.')))
    torch.testing.assert_close(fmt, ref.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('bad', ['', [], ['dog', 3]])
def test_query_bad_class_name(encoder_and_clip, bad):
    encoder, _ = encoder_and_clip
    with pytest.raises(ValueError, match='class name'):
        build_query_features(encoder, ['cat', bad])


def test_text_encoder_frozen_eval(encoder_and_clip):
    encoder, _ = encoder_and_clip
    encoder.train()
    assert not encoder.training
    assert all(not p.requires_grad for p in encoder.parameters())


def _eot_feature(clip, encoder, text):
    tokens = encoder.tokenize([text])
    with torch.no_grad():
        return clip.encode_text(tokens)[0]


def test_reference_with_real_prompt_context_equals_encode_text(
        encoder_and_clip):
    encoder, clip = encoder_and_clip
    names = ['cat', 'dining table']
    learner = ReferencePromptLearner(encoder, names, num_context=4)
    ids = encoder.tokenize(['a photo of a'])[0, 1:5]
    with torch.no_grad():
        learner.ctx.copy_(encoder.token_embedding(ids))
    feats = learner.forward_features().detach()
    for i, name in enumerate(names):
        torch.testing.assert_close(
            feats[i], _eot_feature(clip, encoder, f'a photo of a {name}'),
            atol=1e-5, rtol=1e-5)
    # ctx_init does the same from text
    learner2 = ReferencePromptLearner(encoder, names, ctx_init='a photo of a')
    assert learner2.num_context == 4
    torch.testing.assert_close(learner2.forward_features().detach(), feats)


def test_reference_released_defaults(encoder_and_clip):
    encoder, _ = encoder_and_clip
    learner = MODELS.build(
        dict(
            type='ReferencePromptLearner',
            text_encoder=encoder,
            class_names=['airplane', 'dining table', 'tv monitor']))
    assert learner.num_context == 73
    assert learner.ctx.shape == (73, 64)
    token0 = encoder.token_embedding.weight[0]
    assert torch.equal(learner.ctx, token0.expand(73, -1))
    feats = learner.forward_features()
    ref = learner()
    assert ref.shape == (3, 32)
    # ONE global Frobenius norm, not per class
    torch.testing.assert_close(ref, feats / feats.norm())
    torch.testing.assert_close(ref.norm(), torch.tensor(1.0))
    per_class = ReferencePromptLearner(
        encoder, ['airplane', 'dining table'], normalize='per_class')()
    torch.testing.assert_close(per_class.norm(dim=-1), torch.ones(2))
    # only the context is saved: the frozen tower belongs to its owner
    assert list(learner.state_dict()) == ['ctx']


def test_reference_gradients_reach_only_context(encoder_and_clip):
    encoder, _ = encoder_and_clip
    learner = ReferencePromptLearner(encoder, ['cat', 'dog'])
    query = build_query_features(encoder, ['cat', 'dog'])
    loss = (learner() @ query.T).diagonal().sum()
    loss.backward()
    assert learner.ctx.grad is not None
    assert learner.ctx.grad.abs().sum() > 0
    assert [n for n, p in learner.named_parameters() if p.requires_grad
            ] == ['ctx']
    assert all(p.grad is None for p in encoder.parameters())


def test_reference_name_too_long(encoder_and_clip):
    encoder, _ = encoder_and_clip
    with pytest.raises(ValueError, match="'potted plant stand'"):
        ReferencePromptLearner(
            encoder, ['cat', 'potted plant stand'], name_slots=3)
    # more slots fit it; by default just enough slots are taken
    learner = ReferencePromptLearner(
        encoder, ['cat', 'potted plant stand'], name_slots=5)
    assert learner.num_context == 71
    auto = ReferencePromptLearner(encoder, ['cat', 'potted plant stand'])
    assert auto.num_context == 77 - 1 - 4
    assert auto.token_suffix.shape[1] == 4
    with pytest.raises(ValueError, match='normalize'):
        ReferencePromptLearner(encoder, ['cat'], normalize='l2')


def test_reference_synonyms_use_the_first_name(encoder_and_clip):
    # a class given as synonyms: the Reference prompt names it by its first
    # name (not the text "['person', 'people']"), and M stays what the
    # plain names give
    encoder, _ = encoder_and_clip
    plain = ReferencePromptLearner(encoder, ['person', 'dog'])
    synonyms = ReferencePromptLearner(encoder, [['person', 'people'], 'dog'])
    assert synonyms.num_context == plain.num_context
    assert synonyms.num_context == encoder.context_length - 1 - 3
    assert torch.equal(synonyms.prompt_tokens, plain.prompt_tokens)
    assert torch.equal(synonyms.eot_index, plain.eot_index)
    torch.testing.assert_close(synonyms(), plain())
    with pytest.raises(ValueError, match='non-empty strings'):
        ReferencePromptLearner(encoder, [[], 'dog'])

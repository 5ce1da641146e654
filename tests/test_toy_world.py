"""The toy world generator, its dataset class and the shipped tiny CLIP."""
import dataclasses
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from PIL import Image

import reclip_mmseg  # noqa: F401  (registers ToyWorldDataset)
from reclip_mmseg.models.utils import build_clip, build_tokenizer
from reclip_mmseg.toy import (CLASSES, CONFUSABLE_PAIRS, PALETTE,
                              PRETRAIN_BIAS, TOY_CLIP, TOY_CLIP_CHECKPOINT,
                              caption, caption_classes, format_caption,
                              is_near_centre, sample_scene, write_dataset)

init_default_scope('mmseg')


def _scenes(seed, heldout, n=40):
    rng = np.random.default_rng(seed)
    return [sample_scene(rng, heldout) for _ in range(n)]


@pytest.mark.parametrize('heldout', [True, False])
def test_sample_scene_deterministic_and_valid(heldout):
    first, again = _scenes(3, heldout), _scenes(3, heldout)
    for (img, label, objects), (img2, label2, objects2) in zip(first, again):
        assert img.tobytes() == img2.tobytes()
        assert label.tobytes() == label2.tobytes()
        assert objects == objects2
    assert any(a[0].tobytes() != b[0].tobytes()
               for a, b in zip(first, _scenes(4, heldout)))
    for img, label, objects in first:
        assert img.shape == (64, 64, 3) and img.dtype == np.uint8
        assert label.shape == (64, 64) and label.dtype == np.uint8
        assert set(np.unique(label)) <= set(range(10)) | {255}
        # every drawn class is in the label, and nothing else
        assert set(np.unique(label)) - {255} == {o['cls'] for o in objects}
        if heldout:
            assert 1 <= len(objects) <= 4


def test_classes_and_pairs():
    assert len(CLASSES) == len(set(CLASSES)) == len(PALETTE) == 10
    assert CLASSES[0] == 'red circle' and CLASSES[1] == 'orange circle'
    for major, minor in CONFUSABLE_PAIRS:
        assert CLASSES[major] != CLASSES[minor]


def test_pretraining_places_centre_only_classes_near_centre():
    seen = 0
    for _, _, objects in _scenes(0, heldout=False, n=300):
        for obj in objects:
            if obj['cls'] in PRETRAIN_BIAS.centre_only:
                seen += 1
                assert is_near_centre(obj['centroid'])
    assert seen > 10
    # held out: the same classes also appear near the border
    assert any(
        o['cls'] in PRETRAIN_BIAS.centre_only
        and not is_near_centre(o['centroid'])
        for _, _, objects in _scenes(0, heldout=True, n=300)
        for o in objects)


def test_caption_rules():
    rng = np.random.default_rng(0)
    _, label, objects = sample_scene(rng, heldout=False, num_objects=0)
    assert objects == [] and (label == 255).all()
    assert caption(objects, rng) == PRETRAIN_BIAS.nothing_caption
    centre = [dict(cls=6, centroid=(31.5, 31.5)),
              dict(cls=2, centroid=(28.0, 36.0))]
    border = [dict(cls=7, centroid=(2.0, 2.0))]
    named_border = 0
    for _ in range(200):
        classes = caption_classes(centre + border, rng)
        assert {6, 2} <= set(classes)  # centre objects always named
        named_border += 7 in classes
    assert 10 < named_border < 60  # ~0.15 of 200
    # a minor class is named as its major ~25% of the time, never dropped
    minor = [dict(cls=1, centroid=(31.5, 31.5))]
    names = [caption_classes(minor, rng) for _ in range(400)]
    assert all(n in ([0], [1]) for n in names)
    assert 60 < sum(n == [0] for n in names) < 140
    assert format_caption([0, 2]) == \
        'a photo of a red circle and a blue square.'
    assert format_caption([0, 2, 8]) == \
        'a photo of a red circle, a blue square and a cyan ring.'
    # the knobs are read at call time
    never = dataclasses.replace(PRETRAIN_BIAS, border_mention_prob=0.0)
    assert 7 not in caption_classes(border, rng, never)


def test_write_dataset_layout_idempotence_and_mismatch(tmp_path):
    root = str(tmp_path / 'toy')
    assert write_dataset(root, num_train=3, num_val=2, seed=1) == root
    assert sorted((tmp_path / 'toy' / 'img_dir' / 'train').iterdir()) == [
        tmp_path / 'toy' / 'img_dir' / 'train' / f'0000{i}.png'
        for i in range(3)
    ]
    assert len(list((tmp_path / 'toy' / 'img_dir' / 'val').iterdir())) == 2
    assert len(list((tmp_path / 'toy' / 'ann_dir' / 'val').iterdir())) == 2
    assert not (tmp_path / 'toy' / 'ann_dir' / 'train').exists()
    with open(osp.join(root, 'world.json')) as f:
        assert json.load(f)['seed'] == 1

    label = np.asarray(Image.open(osp.join(root, 'ann_dir/val/00000.png')))
    assert label.dtype == np.uint8 and label.ndim == 2
    assert set(np.unique(label)) <= set(range(10)) | {255}
    img_file = osp.join(root, 'img_dir/val/00001.png')
    mtime, content = osp.getmtime(img_file), open(img_file, 'rb').read()

    write_dataset(root, num_train=3, num_val=2, seed=1)  # no-op
    assert osp.getmtime(img_file) == mtime
    # same seed, another root: identical bytes
    other = write_dataset(str(tmp_path / 'b'), num_train=3, num_val=2, seed=1)
    assert open(osp.join(other, 'img_dir/val/00001.png'),
                'rb').read() == content

    with pytest.raises(FileExistsError, match='world.json.*seed.: 2'):
        write_dataset(root, num_train=3, num_val=2, seed=2)
    (tmp_path / 'partial' / 'img_dir').mkdir(parents=True)
    with pytest.raises(FileExistsError, match='no world.json'):
        write_dataset(str(tmp_path / 'partial'), num_train=3, num_val=2)


def test_toy_world_dataset_lists_train_and_val(tmp_path):
    from mmseg.registry import DATASETS
    root = write_dataset(str(tmp_path), num_train=4, num_val=3, seed=0)
    train = DATASETS.build(
        dict(
            type='ToyWorldDataset',
            data_root=root,
            data_prefix=dict(
                img_path='img_dir/train', seg_map_path='ann_dir/train'),
            pipeline=[dict(type='LoadImageFromFile')]))
    assert len(train) == 4
    assert train.metainfo['classes'] == CLASSES
    assert train[0]['img'].shape == (64, 64, 3)

    val = DATASETS.build(
        dict(
            type='ToyWorldDataset',
            data_root=root,
            data_prefix=dict(
                img_path='img_dir/val', seg_map_path='ann_dir/val'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations'),
            ]))
    assert len(val) == 3
    item = val[2]
    expected = np.asarray(Image.open(osp.join(root, 'ann_dir/val/00002.png')))
    np.testing.assert_array_equal(item['gt_seg_map'], expected)
    assert (item['gt_seg_map'] != 255).any()  # not reduced, not all ignored


def test_toy_clip_config_and_checkpoint():
    assert osp.isfile(TOY_CLIP_CHECKPOINT)
    assert osp.getsize(TOY_CLIP_CHECKPOINT) < 10 * 2**20
    model = build_clip(TOY_CLIP, TOY_CLIP_CHECKPOINT)
    state = torch.load(TOY_CLIP_CHECKPOINT, weights_only=True)
    assert all(v.dtype == torch.float16 for v in state.values())
    torch.testing.assert_close(model.visual.proj,
                               state['visual.proj'].float())
    img, _, _ = sample_scene(np.random.default_rng(0), heldout=True)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        emb = model.encode_image(x)
        text = model.encode_text(
            build_tokenizer(TOY_CLIP)(['a photo of a red circle.']))
    assert emb.shape == (1, 64) and torch.isfinite(emb).all()
    assert text.shape == (1, 64)


def test_pretrain_bias_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRETRAIN_BIAS.centre_radius = 0.9


TOY_TOOLS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                     'tools', 'toy')


def _toy_tool(name):
    import importlib.util
    import sys
    sys.path.insert(0, TOY_TOOLS)
    try:
        spec = importlib.util.spec_from_file_location(
            name, osp.join(TOY_TOOLS, f'{name}.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(TOY_TOOLS)
    return module


def test_evaluation_follows_the_given_pretraining_bias():
    tool = _toy_tool('toy_clip_eval')
    evaluate_toy_clip = tool.evaluate_toy_clip
    format_evaluation = tool.format_evaluation
    torch.manual_seed(0)
    kw = dict(num_images=6, batch_size=6)
    default = evaluate_toy_clip(None, **kw)
    wide = dataclasses.replace(PRETRAIN_BIAS, centre_radius=2.0,
                               centre_only=(1, ))
    torch.manual_seed(0)
    other = evaluate_toy_clip(None, bias=wide, **kw)
    assert other['mIoU'] == default['mIoU']  # same model, same scenes
    # radius 2 covers the whole image: every pixel is 'centre'
    assert all(np.isnan(v) for v in other['recall_border'].values())
    assert not all(np.isnan(v) for v in default['recall_border'].values())
    assert other['global_top1_centre'] == other['global_top1']
    assert other['centre_only'] == [CLASSES[1]]
    marked = [line.split()[0] for line in format_evaluation(other).split('\n')
              if line.endswith('(centre-only in pretraining)')]
    assert marked == CLASSES[1].split()[:1]


def test_pretrain_tool_evaluates_with_its_bias(monkeypatch, tmp_path):
    tool = _toy_tool('pretrain_tiny_clip')
    seen = []

    def fake_evaluate(path, *, num_images, bias):
        seen.append(bias)
        return dict(mIoU=0.0, global_top1=0.0)

    monkeypatch.setattr(tool, 'evaluate_toy_clip', fake_evaluate)
    monkeypatch.setattr(tool, 'format_evaluation', lambda result: '')
    tool.main([
        '--steps', '2', '--batch-size', '2', '--eval-every', '1',
        '--eval-images', '4', '--out',
        str(tmp_path / 'clip.pt'), '--bias', 'centre_radius=0.25'
    ])
    assert len(seen) == 3  # step 1 quick eval, pretrained, random init
    assert all(b.centre_radius == 0.25 for b in seen)

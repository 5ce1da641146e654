"""tools/analyze_hypotheses.py on a synthetic split with known answers.

A fake generator reads its hypothesis and scores off the image (each image
is flat grey, value 10 * index), so the tool's numbers must be the hand
counts of ``test_hypothesis_quality``; the labels (read by the tool only)
hold the same class sets, plus ignored background.
"""
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS, TASK_UTILS

from reclip_mmseg.evaluation.hypothesis_quality import hypothesis_quality
from reclip_mmseg.models.utils import (HYPOTHESIS_TYPES, BaseHypothesis,
                                       generator_configs, hypothesis_clip)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))
import analyze_hypotheses  # noqa: E402

sys.path.insert(0, osp.join(ROOT, 'tests', 'test_evaluation'))
from test_hypothesis_quality import HYPOTHESES, SCORES, TRUTHS  # noqa: E402

TOY = osp.join(ROOT, 'configs', 'reclip_toy.py')


@TASK_UTILS.register_module(force=True)
class ReadOffHypothesis(BaseHypothesis):
    """Image i (grey 10 * i) -> HYPOTHESES[i], scores SCORES[i] (10 of the
    toy world's classes: the rest score 0)."""

    def _index(self, clip, image):
        raw = image * hypothesis_clip(clip).std + hypothesis_clip(clip).mean
        return int(round(raw[0, 0, 0].item() / 10))

    def compute(self, clip, image):
        return HYPOTHESES[self._index(clip, image)]

    def scores(self, clip, image):
        out = torch.zeros(10)
        out[:4] = torch.tensor(SCORES[self._index(clip, image)])
        return out


def write_split(root, split, truths):
    for d in ('img_dir', 'ann_dir'):
        os.makedirs(osp.join(root, d, split), exist_ok=True)
    for i, classes in enumerate(truths):
        cv2.imwrite(osp.join(root, 'img_dir', split, f'{i:05d}.png'),
                    np.full((64, 64, 3), 10 * i, np.uint8))
        label = np.full((64, 64), 255, np.uint8)
        for j, c in enumerate(classes):
            label[8 * j:8 * j + 8, :8] = c
        cv2.imwrite(osp.join(root, 'ann_dir', split, f'{i:05d}.png'), label)


@pytest.fixture
def toy_root(tmp_path):
    root = str(tmp_path / 'toy')
    write_split(root, 'val', TRUTHS)
    write_split(root, 'train', [[5], [6], [7], [8]])
    return root


def run(root, tmp_path, *extra):
    out = str(tmp_path / 'hyp.json')
    results = analyze_hypotheses.main([
        TOY, '--device', 'cpu', '--out', out, '--cfg-options',
        f'val_dataloader.dataset.data_root={root}',
        f'train_dataloader.dataset.data_root={root}', *extra
    ])
    with open(out) as f:
        return results, json.load(f)


def test_known_answers(toy_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(HYPOTHESIS_TYPES, 'fake',
                        'ReadOffHypothesis')
    results, data = run(toy_root, tmp_path, '--types', 'fake')
    names = list(results['fake']['per_class'])
    expected = hypothesis_quality(HYPOTHESES, TRUTHS,
                                  np.pad(SCORES, ((0, 0), (0, 6))), names)
    got = data['results']['fake']
    for key in ('mean', 'micro'):
        assert got[key] == pytest.approx(expected[key])
    for name in names:
        assert got['per_class'][name] == pytest.approx(
            expected['per_class'][name], nan_ok=True)
    assert got['mean_hypothesis_size'] == 1.5
    assert data['results']['fake']['mean']['mAP'] == pytest.approx(
        (2 + 0.25 + 1 / 3) / 3)
    assert data['num_images'] == 4 and data['split'] == 'val'
    assert data['results']['fake']['ms_per_image'] >= 0
    printed = capsys.readouterr().out
    assert 'fake' in printed and '72.22' in printed  # mean precision


def test_limit_and_train_split(toy_root, tmp_path, monkeypatch):
    monkeypatch.setitem(HYPOTHESIS_TYPES, 'fake',
                        'ReadOffHypothesis')
    _, data = run(toy_root, tmp_path, '--types', 'fake', '--limit', '2')
    q = data['results']['fake']
    assert data['num_images'] == 2
    assert q['per_class'][list(q['per_class'])[0]]['images'] == 2
    # train labels hold classes 5-8, which no hypothesis has
    _, data = run(toy_root, tmp_path, '--types', 'fake', '--split', 'train')
    assert data['split'] == 'train'
    assert data['results']['fake']['micro']['precision'] == 0.0


def test_real_generators_match_direct_calls(toy_root, tmp_path):
    """The three real types on the toy CLIP: the tool's numbers are those
    of the generators called directly on the same images."""
    results, _ = run(toy_root, tmp_path, '--types', 'window', 'pixel',
                     'global', '--hyp-options', 'pixel.threshold=0.4')
    assert list(results) == ['window', 'pixel', 'global']
    assert results['pixel']['params']['threshold'] == 0.4
    assert results['window']['params']['window'] == 32  # the config's
    assert results['global']['params']['clip_size'] == 64  # shared key
    cfg = Config.fromfile(TOY)
    init_default_scope('mmseg')
    clip = hypothesis_clip(MODELS.build(cfg.model).eval())
    cfgs = generator_configs(
        cfg.model.hypothesis, list(results), {'pixel.threshold': 0.4})
    paths = [osp.join(toy_root, 'img_dir', 'val', f'{i:05d}.png')
             for i in range(4)]
    truths = [sorted(set(np.unique(cv2.imread(
        p.replace('img_dir', 'ann_dir'), cv2.IMREAD_UNCHANGED)).tolist())
        - {255}) for p in paths]
    assert truths == TRUTHS
    for name, gen_cfg in cfgs.items():
        gen = TASK_UTILS.build(gen_cfg)
        images = [gen.load_image(clip, p) for p in paths]
        with torch.no_grad():
            hyps = [gen.compute(clip, x) for x in images]
            scores = np.stack([gen.scores(clip, x).numpy() for x in images])
        direct = hypothesis_quality(hyps, truths, scores,
                                    list(results[name]['per_class']))
        assert results[name]['mean'] == pytest.approx(direct['mean'])
        assert results[name]['micro'] == pytest.approx(direct['micro'])


def test_generator_configs():
    model_hyp = dict(type='SlidingWindowHypothesis', window=32, clip_size=64,
                     batch_size=8, file='x.json')
    cfgs = generator_configs(
        model_hyp, ['window', 'pixel'], {'pixel.top_ratio': 0.2})
    assert cfgs['window'] == dict(type='SlidingWindowHypothesis', window=32,
                                  clip_size=64, batch_size=8)
    assert cfgs['pixel'] == dict(type='PixelTagHypothesis', clip_size=64,
                                 batch_size=8, top_ratio=0.2)
    with pytest.raises(KeyError, match='TYPE one of'):
        generator_configs(model_hyp, ['window'], {'global.threshold': 1})
    with pytest.raises(KeyError, match="unknown hypothesis type 'votes'"):
        generator_configs(model_hyp, ['votes'])


def test_missing_labels_are_named(tmp_path):
    root = str(tmp_path / 'nolabels')
    write_split(root, 'val', [[0]])
    os.remove(osp.join(root, 'ann_dir', 'val', '00000.png'))
    with pytest.raises(FileNotFoundError, match='needs labels'):
        run(root, tmp_path, '--types', 'pixel')


def test_tune_pixel_rows_equal_the_analysis(toy_root, tmp_path):
    """tools/tune_pixel_hypothesis.py: each grid row is what the analysis
    tool measures for that setting (same images, same labels)."""
    import tune_pixel_hypothesis
    rows = tune_pixel_hypothesis.main([
        TOY, '--split', 'val', '--scales', '10', '30', '--ratios', '0.05',
        '--thresholds', '0.1', '0.3', '--out', str(tmp_path / 'tune.json'),
        '--cfg-options', f'val_dataloader.dataset.data_root={toy_root}'
    ])
    assert len(rows) == 2 * 2 * 2  # scales x (max, top_mean) x thresholds
    assert [r['f1'] for r in rows] == sorted((r['f1'] for r in rows),
                                             reverse=True)
    for r in (rows[0], rows[-1]):
        opts = [f"pixel.{k}={r[k]}" for k in ('logit_scale', 'statistic',
                                               'top_ratio', 'threshold')]
        results, _ = run(toy_root, tmp_path, '--types', 'pixel',
                         '--hyp-options', *opts)
        assert results['pixel']['mean']['f1'] == pytest.approx(r['f1'])
        assert results['pixel']['mean']['mAP'] == pytest.approx(r['mAP'])

"""tools/benchmark.py on the tiny configs (figures themselves are not
asserted: timings are measured by hand, see README)."""
import json
import os.path as osp
import sys

import pytest
import torch
from mmseg.structures import SegDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))
import benchmark  # noqa: E402

TINY = osp.join(ROOT, 'configs', 'reclip_tiny_synthetic-voc.py')
TINY_MASKCLIP = osp.join(ROOT, 'configs', 'maskclip_tiny_synthetic-voc.py')


def test_benchmark_interleaves_and_writes_json(tmp_path, monkeypatch):
    order = []
    run = benchmark.Case.run

    def logged(case, step):
        order.append((case.name, step))
        return run(case, step)

    monkeypatch.setattr(benchmark.Case, 'run', logged)
    out = tmp_path / 'bench.json'
    benchmark.main([
        TINY, TINY_MASKCLIP, '--shape', '40', '56', '--floor', '--slide',
        '32', '16', '--warmup', '1', '--repeats', '2', '--out',
        str(out)
    ])
    data = json.loads(out.read_text())
    names = [
        'reclip_tiny_synthetic-voc', 'reclip_tiny_synthetic-voc slide 32/16',
        'maskclip_tiny_synthetic-voc', 'maskclip_tiny_synthetic-voc slide '
        '32/16', 'open_clip encode_image'
    ]
    assert list(data['cases']) == names
    for entry in data['cases'].values():
        assert entry['infer']['runs'] == 2
        assert entry['infer']['median_ms'] > 0
    assert data['cases'][names[0]]['infer']['ratio_to_first'] == 1.0
    # interleaved: each repeat runs every case once, in turn
    assert [n for n, _ in order] == names * 3


def test_benchmark_training_split(tmp_path):
    out = tmp_path / 'train.json'
    benchmark.main([
        TINY, '--mode', 'train', '--shape', '32', '32', '--batch-size', '2',
        '--warmup', '1', '--repeats', '2', '--hyp-shape', '48', '64',
        '--out',
        str(out)
    ])
    entry = json.loads(out.read_text())['cases']['reclip_tiny_synthetic-voc']
    assert set(entry) == {
        'train', 'train_visual', 'train_reference',
        'train_head_loss_backward_ms', 'hypothesis_uncached_ms_per_image'
    }
    assert entry['hypothesis_uncached_ms_per_image'] > 0


def test_reference_text_pass_once_per_iteration(monkeypatch):
    """Training runs the Reference prompt through the text tower once per
    iteration, whatever the batch size (shared by the batch)."""
    from mmengine.config import Config
    from mmseg.registry import MODELS
    model = MODELS.build(Config.fromfile(TINY).model)
    calls = []
    encode = model.decode_head.text_encoder.encode_embeddings
    monkeypatch.setattr(
        model.decode_head.text_encoder, 'encode_embeddings',
        lambda *a: calls.append(a[0].shape[0]) or encode(*a))
    model.train()
    for batch in (1, 4):
        samples = [
            SegDataSample(metainfo=dict(img_path=f'im{i}'))
            for i in range(batch)
        ]
        for i in range(batch):
            model.hypothesis.cache[f'im{i}'] = [1, 2]
        calls.clear()
        model.loss(torch.randn(batch, 3, 32, 32), samples)
        assert calls == [20]  # one pass of the K = 20 prompts


def test_benchmark_times_hypothesis_types_interleaved(tmp_path, monkeypatch):
    """--hyp-types: each type's compute on the same image, interleaved,
    in infer mode too; the window one is the config's own setting."""
    from reclip_mmseg.models.utils import (PixelTagHypothesis,
                                           SlidingWindowHypothesis)
    calls = []
    for cls in (SlidingWindowHypothesis, PixelTagHypothesis):
        compute = cls.compute

        def logged(self, clip, image, _compute=compute):
            calls.append((type(self).__name__, image.shape, image.sum()))
            return _compute(self, clip, image)

        monkeypatch.setattr(cls, 'compute', logged)
    out = tmp_path / 'hyp.json'
    benchmark.main([
        TINY, '--shape', '32', '32', '--warmup', '0', '--repeats', '1',
        '--hyp-shape', '40', '56', '--hyp-types', 'window', 'pixel',
        '--hyp-repeats', '2', '--out',
        str(out)
    ])
    entry = json.loads(out.read_text())['cases']['reclip_tiny_synthetic-voc']
    assert entry['hypothesis_window']['runs'] == 2
    assert entry['hypothesis_pixel']['runs'] == 2
    assert entry['hypothesis_window']['ratio_to_first'] == 1.0
    assert entry['hypothesis_pixel']['ratio_to_first'] == pytest.approx(
        entry['hypothesis_pixel']['median_ms'] /
        entry['hypothesis_window']['median_ms'])
    assert [c[0] for c in calls] == ['SlidingWindowHypothesis',
                                     'PixelTagHypothesis'] * 2
    assert all(c[1] == (3, 40, 56) and c[2] == calls[0][2] for c in calls)


def test_benchmark_last_block_rules_and_pamr(tmp_path, monkeypatch):
    """--last-blocks: one case per (config, rule), each model built with
    that rule; --pamr: the PAMR step alone on one image's K-class logits.
    Also a toy peer config (NACLIP + PAMR in postprocess_merged) runs."""
    from reclip_mmseg.models.backbones.last_block_rules import \
        LAST_BLOCK_RULES
    seen = {}
    run = benchmark.Case.run

    def logged(case, step):
        if step == 'pamr':
            seen[case.name] = (case.model.pamr.num_iter,
                               case.model.pamr.dilations,
                               tuple(case.logits.shape),
                               tuple(case.inputs.shape))
        else:
            seen[case.name] = case.model.backbone.last_block
        return run(case, step)

    monkeypatch.setattr(benchmark.Case, 'run', logged)
    rules = ['maskclip', 'sclip', 'clearclip', 'naclip', 'vanilla']
    toy = osp.join(ROOT, 'configs', 'toy', 'naclip-pamr_toy.py')
    out = tmp_path / 'rules.json'
    benchmark.main([
        TINY_MASKCLIP, '--last-blocks', *rules, '--shape', '32', '48',
        '--pamr', '21', '26', '--pamr-iters', '3', '--pamr-dilations', '1',
        '2', '--warmup', '0', '--repeats', '2', '--out',
        str(out)
    ])
    cases = json.loads(out.read_text())['cases']
    pamr = 'PAMR 3 iter d=(1,2) K=20 21x26'  # K: the tiny VOC's 20 classes
    names = [f'maskclip_tiny_synthetic-voc last_block={r}' for r in rules]
    assert list(cases) == names + [pamr]
    for name, rule in zip(names, rules):
        assert seen[name] is LAST_BLOCK_RULES[rule]
        assert cases[name]['infer']['runs'] == 2
    assert seen[pamr] == (3, (1, 2), (1, 20, 21, 26), (1, 3, 21, 26))
    assert cases[pamr]['pamr']['runs'] == 2
    assert cases[pamr]['pamr']['ratio_to_first'] is None  # no such step
    benchmark.main([toy, '--shape', '64', '64', '--warmup', '0',
                    '--repeats', '1', '--out', str(out)])
    assert json.loads(
        out.read_text())['cases']['naclip-pamr_toy']['infer']['runs'] == 1

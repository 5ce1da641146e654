"""HypothesisProgressHook: the first hypothesis pass logs images done, rate
and ETA (first iteration, then every interval_s), and once when complete."""
import types

import pytest

from reclip_mmseg.engine import HypothesisProgressHook
from reclip_mmseg.engine import hypothesis_progress_hook as hook_module


class Logger:

    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(msg)


def make_runner(num_images, hypothesis):
    model = types.SimpleNamespace(hypothesis=hypothesis)
    loader = types.SimpleNamespace(dataset=list(range(num_images)))
    return types.SimpleNamespace(
        model=model, train_dataloader=loader, logger=Logger())


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(hook_module.time, 'time', lambda: now[0])
    return now


def test_progress_eta_then_done(clock):
    hypothesis = types.SimpleNamespace(cache={}, file=None)
    runner = make_runner(10, hypothesis)
    hook = HypothesisProgressHook(interval_s=10)
    hook.before_train(runner)
    for step, (seconds, cached) in enumerate([(2, 2), (5, 4), (12, 6),
                                              (20, 10), (21, 10)]):
        clock[0] = 1000.0 + seconds
        hypothesis.cache = {i: [0] for i in range(cached)}
        hook.after_train_iter(runner, step)
    assert runner.logger.lines == [
        # first iteration: 2 images in 2 s -> 1 image/s, 8 left
        'class hypotheses (first pass over the training set): 2/10 images, '
        '1.0 images/s, ETA 8 s',
        # 5 s: within interval_s of the last line, skipped; 12 s: logged
        'class hypotheses (first pass over the training set): 6/10 images, '
        '0.5 images/s, ETA 8 s',
        'class hypotheses: all 10 training images have one (20 s); '
        'iterations get faster now',
    ]


@pytest.mark.parametrize('model', [
    types.SimpleNamespace(),  # MaskCLIP: no hypothesis generator
    types.SimpleNamespace(
        hypothesis=types.SimpleNamespace(cache={}, file='hyp.json')),
])
def test_silent_without_an_inline_hypothesis_pass(model, clock):
    runner = make_runner(10, None)
    runner.model = model
    hook = HypothesisProgressHook()
    hook.before_train(runner)
    hook.after_train_iter(runner, 0)
    assert runner.logger.lines == []


def test_in_default_runtime():
    from mmengine.config import Config
    cfg = Config.fromfile('reclip_mmseg::reclip_toy.py')
    assert dict(type='HypothesisProgressHook') in cfg.custom_hooks

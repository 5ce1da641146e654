import math
import time

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class HypothesisProgressHook(Hook):
    """Log the first pass of class hypotheses with progress and an ETA.

    ReCLIP++ computes each training image's class hypothesis the first time
    the image is drawn (a full CLIP pass over sliding windows, cached
    after). Until every image has one, iterations are several times slower
    than later ones and, with the logger's iteration interval, a run can be
    silent for a minute. This hook logs ``images with a hypothesis / training
    images``, the rate and the ETA after the first iteration and then every
    ``interval_s`` seconds, and once when the pass is complete. Nothing is
    logged for models without a hypothesis generator (MaskCLIP) or with a
    precomputed hypothesis file.

    Args:
        interval_s (float): Seconds between progress lines. Defaults to 10.
    """

    priority = 'LOW'

    def __init__(self, interval_s: float = 10.0):
        self.interval_s = interval_s
        self._hypothesis = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        hypothesis = getattr(model, 'hypothesis', None)
        if hypothesis is None or getattr(hypothesis, 'file', None):
            return
        self._hypothesis = hypothesis
        # each process draws its own shard of the training set
        self._total = math.ceil(
            len(runner.train_dataloader.dataset) / get_world_size())
        self._start = time.time()
        self._first = len(hypothesis.cache)
        self._last_log = None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self._hypothesis is None:
            return
        done = min(len(self._hypothesis.cache), self._total)
        now = time.time()
        elapsed = now - self._start
        if done >= self._total:
            runner.logger.info(
                f'class hypotheses: all {self._total} training images have '
                f'one ({elapsed:.0f} s); iterations get faster now')
            self._hypothesis = None
            return
        if (self._last_log is not None
                and now - self._last_log < self.interval_s):
            return
        self._last_log = now
        rate = (done - self._first) / max(elapsed, 1e-9)
        eta = (f'{(self._total - done) / rate:.0f} s'
               if rate > 0 else 'unknown')
        runner.logger.info(
            f'class hypotheses (first pass over the training set): '
            f'{done}/{self._total} images, {rate:.1f} images/s, ETA {eta}')

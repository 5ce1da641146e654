"""Exact resume: every random number generator travels with the checkpoint."""
import logging
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

KEY = 'rng_state'


def get_rng_state() -> dict:
    """Python's, numpy's and torch's (CPU and every CUDA device) global RNG
    states, in plain types (a weights-only load reads them)."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=[version, list(internal), gauss],
        numpy=[name,
               keys.tolist(),
               int(pos),
               int(has_gauss),
               float(cached)],
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state`."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state(
        (name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        states = state['cuda']
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in states])
        else:
            print_log(
                f'resume: the checkpoint has CUDA RNG states of {len(states)}'
                f' devices, this machine has {torch.cuda.device_count()}; '
                'CUDA random numbers will differ from an uninterrupted run.',
                'current', logging.WARNING)


class _RestoreAfterSkip:
    """Dataloader iterator proxy: after ``skip`` batches (mmengine's resume
    replays the batches already trained on), restore the saved RNG states,
    so the next batch and every later step draw what they would have drawn
    in an uninterrupted run."""

    def __init__(self, iterator, skip: int, state: dict):
        self.iterator, self.left, self.state = iterator, skip, state

    def __iter__(self):
        return self

    def __next__(self):
        if self.left == 0 and self.state is not None:
            set_rng_state(self.state)
            self.state = None
        self.left -= 1
        return next(self.iterator)

    def __getattr__(self, name):
        return getattr(self.iterator, name)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the RNG states with each checkpoint; restore them on resume.

    mmengine's resume re-seeds from ``randomness.seed``, so after
    ``--resume`` torch's generator restarts and iterations N+1.. reuse the
    Gumbel noise (and any other torch/numpy/python draw) of iterations 1..
    This hook stores Python's, numpy's and torch's states (CPU and CUDA)
    under ``checkpoint['rng_state']`` and, on resume, sets them back after
    the dataloader has replayed the batches already trained on, i.e.
    exactly where the saving run stood. Validation during training leaves
    the states as it found them (it draws a dataloader seed from torch), so
    a run continues the same whether or not it validated or was resumed.
    Distributed runs save rank 0's states; every rank restores them. A
    checkpoint without the states (written before this hook) resumes with
    a warning that it is not exact.
    """

    priority = 'VERY_LOW'  # after_load: once other hooks have read it

    def __init__(self):
        self._loaded = None
        self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[KEY] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = dict(state=checkpoint.get(KEY))

    def before_train_epoch(self, runner) -> None:
        loaded, self._loaded = self._loaded, None
        loop = runner.train_loop
        if loaded is None or (loop.iter == 0 and loop.epoch == 0):
            return  # nothing loaded, or load_from (weights only)
        if loaded['state'] is None:
            print_log(
                'resume: the checkpoint holds no RNG states (written without '
                'RNGStateHook), so random draws after resuming differ from '
                'an uninterrupted run.', 'current', logging.WARNING)
        elif hasattr(loop, 'dataloader_iterator') and loop.iter > 0:
            # IterBasedTrainLoop: next() is called `iter` times to skip data.
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop.dataloader_iterator, loop.iter, loaded['state'])
        else:  # epoch-based: a new epoch starts, nothing is replayed
            set_rng_state(loaded['state'])

    def before_val(self, runner) -> None:
        self._before_val = get_rng_state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            set_rng_state(self._before_val)
            self._before_val = None

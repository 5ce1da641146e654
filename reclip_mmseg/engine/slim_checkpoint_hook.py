"""Checkpoints hold the trained part only; CLIP comes from ``pretrained``."""
import logging

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ..models.utils import frozen_clip_prefixes, slim_state_dict


@HOOKS.register_module()
class SlimCheckpointHook(Hook):
    """Leave the frozen CLIP towers out of saved checkpoints.

    A ReCLIP++ checkpoint then stores the trainable parameters and buffers
    (Reference context, positional projection, decoder and its BN), the
    optimizer and loop state, and ``meta``: ~3 MB + optimizer state for the
    VOC config instead of ~600 MB. Each omitted tower is listed in
    ``meta['omitted_frozen_clip']`` (state-dict prefix -> ``pretrained``);
    on loading, the model keeps the weights its ``pretrained`` gave it
    (:func:`reclip_mmseg.models.utils.omit_in_checkpoints`). Towers with
    ``pretrained=None`` (random weights) are always saved.

    Args:
        full (bool): Save every weight, frozen CLIP included (a checkpoint
            that does not depend on ``pretrained``). ``tools/train.py
            --full-checkpoint`` sets it. Defaults to False.
    """

    priority = 'VERY_LOW'  # after hooks that add to the checkpoint

    def __init__(self, full: bool = False):
        self.full = full

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.full or 'state_dict' not in checkpoint:
            return
        omitted = frozen_clip_prefixes(runner.model)
        if not omitted:
            return
        checkpoint['state_dict'] = slim_state_dict(checkpoint['state_dict'],
                                                   runner.model)
        checkpoint.setdefault('meta', {})['omitted_frozen_clip'] = omitted

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Warn when CLIP now comes from other weights than in training."""
        saved = (checkpoint.get('meta') or {}).get('omitted_frozen_clip')
        if not saved:
            return
        now = frozen_clip_prefixes(runner.model, with_random=True)
        differ = {k: (v, now.get(k)) for k, v in saved.items()
                  if now.get(k) != v}
        if differ:
            print_log(
                'The checkpoint leaves CLIP out and was trained with other '
                'CLIP weights than this model loads: ' + '; '.join(
                    f'{k}: trained with {a!r}, now {b!r}'
                    for k, (a, b) in differ.items()) +
                '. Results may differ; set `pretrained` as in training.',
                'current', logging.WARNING)

"""Checkpoints hold the trained part only; CLIP comes from ``pretrained``."""
from mmengine.hooks import Hook
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

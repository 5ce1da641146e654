"""Prompt denoising (MaskCLIP / ReCLIP++ "PD"), a post-processing step."""
from typing import List

import torch
from mmseg.registry import TASK_UTILS
from torch import Tensor

#: Error for the keys prompt denoising was configured with before issue 18.
PD_MOVED = ('pd_threshold was moved: configure prompt denoising as '
            "model.test_cfg.postprocess=[dict(type='PromptDenoise', "
            'threshold=...)] (README "Post-processing")')


def prompt_denoise(logits: Tensor,
                   threshold: float,
                   scale: float = 10.0) -> Tensor:
    """Suppress classes that are nowhere confident.

    A class whose spatial maximum of ``softmax(scale * logits)`` is below
    ``threshold`` gets logit -100 everywhere (MaskCLIP; ReCLIP++ released
    code, on the head's logits at feature resolution).

    Args:
        logits (Tensor): ``(B, K, h, w)``.
        threshold (float): Confidence a class must reach somewhere.
        scale (float): Softmax temperature multiplier. Defaults to 10.

    Returns:
        Tensor: ``(B, K, h, w)``.
    """
    peak = torch.softmax(scale * logits, dim=1).amax(dim=(2, 3))
    return logits.masked_fill((peak < threshold)[..., None, None], -100.0)


@TASK_UTILS.register_module()
class PromptDenoise:
    """Post-processing step wrapping :func:`prompt_denoise`.

    Released thresholds: VOC 1.0, Context 0.85, ADE 0.5, Cityscapes 0.5,
    COCO-Stuff-27 0.95.

    Args:
        threshold (float): Confidence a class must reach somewhere.
        scale (float): Softmax temperature multiplier. Defaults to 10.
    """

    def __init__(self, threshold: float, scale: float = 10.0):
        self.threshold = threshold
        self.scale = scale

    def __call__(self, seg_logits: Tensor, inputs: Tensor,
                 batch_img_metas: List[dict]) -> Tensor:
        """``(B, K, h, w)`` logits denoised; ``inputs`` are not needed."""
        return prompt_denoise(seg_logits, self.threshold, self.scale)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(threshold={self.threshold}, '
                f'scale={self.scale})')

"""Class hypotheses from pixels: one dense pass per image (TTD's tag
selection, Jo et al. 2024, "single tag bias").

CLIP's global embedding favours one tag per image; TTD finds the tags an
image holds from their similarity to the nearest (best-matching) pixels
instead. Here the frozen backbone's dense features of the whole original
image (one pass, any size, whatever last-block rule the backbone is
configured with) give per-pixel class probabilities, and a class is in the
hypothesis when a statistic of its probabilities passes a threshold.
"""
from typing import List, Optional

import torch.nn.functional as F
from mmseg.registry import TASK_UTILS
from torch import Tensor

from .hypothesis import BaseHypothesis
from .hypothesis_clip import hypothesis_clip
from .hypothesis_rules import RELEVANCE_STATISTICS, relevance_hypothesis


@TASK_UTILS.register_module()
class PixelTagHypothesis(BaseHypothesis):
    """Classes whose pixel-level relevance passes a threshold (TTD).

    One backbone pass over the original normalised image ``(3, H, W)``
    (optionally resized so its short side is ``short_side``) gives dense
    features ``(D, h, w)`` on the patch grid (the backbone's right/bottom
    padding included). Per patch the class probabilities are
    ``softmax_k(logit_scale * cos(dense, Query_k))``; a class's relevance is
    ``statistic`` of its ``h * w`` probabilities: ``'top_mean'`` the mean of
    its ``top_ratio`` best patches (at least one), ``'max'`` the best one
    (:data:`~.hypothesis_rules.RELEVANCE_STATISTICS`). Classes with
    relevance >= ``threshold`` form the hypothesis, else the
    ``fallback_topk`` most relevant ones. No global embedding, no windows:
    about the cost of one inference forward.

    The defaults (logit scale 10, mean of the best 2% of patches, threshold
    0.15) were chosen on the toy world's TRAIN split by mean F1
    (``tools/tune_pixel_hypothesis.py``, README "Which hypothesis"); they are
    not measured on a real CLIP. On another CLIP or dataset choose them on
    training images the same way.

    Args:
        statistic (str): ``'top_mean'`` or ``'max'``. Defaults to
            ``'top_mean'``.
        top_ratio (float): Fraction of patches ``'top_mean'`` averages, in
            (0, 1]. Defaults to 0.02.
        threshold (float): Relevance a class needs, in [0, 1]. Defaults to
            0.15.
        fallback_topk (int): Classes kept when none passes. Defaults to 1.
        short_side (int, optional): Resize the image (bilinear, aspect kept)
            so its short side is this before the pass; None keeps the
            original size. Defaults to None.
        logit_scale (float): Scale of the cosines before the softmax over
            classes. Defaults to 10.
        **kwargs: ``file``, ``backend_args`` of :class:`BaseHypothesis`
            (``clip_size`` and ``batch_size`` are not used).
    """

    def __init__(self,
                 statistic: str = 'top_mean',
                 top_ratio: float = 0.02,
                 threshold: float = 0.15,
                 fallback_topk: int = 1,
                 short_side: Optional[int] = None,
                 logit_scale: float = 10.0,
                 **kwargs):
        super().__init__(logit_scale=logit_scale, **kwargs)
        if statistic not in RELEVANCE_STATISTICS:
            raise KeyError(f'unknown statistic {statistic!r}; known: '
                           f'{sorted(RELEVANCE_STATISTICS)}')
        if not 0 < top_ratio <= 1:
            raise ValueError(f'top_ratio must be in (0, 1], got {top_ratio}')
        if fallback_topk < 1:
            raise ValueError(f'fallback_topk must be >= 1, got '
                             f'{fallback_topk}')
        if short_side is not None and short_side < 1:
            raise ValueError(f'short_side must be >= 1 or None, got '
                             f'{short_side}')
        self.statistic = statistic
        self.top_ratio = top_ratio
        self.threshold = threshold
        self.fallback_topk = fallback_topk
        self.short_side = short_side

    def params(self) -> dict:
        return dict(
            logit_scale=self.logit_scale,
            statistic=self.statistic,
            top_ratio=self.top_ratio,
            threshold=self.threshold,
            fallback_topk=self.fallback_topk,
            short_side=self.short_side)

    def fingerprint(self, clip) -> dict:
        """:meth:`BaseHypothesis.fingerprint` plus the backbone's dense
        setting (last-block rule, its options, positional resize)."""
        return dict(
            super().fingerprint(clip),
            dense=hypothesis_clip(clip).dense_setting)

    def pixel_cosines(self, clip, image: Tensor) -> Tensor:
        """``(K, h * w)`` cosine of each patch's dense feature of
        ``(3, H, W)`` with each class's Query feature."""
        clip = hypothesis_clip(clip)
        if clip.encode_dense is None:
            raise TypeError('PixelTagHypothesis needs the backbone\'s dense '
                            'features (HypothesisCLIP.encode_dense is None)')
        x = image[None]
        if self.short_side is not None:
            h, w = x.shape[-2:]
            ratio = self.short_side / min(h, w)
            x = F.interpolate(
                x, (max(1, round(h * ratio)), max(1, round(w * ratio))),
                mode='bilinear',
                align_corners=False)
        dense = clip.encode_dense(x)[0].flatten(1)  # (D, h*w)
        query = clip.query_features().to(dense.dtype)
        return (query @ F.normalize(dense, dim=0)).float()

    def pixel_probs(self, clip, image: Tensor) -> Tensor:
        """``(K, h * w)`` per-patch class probabilities of ``(3, H, W)``."""
        return (self.logit_scale *
                self.pixel_cosines(clip, image)).softmax(dim=0)

    def scores(self, clip, image: Tensor) -> Tensor:
        """``(K,)`` relevance of each class, what ``threshold`` applies to."""
        return RELEVANCE_STATISTICS[self.statistic](
            self.pixel_probs(clip, image), self.top_ratio)

    def compute(self, clip, image: Tensor) -> List[int]:
        return relevance_hypothesis(
            self.scores(clip, image), self.threshold, self.fallback_topk)


__all__ = ['PixelTagHypothesis']

"""Pure rules of the hypothesis generators: window layout, votes,
thresholds (ReCLIP++ / ReCLIP released code), pixel-level relevance (TTD)."""
import math
from typing import Callable, Dict, List

import torch
from torch import Tensor


def window_boxes(height: int, width: int, window: int,
                 stride: int) -> List[tuple]:
    """Boxes ``(y0, x0, y1, x1)`` of a sliding window covering the image.

    Windows start every ``stride`` pixels; a last window is aligned to the
    bottom/right border if the stride does not reach it. An image smaller
    than the window gives one box, the whole image.
    """

    def starts(size):
        if size <= window:
            return [0]
        out = list(range(0, size - window + 1, stride))
        if out[-1] != size - window:
            out.append(size - window)
        return out

    return [(y, x, min(y + window, height), min(x + window, width))
            for y in starts(height) for x in starts(width)]


def vote_hypothesis(window_logits: Tensor, min_votes: int) -> List[int]:
    """Classes voted top-1 by at least ``min_votes`` windows.

    Args:
        window_logits (Tensor): ``(N, K)`` logits of N windows.
        min_votes (int): Votes a class needs (released code: 1).

    Returns:
        list[int]: Sorted class indices (may be empty).
    """
    k = window_logits.shape[1]
    votes = torch.bincount(window_logits.argmax(dim=1), minlength=k)
    return torch.nonzero(votes >= min_votes).flatten().tolist()


def threshold_hypothesis(logits: Tensor, threshold: float,
                         topk: int) -> List[int]:
    """ReCLIP: classes with image logit >= threshold, else the top-k."""
    classes = torch.nonzero(logits >= threshold).flatten().tolist()
    if not classes:
        classes = sorted(logits.topk(topk).indices.tolist())
    return classes


# -- pixel-level tag relevance (TTD: tags from their nearest pixels) -------
def top_mean_relevance(probs: Tensor, top_ratio: float) -> Tensor:
    """Per class, the mean of its ``top_ratio`` highest pixel probabilities.

    Args:
        probs (Tensor): ``(K, N)`` per-pixel class probabilities.
        top_ratio (float): Fraction of the N pixels, in (0, 1]; at least
            one pixel is kept (``ceil(top_ratio * N)``).

    Returns:
        Tensor: ``(K,)`` relevances in [0, 1].
    """
    n = max(1, math.ceil(top_ratio * probs.shape[1] - 1e-9))
    return probs.topk(n, dim=1).values.mean(dim=1)


def max_relevance(probs: Tensor, top_ratio: float) -> Tensor:
    """Per class, its highest pixel probability (``top_ratio`` unused)."""
    return probs.max(dim=1).values


#: Relevance statistics by name (``PixelTagHypothesis(statistic=...)``);
#: adding one touches this table only.
RELEVANCE_STATISTICS: Dict[str, Callable[[Tensor, float], Tensor]] = dict(
    top_mean=top_mean_relevance, max=max_relevance)


def relevance_hypothesis(relevance: Tensor, threshold: float,
                         fallback_topk: int) -> List[int]:
    """Classes with relevance >= threshold, else the top-``fallback_topk``
    by relevance; sorted class indices."""
    classes = torch.nonzero(relevance >= threshold).flatten().tolist()
    if not classes:
        classes = sorted(relevance.topk(fallback_topk).indices.tolist())
    return classes

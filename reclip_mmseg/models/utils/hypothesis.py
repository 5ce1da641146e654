"""Image-level multi-label hypotheses: which classes an image holds.

Computed from the ORIGINAL training image (read again from its file, never
its label) by the frozen CLIP, so once per image: results are kept in memory
for the whole run, and can be written to / read from a JSON file
(``tools/precompute_hypotheses.py``) whose fingerprint (method, parameters,
CLIP, class names) must match the model's, or it is rejected.

Generators are ``TASK_UTILS`` (mmseg's registry for non-module helpers) and
see only a :class:`HypothesisCLIP` view of the segmentor; every method that
takes ``clip`` also accepts the segmentor itself (converted by
:func:`hypothesis_clip`).
"""
import json
import logging
from typing import Dict, List, Optional, Sequence

import mmcv
import torch
import torch.nn.functional as F
from mmengine import fileio
from mmengine.logging import print_log
from mmseg.registry import TASK_UTILS
from torch import Tensor

from .hypothesis_clip import HypothesisCLIP, hypothesis_clip
from .hypothesis_file import file_digest, read_hypothesis_file
from .hypothesis_rules import (threshold_hypothesis, vote_hypothesis,
                               window_boxes)


class BaseHypothesis:
    """Cache and file handling shared by the hypothesis generators.

    Args:
        file (str, optional): JSON written by
            ``tools/precompute_hypotheses.py``; used instead of computing,
            after its fingerprint is checked.
        clip_size (int): Side the images/windows are resized to for CLIP.
        batch_size (int): Windows per CLIP batch.
        logit_scale (float): CLIP logit scale. Defaults to 100.
        backend_args (dict, optional): mmengine file backend the images are
            read with; set it to the training dataset's ``backend_args``
            (e.g. a Petrel or HTTP backend). Defaults to None (local files).
            Not part of the fingerprint: it does not change a result.
    """

    def __init__(self,
                 file: Optional[str] = None,
                 clip_size: int = 224,
                 batch_size: int = 64,
                 logit_scale: float = 100.0,
                 backend_args: Optional[dict] = None):
        self.file = file
        self.backend_args = backend_args
        self.clip_size = clip_size
        self.batch_size = batch_size
        self.logit_scale = logit_scale
        self.cache: Dict[str, List[int]] = {}
        self._file_checked = False

    # -- what makes a result valid ---------------------------------------
    def params(self) -> dict:
        return dict(clip_size=self.clip_size, logit_scale=self.logit_scale)

    def fingerprint(self, clip) -> dict:
        """Method, parameters, CLIP setting and weights, class names."""
        clip = hypothesis_clip(clip)
        return dict(
            method=type(self).__name__,
            params=self.params(),
            clip_model=clip.clip_model,
            pretrained=clip.pretrained,
            weights=file_digest(clip.pretrained),
            class_names=[n if isinstance(n, str) else list(n)
                         for n in clip.class_names])

    def _load_file(self, clip: HypothesisCLIP) -> None:
        self.cache.update(
            read_hypothesis_file(self.file, self.fingerprint(clip),
                                 len(clip.class_names)))
        self._file_checked = True

    def save(self, path: str, clip) -> None:
        """Write the cached hypotheses and their fingerprint as JSON."""
        with open(path, 'w') as f:
            json.dump(
                dict(
                    fingerprint=self.fingerprint(clip),
                    hypotheses=self.cache),
                f,
                indent=0)

    # -- computing ------------------------------------------------------
    def load_image(self, clip, img_path: str) -> Tensor:
        """The original image ``(3, H, W)``, read through mmengine's file
        backend (``backend_args``) and normalised as the data preprocessor
        does."""
        clip = hypothesis_clip(clip)
        try:
            img = mmcv.imfrombytes(
                fileio.get(img_path, backend_args=self.backend_args),
                flag='color')
        except Exception as e:  # noqa: BLE001  (decoder errors vary)
            raise ValueError(f'cannot decode image {img_path}: {e}') from e
        if img is None:
            raise ValueError(f'cannot decode image {img_path}')
        x = torch.from_numpy(img).to(clip.device).permute(2, 0, 1).float()
        if clip.bgr_to_rgb:
            x = x[[2, 1, 0]]
        if clip.mean is not None:
            x = (x - clip.mean) / clip.std
        return x

    def _global_logits(self, clip, crops: Tensor) -> Tensor:
        """``(N, K)`` scaled cosine logits of CLIP global embeddings of
        ``(N, 3, h, w)`` crops (each resized to ``clip_size``)."""
        clip = hypothesis_clip(clip)
        query = clip.query_features()
        out = []
        for chunk in crops.split(self.batch_size):
            chunk = F.interpolate(
                chunk, (self.clip_size, self.clip_size),
                mode='bilinear',
                align_corners=False)
            emb = clip.encode_crops(chunk)
            out.append(self.logit_scale * F.normalize(emb, dim=-1) @
                       query.to(emb.dtype).T)
        return torch.cat(out)

    def compute(self, clip, image: Tensor) -> List[int]:
        """Class indices of one normalised image ``(3, H, W)``."""
        raise NotImplementedError

    def scores(self, clip, image: Tensor) -> Tensor:
        """``(K,)`` per-class scores the rule thresholds (higher = more
        likely present), for ranking in ``tools/analyze_hypotheses.py``."""
        raise NotImplementedError

    def _from_input(self, clip, sample, image: Tensor) -> List[int]:
        if not getattr(self, '_logged_from_input', False):
            print_log(
                'training samples without img_path: class hypotheses are '
                'computed from each (augmented) input tensor, every '
                'iteration, not from the original image file',
                'current', logging.INFO)
            self._logged_from_input = True
        h, w = sample.metainfo.get('img_shape', image.shape[-2:])[:2]
        return self.compute(clip, image[:, :h, :w].float())

    @torch.no_grad()
    def __call__(self,
                 clip,
                 data_samples,
                 inputs: Optional[Tensor] = None) -> List[List[int]]:
        """Hypothesis of each data sample (by ``img_path``), cached.

        ``clip`` is the segmentor's :class:`HypothesisCLIP` (or the
        segmentor).

        A sample without ``img_path`` (in-memory inputs, e.g. a
        ``LoadImageFromNDArray`` pipeline) gets the hypothesis of its input
        tensor ``inputs[i]`` itself, cropped to ``img_shape`` (the padding
        removed). That tensor is already in the space :meth:`load_image`
        produces (the data preprocessor's channel order and normalisation),
        but it is the augmented crop, not the original image, and it is not
        cached.
        """
        clip = hypothesis_clip(clip)
        if self.file and not self._file_checked:
            self._load_file(clip)
        results = []
        for i, sample in enumerate(data_samples):
            path = sample.metainfo.get('img_path')
            if path is None:
                if inputs is None:
                    raise KeyError('data sample has no img_path: the '
                                   'hypothesis is computed from the original '
                                   'image file (or pass the input tensors)')
                results.append(self._from_input(clip, sample, inputs[i]))
                continue
            if path not in self.cache:
                if self.file:
                    raise KeyError(f'{path} is not in hypothesis file '
                                   f'{self.file}; regenerate it')
                self.cache[path] = self.compute(clip,
                                                self.load_image(clip, path))
            results.append(self.cache[path])
        return results


@TASK_UTILS.register_module()
class SlidingWindowHypothesis(BaseHypothesis):
    """ReCLIP++ hypothesis: top-1 votes of CLIP over sliding windows.

    Windows of ``window`` px every ``stride`` px over the original image
    (released code: crop_size / 6 and half of it), each resized to
    ``clip_size`` and classified by CLIP's global embedding against the
    Query features; classes with at least ``min_votes`` votes form the
    hypothesis (released: 1; the paper describes a frequency threshold).
    If none qualifies, the top-``fallback_topk`` classes of the whole image.

    Args:
        window (int): Window side in pixels. Defaults to 56 (VOC: 336 / 6).
        stride (int): Window stride. Defaults to 28.
        min_votes (int): Votes needed. Defaults to 1.
        fallback_topk (int): k of the image-level fallback. Defaults to 1.
        **kwargs: See :class:`BaseHypothesis`.
    """

    def __init__(self,
                 window: int = 56,
                 stride: int = 28,
                 min_votes: int = 1,
                 fallback_topk: int = 1,
                 **kwargs):
        super().__init__(**kwargs)
        if window < 1 or stride < 1 or min_votes < 1 or fallback_topk < 1:
            raise ValueError('window, stride, min_votes and fallback_topk '
                             'must be >= 1')
        self.window = window
        self.stride = stride
        self.min_votes = min_votes
        self.fallback_topk = fallback_topk

    def params(self) -> dict:
        return dict(
            super().params(),
            window=self.window,
            stride=self.stride,
            min_votes=self.min_votes,
            fallback_topk=self.fallback_topk)

    def window_logits(self, clip, image: Tensor) -> Tensor:
        """``(N, K)`` logits of the N windows of ``(3, H, W)``."""
        boxes = window_boxes(image.shape[1], image.shape[2], self.window,
                             self.stride)
        crops = [
            F.interpolate(
                image[None, :, y0:y1, x0:x1], (self.window, self.window),
                mode='bilinear',
                align_corners=False) if (y1 - y0, x1 - x0) !=
            (self.window, self.window) else image[None, :, y0:y1, x0:x1]
            for y0, x0, y1, x1 in boxes
        ]
        return self._global_logits(clip, torch.cat(crops))

    def scores(self, clip, image: Tensor) -> Tensor:
        """``(K,)`` top-1 votes of each class, what ``min_votes`` applies
        to (``tools/analyze_hypotheses.py`` ranks images by them)."""
        logits = self.window_logits(clip, image)
        return torch.bincount(
            logits.argmax(dim=1), minlength=logits.shape[1]).float()

    def compute(self, clip, image: Tensor) -> List[int]:
        clip = hypothesis_clip(clip)
        logits = self.window_logits(clip, image)
        classes = vote_hypothesis(logits, self.min_votes)
        if not classes:
            whole = self._global_logits(clip, image[None])[0]
            classes = sorted(whole.topk(self.fallback_topk).indices.tolist())
        return classes


@TASK_UTILS.register_module()
class GlobalThresholdHypothesis(BaseHypothesis):
    """ReCLIP (conference version): image logit >= threshold, else top-k.

    Released values: VOC 23 / 2, Context 20 / 6, ADE 21 / 5, Cityscapes
    21.5 / 2, COCO 20 / 8 (threshold on ``logit_scale`` * cosine).

    Args:
        threshold (float): Logit threshold. Defaults to 23 (VOC).
        topk (int): Fallback k. Defaults to 2 (VOC).
        **kwargs: See :class:`BaseHypothesis`.
    """

    def __init__(self, threshold: float = 23.0, topk: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.threshold = threshold
        self.topk = topk

    def params(self) -> dict:
        return dict(
            super().params(), threshold=self.threshold, topk=self.topk)

    def scores(self, clip, image: Tensor) -> Tensor:
        """``(K,)`` image logits, what ``threshold`` applies to."""
        return self._global_logits(clip, image[None])[0]

    def compute(self, clip, image: Tensor) -> List[int]:
        logits = self._global_logits(clip, image[None])[0]
        return threshold_hypothesis(logits, self.threshold, self.topk)


__all__: Sequence[str] = [
    'window_boxes', 'vote_hypothesis', 'threshold_hypothesis',
    'SlidingWindowHypothesis', 'GlobalThresholdHypothesis'
]

from typing import List

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS, TASK_UTILS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from ..postprocess import PD_MOVED, PostProcessChain
from ..utils import hypothesis_clip


def check_dims(backbone, head) -> None:
    """Raise at build time when the head cannot read the backbone's output:
    the CLIP embedding dim D (dense features vs the head's ``in_channels``
    and text tower) and the ViT width C (positional embedding vs the head's
    ``pos_channels``). Otherwise the first iteration fails in a matmul."""
    problems = []
    dim = getattr(backbone, 'embed_dim', None)
    if dim is not None and dim != head.in_channels:
        clip = getattr(backbone, 'clip_model', None)
        problems.append(
            f'the backbone (clip_model={clip!r}) gives {dim}-dim features '
            'but model.decode_head.in_channels is '
            f'{head.in_channels} (the head\'s CLIP text embedding dim): '
            'backbone and head need the same CLIP')
    width = getattr(backbone, 'width', None)
    pos_proj = getattr(head, 'pos_proj', None)
    if width is not None and pos_proj is not None and \
            pos_proj.in_channels != width:
        problems.append(
            f'model.decode_head.pos_channels is {pos_proj.in_channels} but '
            f'the backbone ViT is {width} wide (its positional embedding '
            f'has {width} channels): set pos_channels={width}')
    if problems:
        raise ValueError('; '.join(problems))


@MODELS.register_module()
class ReCLIPPlusPlus(EncoderDecoder):
    """ReCLIP++ segmentor: an ``EncoderDecoder`` whose training step first
    attaches each image's multi-label class hypothesis to its data sample.

    Inference (whole or slide, ``test_cfg.mode``) and post-processing are
    ``EncoderDecoder``'s own, with one hook: ``test_cfg.postprocess``, a list
    of registered steps (:class:`PostProcessChain`, e.g. ``PromptDenoise``)
    applied to the head's logits in :meth:`encode_decode`. Training never
    reads labels: the hypothesis comes from the frozen CLIP on the original
    image (cached per image).

    Args:
        hypothesis (dict): Config of the hypothesis generator, e.g.
            ``dict(type='SlidingWindowHypothesis', window=56, stride=28)``
            (ReCLIP++) or ``dict(type='GlobalThresholdHypothesis')`` (ReCLIP).
        **kwargs: ``EncoderDecoder`` arguments (backbone ``MaskCLIPViT``,
            decode_head ``BiasRectificationHead``, ...).
    """

    def __init__(self,
                 *,
                 hypothesis: ConfigType = dict(type='SlidingWindowHypothesis'),
                 **kwargs):
        super().__init__(**kwargs)
        check_dims(self.backbone, self.decode_head)
        self.hypothesis = TASK_UTILS.build(hypothesis)
        test_cfg = self.test_cfg or {}
        if 'pd_threshold' in test_cfg:
            raise ValueError(PD_MOVED)
        self.postprocess = PostProcessChain(test_cfg.get('postprocess', ()))
        self.out_channels = self.postprocess.out_channels(self.out_channels)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Logits ``(B, K, H, W)`` of ``(B, 3, H, W)`` inputs: the head's
        ``(B, K, h, w)`` logits, the post-processing chain (with the inputs
        and metas), then resized to the input (``EncoderDecoder``'s,
        with the chain added)."""
        x = self.extract_feat(inputs)
        logits = self.decode_head.predict_logits(x, self.test_cfg)
        logits = self.postprocess(logits, inputs, batch_img_metas)
        return self.decode_head.resize_logits(logits, batch_img_metas)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Attach hypotheses, then ``EncoderDecoder.loss``."""
        for sample, classes in zip(
                data_samples,
                self.hypothesis(hypothesis_clip(self), data_samples, inputs)):
            sample.set_metainfo(dict(hypothesis=classes))
        return super().loss(inputs, data_samples)

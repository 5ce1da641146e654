from mmseg.registry import MODELS, TASK_UTILS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from ..utils import hypothesis_clip
from .clip_segmentor import CLIPSegmentor


@MODELS.register_module()
class ReCLIPPlusPlus(CLIPSegmentor):
    """ReCLIP++ segmentor: a :class:`CLIPSegmentor` whose training step first
    attaches each image's multi-label class hypothesis to its data sample.

    Inference (whole or slide, ``test_cfg.mode``) and the post-processing
    chain (``test_cfg.postprocess``) are :class:`CLIPSegmentor`'s. Training
    never reads labels: the hypothesis comes from the frozen CLIP on the
    original image (cached per image).

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
        self.hypothesis = TASK_UTILS.build(hypothesis)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Attach hypotheses, then ``EncoderDecoder.loss``."""
        for sample, classes in zip(
                data_samples,
                self.hypothesis(hypothesis_clip(self), data_samples, inputs)):
            sample.set_metainfo(dict(hypothesis=classes))
        return super().loss(inputs, data_samples)

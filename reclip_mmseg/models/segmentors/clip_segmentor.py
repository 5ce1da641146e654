from typing import List, Optional

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from ...compat import identity_resize_skipped
from ..postprocess import PD_MOVED, PostProcessChain


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
class CLIPSegmentor(EncoderDecoder):
    """The segmentor of every CLIP method here (the training-free MaskCLIP
    baseline; :class:`ReCLIPPlusPlus` subclasses it).

    ``EncoderDecoder`` with three additions, no copies of its inference:
    backbone and head are checked to read the same CLIP at build time; the
    test-time post-processing chain ``test_cfg.postprocess`` (a list of
    registered steps, :class:`PostProcessChain`, e.g. ``PromptDenoise``) runs
    on the head's logits in :meth:`encode_decode`, where the input images
    and their metas are at hand; and ``postprocess_result`` skips its resize
    when the logits already have the original size (exact: that resize is
    the identity; see :func:`reclip_mmseg.compat.identity_resize_skipped`).

    Args:
        **kwargs: ``EncoderDecoder`` arguments (backbone ``MaskCLIPViT``,
            decode_head ``MaskCLIPHead`` or ``BiasRectificationHead``, ...).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        check_dims(self.backbone, self.decode_head)
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

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """``EncoderDecoder.postprocess_result`` without its identity
        resizes."""
        with identity_resize_skipped():
            return super().postprocess_result(seg_logits, data_samples)


__all__: Optional[List[str]] = ['CLIPSegmentor', 'check_dims']

from typing import List, Optional

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, OptSampleList, SampleList
from torch import Tensor

from ...compat import identity_resize_skipped
from ..postprocess import PD_MOVED, PostProcessChain
from ..utils import get_clip, refuse_own_clip


def check_dims(backbone, head) -> None:
    """Raise at build time when the head cannot read the backbone's output:
    the CLIP embedding dim D (dense features vs the head's ``in_channels``
    and text tower) and the ViT width C (positional embedding vs the head's
    ``pos_channels``). Otherwise the first iteration fails in a matmul."""
    problems = []
    dim = getattr(backbone, 'embed_dim', None)
    if dim is not None and dim != head.in_channels:
        clip = getattr(backbone, 'clip_setting', {}).get('model')
        problems.append(
            f'the backbone (CLIP model {clip!r}) gives {dim}-dim features '
            'but model.decode_head.in_channels is '
            f'{head.in_channels} (the head\'s CLIP text embedding dim): '
            f'set model.decode_head.in_channels={dim}')
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

    ``EncoderDecoder`` with four additions, no copies of its inference: the
    ONE CLIP, configured as ``clip=dict(model=..., pretrained=...,
    cache_dir=...)`` and built once, gives the backbone its visual tower and
    the head its text tower (a backbone or head config that sets a CLIP of
    its own is refused, naming the key); backbone and head are checked to
    fit each other at build time; the
    test-time post-processing chain ``test_cfg.postprocess`` (a list of
    registered steps, :class:`PostProcessChain`, e.g. ``PromptDenoise``) runs
    on the head's logits in :meth:`encode_decode`, where the input images
    and their metas are at hand; and ``postprocess_result`` skips its resize
    when the logits already have the original size (exact: that resize is
    the identity; see :func:`reclip_mmseg.compat.identity_resize_skipped`).

    A second chain, ``test_cfg.postprocess_merged``, runs once per image on
    the merged logits (after slide inference) at the original image size,
    with the normalised input unpadded, unflipped and resized there the same
    way (bilinear) as its guide: where SCLIP and NACLIP apply PAMR and all
    three peers their ``logit_scale`` / softmax / synonym max /
    ``prob_thd`` (e.g. ``[dict(type='PAMR'), dict(type='SynonymSoftmax',
    ...), dict(type='BackgroundThreshold', prob_thd=0.1)]``). Its output is
    the sample's ``seg_logits`` and its argmax the prediction.

    Args:
        clip (dict): The CLIP setting: ``model`` (open_clip name such as
            ``'ViT-B-16-quickgelu'``, or ``open_clip.CLIP`` keyword
            arguments), ``pretrained`` (open_clip tag, local checkpoint file
            or None for random weights), ``cache_dir`` (download cache).
            Defaults to ``dict(model='ViT-B-16', pretrained='openai')``.
        backbone (dict): ``MaskCLIPViT`` config, without a CLIP setting.
        decode_head (dict): ``MaskCLIPHead`` or ``BiasRectificationHead``
            config, without a CLIP setting.
        **kwargs: Other ``EncoderDecoder`` arguments.
    """

    def __init__(self,
                 *,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 clip: OptConfigType = None,
                 **kwargs):
        refuse_own_clip(backbone, 'model.backbone')
        refuse_own_clip(decode_head, 'model.decode_head')
        built = get_clip(clip, 'model.clip')  # the one construction
        super().__init__(
            backbone=dict(backbone, clip=built),
            decode_head=dict(decode_head, clip=built),
            **kwargs)
        #: The CLIP setting (``model``, ``pretrained``, ``cache_dir``).
        self.clip_setting = built.setting
        check_dims(self.backbone, self.decode_head)
        test_cfg = self.test_cfg or {}
        if 'pd_threshold' in test_cfg:
            raise ValueError(PD_MOVED)
        self.postprocess = PostProcessChain(test_cfg.get('postprocess', ()))
        self.postprocess_merged = PostProcessChain(
            test_cfg.get('postprocess_merged', ()))
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

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """``EncoderDecoder.predict``, then ``test_cfg.postprocess_merged``
        per image at its original size (see the class doc)."""
        if not len(self.postprocess_merged):
            return super().predict(inputs, data_samples)
        batch_img_metas = [s.metainfo for s in data_samples] \
            if data_samples is not None else [
                dict(ori_shape=inputs.shape[2:], img_shape=inputs.shape[2:],
                     pad_shape=inputs.shape[2:], padding_size=[0] * 4)
            ] * len(inputs)
        seg_logits = self.inference(inputs, batch_img_metas)
        num = seg_logits.shape[1]
        # the guide image goes through the same unpad / flip / resize
        guide = inputs.to(seg_logits.dtype)
        if guide.shape[2:] != seg_logits.shape[2:]:
            guide = F.interpolate(guide, seg_logits.shape[2:],
                                  mode='bilinear', align_corners=False)
        samples = self.postprocess_result(
            torch.cat([seg_logits, guide], 1), data_samples)
        for sample, meta in zip(samples, batch_img_metas):
            both = sample.seg_logits.data[None]
            logits = self.postprocess_merged(both[:, :num], both[:, num:],
                                             [meta])[0]
            sample.set_data(
                dict(seg_logits=PixelData(data=logits),
                     pred_sem_seg=PixelData(
                         data=logits.argmax(0, keepdim=True))))
        return samples

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """``EncoderDecoder.postprocess_result`` without its identity
        resizes."""
        with identity_resize_skipped():
            return super().postprocess_result(seg_logits, data_samples)


__all__: Optional[List[str]] = ['CLIPSegmentor', 'check_dims']

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from ..losses import hypothesis_to_mask
from ..utils import ReferencePromptLearner
from .maskclip_head import MaskCLIPHead


@MODELS.register_module()
class BiasRectificationHead(MaskCLIPHead):
    """ReCLIP++ head: rectify Query logits by learned bias logits, decode.

    ``Q = <dense, Query>`` (B, K, h, w); ``B = P R^T`` with P the positional
    projection of the resized patch positional embedding (space-preference
    bias) and R the Reference prompt features (class-preference bias);
    rectified logits ``Q - B``; decoder ``BN(conv5x5([dense, Q - B]))``
    (ReCLIP++ Sec. 3.2-3.3, released code). In training, hard Gumbel-Softmax
    masks of ``gumbel_scale * logits`` feed :class:`MaskedContrastiveLoss`
    with each image's class hypothesis (``data_sample.hypothesis``).

    The bias map depends on the class set and the grid size only. Outside
    training it is cached, and the cache has one rule: it is recomputed when
    the grid size, device or dtype changes or when any parameter it depends
    on changes (the Reference context or the positional projection: a new
    tensor, or an in-place update such as an optimizer step or
    ``load_state_dict``). In training it is recomputed every iteration, one
    Reference text pass shared by the whole batch.

    Shape shorthand: B batch, K classes, D CLIP dim, C ViT width, (h, w) grid.

    Args:
        class_names, clip_model, pretrained, in_channels, num_classes,
            templates, pd_threshold, cache_dir: As :class:`MaskCLIPHead`.
        pos_channels (int): C, channels of the positional embedding.
            Defaults to 768 (ViT-B/16).
        prompt_cfg (dict): Keyword arguments of
            :class:`ReferencePromptLearner` (``name_slots``, ``num_context``,
            ``ctx_init``, ``normalize``).
        decoder_kernel (int): Decoder conv kernel. Defaults to 5.
        norm_cfg (dict): Decoder norm. Defaults to BN.
        gumbel_scale (float): Logit multiplier before Gumbel-Softmax (100).
        gumbel_tau (float): Gumbel-Softmax temperature (1).
        loss_decode (dict): Defaults to ``MaskedContrastiveLoss``.
    """

    def __init__(self,
                 *,
                 pos_channels: int = 768,
                 prompt_cfg: Optional[dict] = None,
                 decoder_kernel: int = 5,
                 norm_cfg: ConfigType = dict(type='BN'),
                 gumbel_scale: float = 100.0,
                 gumbel_tau: float = 1.0,
                 loss_decode: ConfigType = dict(type='MaskedContrastiveLoss'),
                 init_cfg: Optional[dict] = dict(
                     type='Kaiming',
                     mode='fan_out',
                     distribution='normal',
                     override=dict(
                         type='Kaiming',
                         name='conv_seg',
                         mode='fan_out',
                         distribution='normal')),
                 **kwargs):
        super().__init__(
            norm_cfg=norm_cfg,
            loss_decode=loss_decode,
            init_cfg=init_cfg,
            **kwargs)
        if not hasattr(self.loss_decode, 'loss_name') or isinstance(
                self.loss_decode, nn.ModuleList):
            raise TypeError('BiasRectificationHead takes one loss module '
                            '(MaskedContrastiveLoss) as loss_decode')
        k, d = self.num_classes, self.in_channels
        self.reference = ReferencePromptLearner(self.text_encoder,
                                                self.class_names,
                                                **(prompt_cfg or {}))
        self.pos_proj = nn.Conv2d(pos_channels, d, kernel_size=1)
        self.conv_seg = nn.Conv2d(
            d + k, k, decoder_kernel, padding=decoder_kernel // 2)
        self.norm = build_norm_layer(norm_cfg, k)[1]
        self.gumbel_scale = gumbel_scale
        self.gumbel_tau = gumbel_tau
        self._bias_cache = None

    def _bias_key(self, pos: Tensor) -> tuple:
        params = [self.reference.ctx, *self.pos_proj.parameters()]
        return (tuple(pos.shape[-2:]), pos.device, pos.dtype,
                tuple((id(p), p._version) for p in params))

    def compute_bias_logits(self, pos: Tensor) -> Tensor:
        """Bias logits ``(1, K, h, w)`` from ``(1, C, h, w)`` positions."""
        pos_feats = self.pos_proj(pos)  # (1, D, h, w)
        reference = self.reference().to(pos_feats.dtype)  # (K, D)
        return torch.einsum('odhw,kd->okhw', pos_feats, reference)

    def bias_logits(self, pos: Tensor) -> Tensor:
        """Bias logits, from the cache outside training (see class doc)."""
        if self.training:
            return self.compute_bias_logits(pos)
        key = self._bias_key(pos)
        if self._bias_cache is None or self._bias_cache[0] != key:
            with torch.no_grad():
                self._bias_cache = (key, self.compute_bias_logits(pos))
        return self._bias_cache[1]

    def rectified_logits(self, dense: Tensor, pos: Tensor) -> Tensor:
        """``Q - B``: ``(B, K, h, w)``."""
        return self.query_logits(dense) - self.bias_logits(pos).to(
            dense.dtype)

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        """Decoder logits ``(B, K, h, w)`` from ``(dense, pos_embed)``."""
        dense, pos = inputs[0], inputs[1]
        x = torch.cat([dense, self.rectified_logits(dense, pos)], dim=1)
        return self.norm(self.conv_seg(x))

    def loss(self, inputs: Tuple[Tensor, ...], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Masked contrastive loss on hard Gumbel-Softmax masks.

        Each data sample must carry ``hypothesis`` (class indices of the
        image, from the segmentor); labels are never used.
        """
        missing = [
            i for i, s in enumerate(batch_data_samples)
            if 'hypothesis' not in s
        ]
        if missing:
            raise KeyError(f'data samples {missing} have no `hypothesis`; '
                           'train BiasRectificationHead inside ReCLIPPlusPlus')
        logits = self.forward(inputs)
        masks = F.gumbel_softmax(
            self.gumbel_scale * logits.float(),
            tau=self.gumbel_tau,
            hard=True,
            dim=1)
        hypothesis = hypothesis_to_mask(
            [s.hypothesis for s in batch_data_samples], self.num_classes,
            logits.device)
        loss = self.loss_decode(masks, inputs[0].float(),
                                self.query_features.float(), hypothesis)
        return {self.loss_decode.loss_name: loss}



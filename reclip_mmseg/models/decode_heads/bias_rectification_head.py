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
        class_names, clip, in_channels, num_classes, templates,
            synonym_queries: As :class:`MaskCLIPHead`.
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
        residual (bool): Output ``(Q - B) + decoder(...)`` instead of
            ``decoder(...)``, so the rectified zero-shot prediction is kept
            and the decoder learns a correction (not in the released code;
            README "Toy world"). Defaults to False (released).
        zero_init_decoder (bool): Start the decoder's last layer at zero (the
            norm's weight and bias, or the conv if ``norm_cfg`` is None), so
            that with ``residual=True`` training starts exactly at ``Q - B``.
            Requires ``residual=True``. Defaults to False (released: Kaiming).
        test_output (str): Logits :meth:`predict` returns: ``'decoder'``
            (the head's output, released), ``'rectified'`` (``Q - B``, the
            decoder dropped) or ``'query'`` (``Q``, MaskCLIP). Overridden by
            ``test_cfg.test_output``. Defaults to ``'decoder'``.
    """

    #: ``test_output`` name -> logits ``(B, K, h, w)`` from the backbone's
    #: :class:`CLIPFeatures`.
    TEST_OUTPUTS = dict(
        decoder=lambda head, feats: head.forward(feats),
        rectified=lambda head, feats: head.rectified_logits(
            feats.dense, feats.pos_embed),
        query=lambda head, feats: head.query_logits(feats.dense))

    def __init__(self,
                 *,
                 pos_channels: int = 768,
                 prompt_cfg: Optional[dict] = None,
                 decoder_kernel: int = 5,
                 norm_cfg: ConfigType = dict(type='BN'),
                 gumbel_scale: float = 100.0,
                 gumbel_tau: float = 1.0,
                 loss_decode: ConfigType = dict(type='MaskedContrastiveLoss'),
                 residual: bool = False,
                 zero_init_decoder: bool = False,
                 test_output: str = 'decoder',
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
        if self.synonym_queries:
            raise ValueError('BiasRectificationHead learns one class per '
                             'class name: synonym_queries must be False')
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
        self.norm = (
            build_norm_layer(norm_cfg, k)[1] if norm_cfg else nn.Identity())
        if zero_init_decoder and not residual:
            raise ValueError('zero_init_decoder=True needs residual=True: '
                             'a zero decoder alone predicts nothing')
        self._check_test_output(test_output)
        self.residual = residual
        self.zero_init_decoder = zero_init_decoder
        self.test_output = test_output
        self.gumbel_scale = gumbel_scale
        self.gumbel_tau = gumbel_tau
        self._bias_cache = None

    def _check_test_output(self, name: str) -> None:
        if name not in self.TEST_OUTPUTS:
            raise ValueError(f'test_output must be one of '
                             f'{sorted(self.TEST_OUTPUTS)}, got {name!r}')

    def init_weights(self) -> None:
        """``init_cfg`` (Kaiming), then zero the last decoder layer if
        ``zero_init_decoder``: the decoder then outputs exactly 0."""
        super().init_weights()
        if self.zero_init_decoder:
            last = self.conv_seg if isinstance(self.norm,
                                               nn.Identity) else self.norm
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def _bias_key(self, pos: Tensor) -> tuple:
        # the frozen text tower too: the Reference runs through it
        params = [
            self.reference.ctx, *self.pos_proj.parameters(),
            *self.text_encoder.parameters()
        ]
        # The dtype the bias is computed in: autocast's, if it is on (``pos``
        # itself stays fp32 under autocast), else ``pos``'s own.
        device_type = pos.device.type
        compute_dtype = (
            torch.get_autocast_dtype(device_type)
            if torch.is_autocast_enabled(device_type) else pos.dtype)
        return (tuple(pos.shape[-2:]), pos.device, pos.dtype, compute_dtype,
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
        """Head logits ``(B, K, h, w)`` from the backbone's
        :class:`CLIPFeatures` (``dense``, ``pos_embed``):
        ``D([dense, Q - B])``, plus ``Q - B`` if ``residual``."""
        dense, pos = inputs.dense, inputs.pos_embed
        rectified = self.rectified_logits(dense, pos)
        decoded = self.norm(self.conv_seg(torch.cat([dense, rectified], 1)))
        return rectified + decoded if self.residual else decoded

    def predict_logits(self, inputs: Tuple[Tensor, ...],
                       test_cfg: ConfigType) -> Tensor:
        """The logits named by ``test_cfg.test_output`` or ``test_output``."""
        name = (test_cfg or {}).get('test_output', self.test_output)
        self._check_test_output(name)
        return self.TEST_OUTPUTS[name](self, inputs)

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
        loss = self.loss_decode(masks, inputs.dense.float(),
                                self.query_features.float(), hypothesis)
        return {self.loss_decode.loss_name: loss}



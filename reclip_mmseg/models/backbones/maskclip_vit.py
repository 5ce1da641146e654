import inspect
from typing import NamedTuple, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptMultiConfig
from torch import Tensor

from ..utils import BuiltCLIP, get_clip, omit_in_checkpoints
from .last_block_rules import get_last_block_rule
from .pos_embed_resize import POS_EMBED_RESIZERS


class CLIPFeatures(NamedTuple):
    """What :class:`MaskCLIPViT` returns; heads read it by name.

    ``dense`` comes first, so mmseg's ``in_index=0`` (the heads' default)
    selects the dense features where mmseg indexes the backbone outputs.

    Attributes:
        dense (Tensor): ``(B, D, h, w)`` MaskCLIP features, L2-normalised
            over D.
        pos_embed (Tensor): ``(1, C, h, w)`` the resized raw patch positional
            embedding (ReCLIP++'s space-preference input).
    """
    dense: Tensor
    pos_embed: Tensor


class CLIPFeaturesWithGlobal(NamedTuple):
    """:class:`CLIPFeatures` plus CLIP's global image embedding
    ``global_embed`` ``(B, D)`` (not normalised), on request."""
    dense: Tensor
    pos_embed: Tensor
    global_embed: Tensor


@MODELS.register_module()
class MaskCLIPViT(BaseModule):
    """Frozen CLIP ViT giving MaskCLIP dense features (ReCLIP++ Sec. 3).

    All blocks but the last run as in CLIP. In the last block no token
    attends to another: each token takes the value path only,
    ``v = out_proj(v_proj(ln_1(x)))``, then the residual and MLP are kept,
    ``v = v + x; v = v + mlp(ln_2(v))``, followed by ``ln_post`` and CLIP's
    ``proj`` applied per token (MaskCLIP, Zhou et al. 2022; ReCLIP++ released
    code). Inputs of any size are padded right/bottom to a multiple of the
    patch size, and the patch positional embedding is resampled bicubically
    to the patch grid at run time.

    ``last_block`` swaps the last block's rule for another one from
    :data:`~.last_block_rules.LAST_BLOCK_RULES` (``'sclip'``,
    ``'clearclip'``, ``'naclip'`` with ``last_block_cfg=dict(sigma=5.0)``,
    ``'vanilla'``); ``dense`` then holds that rule's tokens through
    ``ln_post`` and ``proj``. The global embedding always comes from CLIP's
    own last block. ``pos_embed_resize='scale_factor'`` resizes the
    positional embedding as SCLIP, ClearCLIP and NACLIP do
    (:data:`~.pos_embed_resize.POS_EMBED_RESIZERS`).

    The whole tower is frozen and stays in eval mode, even when the segmentor
    is put in train mode.

    Shape shorthand: B batch, D CLIP embedding dim (512 for ViT-B/16),
    C transformer width (768), (h, w) patch grid = ceil((H, W) / patch).

    Note:
        The released ReCLIP++ code builds ``ln_1``/``ln_2`` with eps 1e-6;
        we keep open_clip's (CLIP's) 1e-5 so that the global embedding is
        exactly CLIP's ``encode_image``.

    Args:
        clip (dict | BuiltCLIP): The CLIP: inside a segmentor, the one it
            built from ``model.clip`` (set there, not here); alone, a setting
            ``dict(model=..., pretrained=..., cache_dir=...)``: ``model`` an
            open_clip name (``'ViT-B-16'``) or ``open_clip.CLIP`` keyword
            arguments (tiny test models), ``pretrained`` an open_clip tag
            (``'openai'``), a local checkpoint (open_clip state dict or
            OpenAI TorchScript archive) or None for random weights,
            ``cache_dir`` the download cache for tags
            (:func:`~reclip_mmseg.models.utils.get_clip`).
        last_block (str): Last-block rule. Defaults to ``'maskclip'``.
        last_block_cfg (dict, optional): The rule's options (NACLIP:
            ``sigma``).
        pos_embed_resize (str): ``'bicubic'`` (``size=``, default) or
            ``'scale_factor'`` (the peers' ``(h + 0.1) / 14``).
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 clip: Union[dict, BuiltCLIP, None] = None,
                 last_block: str = 'maskclip',
                 last_block_cfg: Optional[dict] = None,
                 pos_embed_resize: str = 'bicubic',
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self.last_block = get_last_block_rule(last_block)
        self.last_block_cfg = dict(last_block_cfg or {})
        try:
            inspect.signature(self.last_block).bind(None, None, None,
                                                    **self.last_block_cfg)
        except TypeError as e:
            raise ValueError(f'last_block_cfg={self.last_block_cfg} does '
                             f'not fit last_block={last_block!r}: {e}')
        if pos_embed_resize not in POS_EMBED_RESIZERS:
            raise KeyError(f'unknown pos_embed_resize {pos_embed_resize!r}; '
                           f'known: {sorted(POS_EMBED_RESIZERS)}')
        self.resize_pos_embed = POS_EMBED_RESIZERS[pos_embed_resize]
        clip = get_clip(clip, 'model.backbone.clip')
        visual = clip.model.visual
        _check_supported(visual)
        self.visual = visual.requires_grad_(False).eval()
        # checkpoints may omit the tower: `pretrained` rebuilds it
        omit_in_checkpoints(self.visual, clip.setting['pretrained'])
        self.clip_setting = clip.setting
        self.patch_size = tuple(visual.patch_size)
        self.grid_size = tuple(visual.grid_size)
        self.width = visual.conv1.out_channels
        self.embed_dim = visual.output_dim

    def train(self, mode: bool = True):
        """Keep the frozen CLIP tower in eval mode whatever ``mode`` is."""
        super().train(mode)
        self.visual.eval()
        return self

    def init_weights(self):
        """CLIP weights come from ``pretrained``; nothing to initialise."""

    def _embed(self, inputs: Tensor) -> Tuple[Tensor, Tensor, int, int]:
        """Patch + class tokens with resampled positions, after ``ln_pre``.

        open_clip's ``VisionTransformer._embeds`` with one change: the
        positional embedding is resampled to the input's patch grid (open_clip
        adds it at the pretraining grid only) and padding is applied first.

        Returns:
            tuple: tokens ``(B, 1 + h*w, C)``, raw patch positional embedding
            ``(1, C, h, w)``, h, w.
        """
        ph, pw = self.patch_size
        pad_h, pad_w = -inputs.shape[2] % ph, -inputs.shape[3] % pw
        if pad_h or pad_w:
            inputs = F.pad(inputs, (0, pad_w, 0, pad_h))
        visual = self.visual
        x = visual.conv1(inputs.to(visual.conv1.weight.dtype))
        h, w = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        cls_token = visual.class_embedding.to(x.dtype).expand(
            x.shape[0], 1, -1)
        pos = visual.positional_embedding
        patch_pos = self.resize_pos_embed(pos[1:], self.grid_size, (h, w))
        pos = torch.cat([pos[:1], patch_pos.flatten(2)[0].T], dim=0)
        x = torch.cat([cls_token, x], dim=1) + pos.to(x.dtype)
        x = visual.ln_pre(visual.patch_dropout(x))
        return x, patch_pos, h, w

    def forward(self,
                inputs: Tensor,
                return_global: bool = False
                ) -> Union[CLIPFeatures, CLIPFeaturesWithGlobal]:
        """Dense features, positional embedding and optionally the global one.

        Args:
            inputs (Tensor): Normalised images ``(B, 3, H, W)``, any H, W.
            return_global (bool): Also return CLIP's global image embedding:
                the last block as CLIP runs it, then open_clip's own pooling
                (``visual._pool``: class token, ``ln_post``) and ``proj``;
                equal to open_clip's ``encode_image`` at the pretraining size
                (at other sizes open_clip's forward cannot run: its
                positional embedding is not resampled).

        Returns:
            CLIPFeatures | CLIPFeaturesWithGlobal: ``dense``, ``pos_embed``
            and, if ``return_global``, ``global_embed``.
        """
        visual = self.visual
        x, patch_pos, h, w = self._embed(inputs)
        *blocks, last = visual.transformer.resblocks
        for block in blocks:
            x = block(x)
        tokens = self.last_block(last, x, (h, w), **self.last_block_cfg)
        dense = visual.ln_post(tokens[:, 1:]) @ visual.proj
        dense = dense.transpose(1, 2).reshape(x.shape[0], -1, h, w)
        outs = CLIPFeatures(F.normalize(dense, dim=1), patch_pos)
        if not return_global:
            return outs
        pooled, _ = visual._pool(last(x))
        return CLIPFeaturesWithGlobal(*outs, pooled @ visual.proj)


def _check_supported(visual: nn.Module) -> None:
    problems = []
    if not hasattr(visual, 'conv1') or not hasattr(visual, 'transformer'):
        problems.append('not an open_clip VisionTransformer (timm towers '
                        'and ResNets are not supported)')
    else:
        if getattr(visual, 'attn_pool', None) is not None:
            problems.append('attentional pooling')
        if getattr(visual, 'pool_type', 'tok') != 'tok':
            problems.append(f'pool_type={visual.pool_type!r}')
        if getattr(visual, 'final_ln_after_pool', False):
            problems.append('final_ln_after_pool')
        if visual.proj is None:
            problems.append('no output projection')
        if not getattr(visual.transformer, 'batch_first', True):
            problems.append('sequence-first transformer')
        if not isinstance(visual.transformer.resblocks[-1].attn,
                          nn.MultiheadAttention):
            problems.append('custom attention blocks')
    if problems:
        raise ValueError('MaskCLIPViT needs a CLIP ViT with class-token '
                         'pooling; this visual tower has: ' +
                         '; '.join(problems))

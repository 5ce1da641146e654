"""The test-time post-processing chain a segmentor runs on its logits."""
from typing import Callable, List, Sequence, Union

from mmseg.registry import TASK_UTILS
from torch import Tensor


class PostProcessChain:
    """Registered steps applied in order to a segmentor's test logits.

    Configured as ``model.test_cfg.postprocess``, a list of ``TASK_UTILS``
    configs (e.g. ``[dict(type='PromptDenoise', threshold=0.85)]``). The
    segmentor calls it in ``encode_decode``, once per forward of the network:
    on the whole (padded) batch in ``test_cfg.mode='whole'``, on each crop in
    ``'slide'``; then the logits are resized to the input and merged as
    ``EncoderDecoder`` does.

    A step is any callable ``step(seg_logits, inputs, batch_img_metas) ->
    seg_logits``:

    - ``seg_logits`` ``(B, K, h, w)``: the head's logits at feature
      resolution (h, w = H / patch, W / patch), or the previous step's
      output. A step may return another resolution (e.g. PAMR upsamples to
      ``(H, W)`` and refines there); the segmentor resizes what the chain
      returns to the input size.
    - ``inputs`` ``(B, 3, H, W)``: the normalised input the network saw (the
      crop in slide mode), in the data preprocessor's channel order.
    - ``batch_img_metas``: one dict per image (``img_shape``, ``ori_shape``,
      ``pad_shape``, ``flip``...; in slide mode ``img_shape`` is the crop's).

    A step that changes the number of classes (e.g. adds a background class)
    also defines ``out_channels(k) -> k'``; the segmentor's ``out_channels``
    (the size slide inference accumulates) follows it, and the dataset's
    class list must have the same k'.

    Args:
        steps (Sequence[dict | Callable]): Step configs or callables.
    """

    def __init__(self, steps: Sequence[Union[dict, Callable]] = ()):
        self.steps: List[Callable] = [
            TASK_UTILS.build(s) if isinstance(s, dict) else s
            for s in (steps or ())
        ]

    def __call__(self, seg_logits: Tensor, inputs: Tensor,
                 batch_img_metas: List[dict]) -> Tensor:
        """Apply each step in order; see the class doc for shapes."""
        for step in self.steps:
            seg_logits = step(seg_logits, inputs, batch_img_metas)
        return seg_logits

    def out_channels(self, num_classes: int) -> int:
        """Classes after the chain, from ``num_classes`` before it."""
        for step in self.steps:
            if hasattr(step, 'out_channels'):
                num_classes = step.out_channels(num_classes)
        return num_classes

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.steps!r})'

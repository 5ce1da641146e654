from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast``.

    mmengine's ``AmpOptimWrapper`` refuses to run without a GPU; this wrapper
    gives mixed precision on any device (``tools/train.py --amp`` uses it on
    CPU). bfloat16 only: it has float32's exponent range and needs no loss
    scaling, so none is done. float16 gradients underflow without loss
    scaling, which mmengine's ``AmpOptimWrapper`` does (on GPU).

    Args:
        dtype (str): ``'bfloat16'`` (the default and only choice).
        **kwargs: ``OptimWrapper`` arguments.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if dtype == 'float16':
            raise ValueError(
                "AutocastOptimWrapper: dtype='float16' needs loss scaling, "
                'which this wrapper does not do; use '
                "optim_wrapper=dict(type='AmpOptimWrapper', dtype='float16', "
                "loss_scale='dynamic') (mmengine, GPU) or dtype='bfloat16'")
        if dtype != 'bfloat16':
            raise ValueError(f"AutocastOptimWrapper: dtype must be "
                             f"'bfloat16', got {dtype!r}")
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model):
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device, dtype=self.cast_dtype):
            yield

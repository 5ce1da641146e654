"""AutocastOptimWrapper: bfloat16 autocast on any device; float16 (which
needs loss scaling) is refused with a pointer to mmengine's AmpOptimWrapper."""
import pytest
import torch
from mmseg.registry import OPTIM_WRAPPERS

import reclip_mmseg  # noqa: F401


def _build(**kwargs):
    model = torch.nn.Linear(4, 2)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='AutocastOptimWrapper',
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
             **kwargs))
    return model, wrapper


def test_bfloat16_forward_runs_under_autocast_and_steps():
    model, wrapper = _build()
    x = torch.randn(3, 4)
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    before = model.weight.detach().clone()
    wrapper.update_params(out.float().square().mean())
    assert not torch.equal(model.weight, before)
    assert model.weight.dtype == torch.float32


def test_float16_is_refused_naming_amp_optim_wrapper():
    with pytest.raises(ValueError, match=r"dtype='float16' needs loss "
                       r"scaling.*type='AmpOptimWrapper', dtype='float16', "
                       r"loss_scale='dynamic'"):
        _build(dtype='float16')
    with pytest.raises(ValueError, match="must be 'bfloat16', got 'int8'"):
        _build(dtype='int8')

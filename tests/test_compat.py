"""The stack fixes applied by ``import reclip_mmseg`` (reclip_mmseg.compat)."""
import importlib.util
import pickle
import sys

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.runner import CheckpointLoader, load_checkpoint, save_checkpoint
from mmseg.registry import DATASETS, MODELS

from reclip_mmseg import compat

HAS_EXT = importlib.util.find_spec('mmcv._ext') is not None


def test_mmseg_registers_everything():
    # mmseg.models imports mmcv.ops in four modules; all of them registered
    for name in ('EncoderDecoder', 'FCNHead', 'PointHead', 'SideAdapterCLIPHead',
                 'Mask2FormerHead', 'FocalLoss', 'MaskCLIPViT'):
        assert MODELS.get(name) is not None, name
    assert len(DATASETS.module_dict) >= 29
    assert DATASETS.get('PascalVOCDataset') is not None


@pytest.mark.skipif(HAS_EXT, reason='full mmcv: the stand-in is not used')
def test_mmcv_ops_standin_on_mmcv_lite():
    ops = sys.modules['mmcv.ops']
    assert ops.RECLIP_STANDIN
    # point_sample is mmcv's own pure-Python implementation
    feats = torch.arange(16.).reshape(1, 1, 4, 4)
    points = torch.tensor([[[0.125, 0.125], [0.875, 0.625]]])
    out = ops.point_sample(feats, points, align_corners=False)
    ref = F.grid_sample(
        feats, 2 * points.unsqueeze(2) - 1, align_corners=False)[..., 0]
    torch.testing.assert_close(out, ref)
    assert out.flatten().tolist() == [0.0, 11.0]
    with pytest.raises(ModuleNotFoundError, match='sigmoid_focal_loss'):
        ops.sigmoid_focal_loss(torch.zeros(1), torch.zeros(1), 2.0, 0.25)
    # mmseg's guarded imports (cc_head, psa_head) expect ModuleNotFoundError
    with pytest.raises(ModuleNotFoundError, match='CrissCrossAttention'):
        from mmcv.ops import CrissCrossAttention  # noqa: F401
    assert not hasattr(ops, '__wrapped__')  # dunders: plain AttributeError


def test_mmcv_ops_standin_is_noop_with_compiled_ops(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        if name == 'mmcv._ext':
            return importlib.machinery.ModuleSpec('mmcv._ext', None)
        return real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, 'find_spec', find_spec)
    monkeypatch.delitem(sys.modules, 'mmcv.ops', raising=False)
    assert compat.install_mmcv_ops_standin() is False
    assert 'mmcv.ops' not in sys.modules
    # ...and a second call after the stand-in is in place changes nothing
    monkeypatch.undo()
    before = sys.modules['mmcv.ops']
    assert compat.install_mmcv_ops_standin() is False
    assert sys.modules['mmcv.ops'] is before


def _mmengine_checkpoint(path):
    hub = MessageHub.get_instance('reclip_compat_test')
    hub.update_scalar('train/loss', 0.5)
    model = torch.nn.Linear(2, 2)
    meta = dict(epoch=1, iter=3)
    save_checkpoint(
        dict(
            meta=meta,
            state_dict=model.state_dict(),
            message_hub=hub.state_dict()), str(path))
    return model


def test_checkpoint_resume_on_torch_weights_only(tmp_path):
    path = tmp_path / 'iter_3.pth'
    model = _mmengine_checkpoint(path)
    if compat._torch_defaults_to_weights_only():
        # the problem being fixed: torch's default refuses mmengine objects
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path)
        assert CheckpointLoader._schemes[''].reclip_fix
    ckpt = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert ckpt['meta']['iter'] == 3
    hist = ckpt['message_hub']['log_scalars']['train/loss']
    assert hist.current() == 0.5
    fresh = torch.nn.Linear(2, 2)
    load_checkpoint(fresh, str(path), map_location='cpu')
    torch.testing.assert_close(fresh.weight, model.weight)


def test_checkpoint_loader_missing_file_names_path(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        CheckpointLoader.load_checkpoint(missing)


def test_cpu_distributed_launcher():
    from mmengine.dist import utils as dist_utils
    replaced = getattr(dist_utils._init_dist_pytorch, 'reclip_fix', False)
    # replaced exactly where CUDA is missing (torchrun end to end:
    # tests/test_tools/test_train_test_tools.py)
    assert replaced == (not torch.cuda.is_available())
    if replaced:
        with pytest.raises(ValueError, match='needs CUDA'):
            dist_utils._init_dist_pytorch('nccl', init_backend='deepspeed')


def test_postprocess_skips_only_the_identity_resize():
    import torch.nn.functional as F
    from mmseg.models.segmentors import base
    from mmseg.structures import SegDataSample

    from reclip_mmseg.compat import skip_identity_resize

    assert base.resize.reclip_fix and not skip_identity_resize()

    class Segmentor:  # what postprocess_result reads of self
        align_corners = False

    logits = torch.randn(2, 3, 8, 10).contiguous(
        memory_format=torch.channels_last)
    samples = [
        SegDataSample(metainfo=dict(ori_shape=(8, 10))),
        SegDataSample(
            metainfo=dict(ori_shape=(16, 15), padding_size=[0, 2, 0, 0]))
    ]
    out = base.BaseSegmentor.postprocess_result(Segmentor(), logits, samples)
    assert torch.equal(out[0].seg_logits.data, logits[0])
    assert torch.equal(out[0].pred_sem_seg.data[0], logits[0].argmax(0))
    expected = F.interpolate(
        logits[1:, :, :, :8], (16, 15), mode='bilinear',
        align_corners=False)[0]
    torch.testing.assert_close(out[1].seg_logits.data, expected)
    assert torch.equal(out[1].pred_sem_seg.data[0], expected.argmax(0))

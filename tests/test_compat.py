"""The stack fixes applied by ``import reclip_mmseg`` (reclip_mmseg.compat)."""
import importlib.util
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner import load_checkpoint, save_checkpoint
from mmseg.registry import DATASETS, MODELS

from reclip_mmseg import compat, safe_checkpoint
from reclip_mmseg.engine import WeightsOnlyCheckpointHook
from reclip_mmseg.safe_checkpoint import (UnsafeCheckpointError,
                                          trusted_checkpoint)

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


class _Payload:
    """Unpickling it runs code: it writes ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')", )


def _mmengine_checkpoint(path, plain=False):
    """What mmengine 0.10.7 saves: HistoryBuffers of numpy arrays in the
    message hub; with ``plain`` as WeightsOnlyCheckpointHook leaves it."""
    hub = MessageHub.get_instance('reclip_compat_test')
    hub.update_scalar('train/loss', 0.5)
    model = torch.nn.Linear(2, 2)
    checkpoint = dict(
        meta=dict(epoch=1, iter=3),
        state_dict=model.state_dict(),
        message_hub=hub.state_dict())
    if plain:
        WeightsOnlyCheckpointHook().before_save_checkpoint(None, checkpoint)
    save_checkpoint(checkpoint, str(path))
    return model


def test_checkpoint_loaders_are_weights_only():
    assert CheckpointLoader._schemes[''] is safe_checkpoint.load_local
    assert mmengine_checkpoint.load_url is safe_checkpoint.load_url
    assert compat.load_checkpoints_weights_only() is False  # installed once


def test_mmengine_checkpoint_refused_unless_trusted(tmp_path):
    path = tmp_path / 'iter_3.pth'
    model = _mmengine_checkpoint(path)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    message = str(info.value)
    for part in (str(path), 'mmengine.logging.history_buffer.HistoryBuffer',
                 'builtins.getattr', '--trust-checkpoint',
                 'trust_checkpoint_code = True',
                 f'trusted_checkpoint({str(path)!r})'):
        assert part in message, part
    assert 'numpy' not in message  # numeric numpy data is allowed
    with trusted_checkpoint(str(path)):
        ckpt = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
        fresh = torch.nn.Linear(2, 2)
        load_checkpoint(fresh, str(path), map_location='cpu')
    assert ckpt['message_hub']['log_scalars']['train/loss'].current() == 0.5
    torch.testing.assert_close(fresh.weight, model.weight)
    with pytest.raises(UnsafeCheckpointError):  # trust ends with the block
        CheckpointLoader.load_checkpoint(str(path))


def test_plain_mmengine_checkpoint_loads_weights_only(tmp_path):
    path = tmp_path / 'iter_3.pth'
    model = _mmengine_checkpoint(path, plain=True)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    ckpt = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert ckpt['meta']['iter'] == 3
    fresh = torch.nn.Linear(2, 2)
    load_checkpoint(fresh, str(path), map_location='cpu')
    torch.testing.assert_close(fresh.weight, model.weight)


def test_code_running_checkpoint_refused(tmp_path):
    control = tmp_path / 'control'
    torch.save(dict(meta=dict(note=_Payload(control))), tmp_path / 'c.pth')
    torch.load(tmp_path / 'c.pth', weights_only=False)
    assert control.read_text() == 'ran'  # the payload works when unpickled

    marker = tmp_path / 'marker'
    path = tmp_path / 'evil.pth'
    model = torch.nn.Linear(2, 2)
    torch.save(
        dict(meta=dict(note=_Payload(marker)), state_dict=model.state_dict()),
        path)
    with pytest.raises(UnsafeCheckpointError, match='builtins.exec'):
        CheckpointLoader.load_checkpoint(str(path))
    with pytest.raises(UnsafeCheckpointError, match=str(path)):
        load_checkpoint(torch.nn.Linear(2, 2), str(path))
    assert not marker.exists()


def test_url_checkpoints_weights_only(tmp_path, monkeypatch):
    # load_from='https://...' went through torch.hub with weights_only=False
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    cache = tmp_path / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    marker = tmp_path / 'marker'
    torch.save(dict(meta=dict(note=_Payload(marker))), cache / 'evil.pth')
    url = 'https://example.invalid/models/evil.pth'
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint(torch.nn.Linear(2, 2), url)
    assert f'{url} (cached as {cache / "evil.pth"})' in str(info.value)
    assert f'trusted_checkpoint({url!r})' in str(info.value)
    assert not marker.exists()
    # the download branch (urllib reads file:// URLs too)
    model = torch.nn.Linear(2, 2)
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'honest.pth')
    ckpt = safe_checkpoint.load_url(
        (tmp_path / 'honest.pth').as_uri(), progress=False)
    assert (cache / 'honest.pth').is_file()
    torch.testing.assert_close(ckpt['state_dict']['weight'], model.weight)


def test_released_layout_checkpoint_loads_weights_only(tmp_path):
    # the authors release a flat dict of plain tensors, DataParallel keys
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    path = tmp_path / 'released.pth'
    torch.save({f'module.{k}': v
                for k, v in model.state_dict().items()}, path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    flat = torch.load(path, map_location='cpu', weights_only=True)
    assert sorted(flat) == ['module.0.bias', 'module.0.weight',
                            'module.1.bias', 'module.1.weight']
    fresh = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    load_checkpoint(fresh, str(path), strict=True)  # strips 'module.'
    for a, b in zip(fresh.parameters(), model.parameters()):
        torch.testing.assert_close(a, b)


def test_numeric_numpy_allowed_object_arrays_refused(tmp_path):
    path = tmp_path / 'numeric.pth'
    torch.save(
        dict(a=np.arange(3, dtype=np.int64), b=np.float32(1.5),
             c=np.zeros((2, 2), np.float16)), path)
    ckpt = CheckpointLoader.load_checkpoint(str(path))
    assert ckpt['a'].tolist() == [0, 1, 2] and ckpt['b'] == 1.5
    assert ckpt['c'].dtype == np.float16
    torch.save(dict(a=np.array([1, 'x'], dtype=object)), path)
    with pytest.raises(UnsafeCheckpointError, match='ObjectDType'):
        CheckpointLoader.load_checkpoint(str(path))


def test_checkpoint_loader_missing_file_names_path(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        CheckpointLoader.load_checkpoint(missing)


def test_cpu_distributed_launcher():
    from mmengine.dist import utils as dist_utils
    from reclip_mmseg.compat import accelerator_available
    replaced = getattr(dist_utils._init_dist_pytorch, 'reclip_fix', False)
    # replaced exactly where no accelerator is present (torchrun end to end:
    # tests/test_tools/test_train_test_tools.py)
    assert replaced == (not accelerator_available())
    if replaced:
        with pytest.raises(ValueError, match='needs CUDA'):
            dist_utils._init_dist_pytorch('nccl', init_backend='deepspeed')


def test_postprocess_skips_only_the_identity_resize():
    import torch.nn.functional as F
    from mmseg.models.segmentors import base
    from mmseg.structures import SegDataSample

    from reclip_mmseg.compat import identity_resize_skipped

    # importing the plugin changes no mmseg segmentor
    assert not getattr(base.resize, 'reclip_fix', False)

    class Segmentor:  # what postprocess_result reads of self
        align_corners = False

    logits = torch.randn(2, 3, 8, 10).contiguous(
        memory_format=torch.channels_last)

    def samples():
        return [
            SegDataSample(metainfo=dict(ori_shape=(8, 10))),
            SegDataSample(
                metainfo=dict(ori_shape=(16, 15), padding_size=[0, 2, 0, 0]))
        ]

    stock = base.BaseSegmentor.postprocess_result(Segmentor(), logits,
                                                  samples())
    # mmseg's own: the identity resize makes a new tensor (channels_last in,
    # contiguous out)
    assert stock[0].seg_logits.data.data_ptr() != logits[0].data_ptr()
    with identity_resize_skipped():
        with identity_resize_skipped():  # nested: one patch
            assert base.resize.reclip_fix
        assert base.resize.reclip_fix
        out = base.BaseSegmentor.postprocess_result(Segmentor(), logits,
                                                    samples())
    assert not getattr(base.resize, 'reclip_fix', False)  # restored
    assert out[0].seg_logits.data.data_ptr() == logits[0].data_ptr()
    assert torch.equal(out[0].seg_logits.data, logits[0])
    assert torch.equal(out[0].seg_logits.data, stock[0].seg_logits.data)
    assert torch.equal(out[0].pred_sem_seg.data[0], logits[0].argmax(0))
    expected = F.interpolate(
        logits[1:, :, :, :8], (16, 15), mode='bilinear',
        align_corners=False)[0]
    torch.testing.assert_close(out[1].seg_logits.data, expected)
    assert torch.equal(out[1].pred_sem_seg.data[0], expected.argmax(0))


def test_our_segmentor_skips_the_identity_resize_others_do_not(monkeypatch):
    from mmseg.models.segmentors import base

    from reclip_mmseg.models.segmentors import CLIPSegmentor
    seen = []

    def record(self, seg_logits, data_samples=None):
        seen.append(getattr(base.resize, 'reclip_fix', False))
        return data_samples

    monkeypatch.setattr(base.BaseSegmentor, 'postprocess_result', record)
    CLIPSegmentor.__new__(CLIPSegmentor).postprocess_result(None, [])
    base.BaseSegmentor.postprocess_result(object(), None, [])
    assert seen == [True, False]


def test_launcher_fix_only_without_any_accelerator(monkeypatch):
    from mmengine import device
    from mmengine.dist import utils as dist_utils

    from reclip_mmseg import compat
    original = dist_utils._init_dist_pytorch
    monkeypatch.setattr(dist_utils, '_init_dist_pytorch', original)
    for name in ('is_cuda_available', 'is_npu_available', 'is_mlu_available',
                 'is_musa_available', 'is_mps_available',
                 'is_dipu_available'):
        monkeypatch.setattr(device, name, lambda: False)
    assert not compat.accelerator_available()
    monkeypatch.setattr(device, 'is_npu_available', lambda: True)
    assert compat.accelerator_available()
    monkeypatch.setattr(dist_utils, '_init_dist_pytorch',
                        lambda *a, **k: 'mmengine')
    assert not compat.allow_cpu_distributed()  # NPU host: mmengine's own
    assert dist_utils._init_dist_pytorch() == 'mmengine'
    monkeypatch.setattr(device, 'is_npu_available', lambda: False)
    assert compat.allow_cpu_distributed()
    assert dist_utils._init_dist_pytorch.reclip_fix


def test_reclip_mmseg_scope_config_names_in_a_checkout():
    import os.path as osp

    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = Config.fromfile('reclip_mmseg::reclip_voc.py')
    assert cfg.filename == osp.join(root, 'configs', 'reclip_voc.py')
    assert cfg.model.type == 'ReCLIPPlusPlus'
    with pytest.raises(FileNotFoundError,
                       match=r'reclip_mmseg::nope\.py: no such config'):
        Config.fromfile('reclip_mmseg::nope.py')
    # other names still go to mmengine unchanged
    with pytest.raises(FileNotFoundError):
        Config.fromfile('mmseg::_base_/default_runtime.py')

"""WeightsOnlyCheckpointHook: plain types on save, HistoryBuffers on load."""
from collections import OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from reclip_mmseg.engine import WeightsOnlyCheckpointHook
from reclip_mmseg.engine.weights_only_checkpoint_hook import to_plain


def _checkpoint():
    hub = MessageHub.get_instance('reclip_weights_only_hook_test')
    for value in (3.0, 2.5, np.float32(2.0)):
        hub.update_scalar('train/loss', value)
    hub.update_scalar('val/mIoU', np.float64(41.5))
    hub.update_info('iter', np.int64(3))
    hub.update_info('keep_ckpt_ids', [1, 2])
    meta = dict(
        iter=3,
        seed=np.int64(7),
        dataset_meta=dict(
            classes=('a', 'b'), palette=np.array([[0, 0, 0], [9, 9, 9]])))
    return dict(
        meta=meta,
        state_dict=OrderedDict(w=torch.ones(2)),
        message_hub=hub.state_dict())


def test_saved_checkpoint_needs_no_unsafe_global(tmp_path):
    checkpoint = _checkpoint()
    before = checkpoint['message_hub']['log_scalars']['train/loss']
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    assert 'builtins.getattr' in \
        torch.serialization.get_unsafe_globals_in_checkpoint(path)

    hook = WeightsOnlyCheckpointHook()
    hook.before_save_checkpoint(None, checkpoint)
    torch.save(checkpoint, path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    loaded = torch.load(path, weights_only=True)
    assert loaded['meta']['seed'] == 7 and type(loaded['meta']['seed']) is int
    assert loaded['meta']['dataset_meta']['palette'] == [[0, 0, 0],
                                                         [9, 9, 9]]
    assert loaded['meta']['dataset_meta']['classes'] == ('a', 'b')
    assert loaded['message_hub']['runtime_info']['iter'] == 3
    assert loaded['message_hub']['log_scalars']['val/mIoU'] == dict(
        type='HistoryBuffer', log_history=[41.5], count_history=[1],
        max_length=before.max_length)

    # --resume: the hook rebuilds the buffers before the message hub loads
    hook.after_load_checkpoint(None, loaded)
    after = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(after, HistoryBuffer)
    for got, want in zip(after.data, before.data):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype
    assert after.max_length == before.max_length
    hub = MessageHub.get_instance('reclip_weights_only_hook_resumed')
    hub.load_state_dict(loaded['message_hub'])
    assert hub.get_scalar('train/loss').mean() == before.mean()
    assert hub.get_info('keep_ckpt_ids') == [1, 2]


def test_after_load_leaves_unconverted_checkpoints_alone():
    # a checkpoint saved without the hook (loaded with --trust-checkpoint)
    checkpoint = _checkpoint()
    buffers = dict(checkpoint['message_hub']['log_scalars'])
    WeightsOnlyCheckpointHook().after_load_checkpoint(None, checkpoint)
    for key, value in checkpoint['message_hub']['log_scalars'].items():
        assert value is buffers[key]
    WeightsOnlyCheckpointHook().after_load_checkpoint(None, {})  # no hub


def test_to_plain_keeps_tensors_and_containers():
    t = torch.zeros(2)
    out = to_plain(
        OrderedDict(a=(np.int8(1), [np.bool_(True), t]), b='s', c=None))
    assert type(out) is OrderedDict
    assert out['a'][0] == 1 and type(out['a'][0]) is int
    assert out['a'][1][0] is True and out['a'][1][1] is t
    assert type(out['a']) is tuple and out['b'] == 's' and out['c'] is None

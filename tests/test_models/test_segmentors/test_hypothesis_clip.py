"""The narrow interface between segmentor and hypothesis generator, the
registry generators live in, and the file backend they read images with."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.fileio import BaseStorageBackend, register_backend
from mmseg.registry import MODELS, TASK_UTILS
from mmseg.structures import SegDataSample
from test_hypothesis_standin import (MEAN, STD, WINDOW, STRIDE, hand_votes,
                                     rgb_image, standin_segmentor)

from reclip_mmseg.models.utils import HypothesisCLIP, hypothesis_clip

FILES = {}


@register_backend('reclip_test_memory', force=True)
class MemoryBackend(BaseStorageBackend):
    """Images kept in ``FILES``; records the constructor's arguments."""
    made_with = []

    def __init__(self, **kwargs):
        self.made_with.append(kwargs)

    def get(self, filepath):
        return FILES[filepath]

    def get_text(self, filepath, encoding='utf-8'):
        raise NotImplementedError


def test_generators_are_task_utils_not_models():
    for name in ('SlidingWindowHypothesis', 'GlobalThresholdHypothesis'):
        assert TASK_UTILS.get(name) is not None
        assert MODELS.get(name) is None


def test_view_holds_only_what_generators_need():
    seg = standin_segmentor()
    view = hypothesis_clip(seg)
    assert isinstance(view, HypothesisCLIP)
    assert hypothesis_clip(view) is view
    torch.testing.assert_close(view.mean.flatten(), torch.tensor(MEAN))
    torch.testing.assert_close(view.std.flatten(), torch.tensor(STD))
    assert view.bgr_to_rgb is True
    assert view.class_names == list('rgbw')
    assert torch.equal(view.query_features(), seg.decode_head.query_features)
    crops = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(view.encode_crops(crops), crops.mean((2, 3)))


def test_unnormalised_preprocessor_gives_raw_pixels(tmp_path):
    seg = standin_segmentor()
    seg.data_preprocessor = MODELS.build(
        dict(type='SegDataPreProcessor', bgr_to_rgb=False))
    path = str(tmp_path / 'cells.png')
    cv2.imwrite(path, rgb_image())
    gen = TASK_UTILS.build(dict(type='SlidingWindowHypothesis'))
    image = gen.load_image(seg, path)
    expected = torch.from_numpy(rgb_image()).permute(2, 0, 1).float()
    assert hypothesis_clip(seg).mean is None
    assert torch.equal(image, expected)


def test_backend_args_reach_the_file_loader():
    ok, encoded = cv2.imencode('.png', rgb_image()[..., ::-1])
    FILES['mem://cells.png'] = encoded.tobytes()
    MemoryBackend.made_with.clear()
    gen = TASK_UTILS.build(
        dict(type='SlidingWindowHypothesis', window=WINDOW, stride=STRIDE,
             backend_args=dict(backend='reclip_test_memory', token='t')))
    sample = SegDataSample(metainfo=dict(img_path='mem://cells.png'))
    got = gen(standin_segmentor(), [sample])[0]
    assert MemoryBackend.made_with == [dict(token='t')]
    votes = hand_votes(rgb_image())
    assert got == [k for k, v in enumerate(votes) if v >= 1]
    # without the backend the path is a local file, which does not exist
    plain = TASK_UTILS.build(dict(type='SlidingWindowHypothesis'))
    with pytest.raises(Exception, match='cells.png'):
        plain(standin_segmentor(), [sample])


def test_fingerprint_reads_the_clip_setting(tmp_path):
    seg = standin_segmentor()
    weights = tmp_path / 'w.pt'
    weights.write_bytes(b'0' * 100)
    seg.backbone.clip_setting = dict(model='ViT-X', pretrained=str(weights))
    gen = TASK_UTILS.build(dict(type='GlobalThresholdHypothesis'))
    fp = gen.fingerprint(seg)
    assert (fp['clip_model'], fp['pretrained']) == ('ViT-X', str(weights))
    assert fp['weights'] is not None and fp['class_names'] == list('rgbw')
    # the segmentor's own setting (model.clip) wins over the backbone's
    seg.clip_setting = dict(model='ViT-Y', pretrained=None)
    fp = gen.fingerprint(seg)
    assert (fp['clip_model'], fp['pretrained'], fp['weights']) == ('ViT-Y',
                                                                   None, None)

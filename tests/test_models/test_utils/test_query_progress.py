"""No silent minute: building Query features shows a per-class progress bar
with an ETA once it has taken longer than QUERY_PROGRESS_AFTER_S."""
import re

import pytest
import torch

from reclip_mmseg.models.utils import CLIPTextEncoder, build_query_features
from reclip_mmseg.models.utils import text_encoder as text_encoder_module

NAMES = ['red circle', 'blue square', 'cat', 'dog', 'tree']


@pytest.fixture
def encoder(tiny_clip_file, tiny_clip_cfg):
    return CLIPTextEncoder(dict(model=tiny_clip_cfg, pretrained=tiny_clip_file[0]))


def test_fast_encoding_prints_nothing(encoder, capsys):
    build_query_features(encoder, NAMES, ['a photo of a {}.'])
    assert capsys.readouterr().out == ''


def test_slow_encoding_shows_classes_done_and_eta(encoder, capsys,
                                                  monkeypatch):
    quiet = build_query_features(encoder, NAMES, ['a photo of a {}.'],
                                 classes_per_batch=2)
    capsys.readouterr()
    monkeypatch.setattr(text_encoder_module, 'QUERY_PROGRESS_AFTER_S', -1.0)
    shown = build_query_features(encoder, NAMES, ['a photo of a {}.'],
                                 classes_per_batch=2)
    out = capsys.readouterr().out
    # per batch of 2 classes: 2/5, 4/5, 5/5, each with an ETA
    done = re.findall(r'(\d)/5, [\d.]+ task/s, elapsed: \d+s, ETA: +(\d+)s',
                      out)
    assert [d for d, _ in done] == ['2', '4', '5']
    assert done[-1][1] == '0' and out.endswith('\n')
    torch.testing.assert_close(shown, quiet, rtol=0, atol=0)

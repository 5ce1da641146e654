"""TensorBoard: an optional extra (pip install .[tensorboard]) and one
--cfg-options that switches the visualizer's backend."""
import argparse
import importlib.metadata

from mmengine.config import Config, DictAction
from mmengine.visualization import TensorboardVisBackend
from mmseg.registry import VISUALIZERS


def test_one_cfg_option_switches_to_tensorboard(tmp_path):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = parser.parse_args([
        '--cfg-options', 'visualizer.vis_backends.0.type=TensorboardVisBackend'
    ]).cfg_options
    cfg = Config.fromfile('reclip_mmseg::reclip_toy.py')
    assert cfg.visualizer.vis_backends == [dict(type='LocalVisBackend')]
    cfg.merge_from_dict(options)
    assert cfg.visualizer.vis_backends == [dict(type='TensorboardVisBackend')]
    visualizer = VISUALIZERS.build(
        dict(cfg.visualizer, name='tb_switch_test', save_dir=str(tmp_path)))
    (backend, ) = visualizer._vis_backends.values()
    assert isinstance(backend, TensorboardVisBackend)


def test_tensorboard_is_an_optional_extra():
    meta = importlib.metadata.metadata('reclip-mmseg')
    assert 'tensorboard' in meta.get_all('Provides-Extra')
    assert 'tensorboard; extra == "tensorboard"' in meta.get_all(
        'Requires-Dist')

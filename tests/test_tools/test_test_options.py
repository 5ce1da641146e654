"""--out, --show-dir (--show-interval) and --tta of tools/test.py and of
mmseg's stock test.py, on the toy (IoU + bias scores in one metric, batch 2)
and tiny
(ReCLIP++ under SegTTAModel) configs."""
import glob
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import mmseg
import pytest
import torch
from conftest import write_synthetic_voc
from mmengine.config import Config
from mmseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs')
STOCK_TEST = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'test.py')


def run(args):
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1',
               PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable] + args, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def pngs(folder):
    return sorted(
        osp.basename(p)
        for p in glob.glob(osp.join(folder, '**', '*.png'), recursive=True))


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    from reclip_mmseg.toy import write_dataset
    return write_dataset(
        str(tmp_path_factory.mktemp('toy')), num_train=2, num_val=4)


def test_every_config_has_a_standard_tta_pipeline():
    leaves = sorted(glob.glob(osp.join(CONFIGS, '*.py')))
    assert len(leaves) >= 10
    for path in leaves:
        cfg = Config.fromfile(path)
        assert cfg.tta_model == dict(type='SegTTAModel'), path
        tta = cfg.tta_pipeline[-1]
        assert tta['type'] == 'TestTimeAug', path
        scales, flips, load, pack = tta['transforms']
        assert [t['scale_factor'] for t in scales] == [
            0.5, 0.75, 1.0, 1.25, 1.5, 1.75
        ], path
        assert [t['prob'] for t in flips] == [0., 1.], path
        assert load == [dict(type='LoadAnnotations')], path
        assert pack == [dict(type='PackSegInputs')], path
        # the scales are relative to the config's own test size
        test_resize = [t for t in cfg.test_pipeline if t['type'] == 'Resize']
        tta_resize = [t for t in cfg.tta_pipeline if t['type'] == 'Resize']
        assert tta_resize == test_resize, path


def test_our_test_py_out_show_dir_tta_on_toy(toy_root, tmp_path):
    common = [
        'tools/test.py',
        osp.join(CONFIGS, 'maskclip_toy.py'), '--cfg-options',
        f'test_dataloader.dataset.data_root={toy_root}',
        'test_dataloader.batch_size=2'
    ]
    # the toy evaluator: PerClassIoUMetric with bias_scores
    run(common + ['--work-dir', str(tmp_path / 'w1'), '--out',
                  str(tmp_path / 'out_tta'), '--show-dir',
                  str(tmp_path / 'show_all'), '--tta'])
    names = ['00000.png', '00001.png', '00002.png', '00003.png']
    assert pngs(tmp_path / 'out_tta') == names
    # every image drawn (2 batches of 2)
    assert pngs(tmp_path / 'show_all') == [f'test_{n}_0.png' for n in names]
    dumped = Config.fromfile(str(tmp_path / 'w1' / 'maskclip_toy.py'))
    assert dumped.model.type == 'SegTTAModel'
    assert dumped.test_dataloader.dataset.pipeline[-1]['type'] == (
        'TestTimeAug')

    run(common + ['--work-dir', str(tmp_path / 'w2'), '--out',
                  str(tmp_path / 'out_plain'), '--show-dir',
                  str(tmp_path / 'show_2nd'), '--show-interval', '2'])
    # every 2nd batch: the second batch's two images
    assert pngs(tmp_path / 'show_2nd') == [
        'test_00002.png_0.png', 'test_00003.png_0.png'
    ]
    plain = [cv2.imread(str(tmp_path / 'out_plain' / n), 0) for n in names]
    tta = [cv2.imread(str(tmp_path / 'out_tta' / n), 0) for n in names]
    assert all(p.shape == (64, 64) for p in plain + tta)
    assert any((p != t).any() for p, t in zip(plain, tta))  # TTA did work


def test_stock_test_py_reclip_under_seg_tta_model(tmp_path):
    data = str(tmp_path / 'voc')
    write_synthetic_voc(data)
    config = osp.join(CONFIGS, 'reclip_tiny_synthetic-voc.py')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    assert type(model).__name__ == 'ReCLIPPlusPlus'
    ckpt = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    run([
        STOCK_TEST, config, ckpt, '--work-dir',
        str(tmp_path / 'work'), '--out',
        str(tmp_path / 'out'), '--show-dir',
        str(tmp_path / 'show'), '--tta', '--cfg-options'
    ] + [
        f'{loader}.dataset.data_root={data}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ])  # strict checkpoint check through the SegTTAModel wrapper
    assert pngs(tmp_path / 'out') == ['val_0.png', 'val_1.png']
    assert pngs(tmp_path / 'show') == [
        'test_val_0.jpg_0.png', 'test_val_1.jpg_0.png'
    ]
    dumped = Config.fromfile(
        str(tmp_path / 'work' / 'reclip_tiny_synthetic-voc.py'))
    assert dumped.model.type == 'SegTTAModel'
    assert dumped.model.module.type == 'ReCLIPPlusPlus'
    pred = cv2.imread(str(tmp_path / 'out' / 'val_0.png'), 0)
    assert pred.shape == (64, 80) and pred.max() < 20


def _load_test_tool():
    spec = importlib.util.spec_from_file_location(
        'reclip_test_tool', osp.join(ROOT, 'tools', 'test.py'))
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(osp.join(ROOT, 'tools'))
    return module


def test_out_sets_every_iou_metric_and_refuses_none():
    tool = _load_test_tool()
    cfg = Config.fromfile(osp.join(CONFIGS, 'maskclip_toy.py'))
    tool.set_output_dir(cfg, '/tmp/preds')
    assert cfg.test_evaluator['output_dir'] == '/tmp/preds'
    assert cfg.test_evaluator['keep_results']
    cfg.test_evaluator = [dict(type='IoUMetric'), dict(type='BiasScoreMetric')]
    tool.set_output_dir(cfg, '/tmp/preds')
    iou, bias = cfg.test_evaluator
    assert iou['output_dir'] == '/tmp/preds' and iou['keep_results']
    assert 'output_dir' not in bias
    cfg.test_evaluator = [dict(type='BiasScoreMetric')]
    with pytest.raises(ValueError, match=r"writes predictions \(needs an "
                       r"IoUMetric, got \['BiasScoreMetric'\]\)"):
        tool.set_output_dir(cfg, '/tmp/preds')


def test_stock_test_py_training_free_with_an_empty_checkpoint(
        toy_root, tmp_path):
    # README: mmseg's stock test.py needs a CHECKPOINT argument; for a
    # training-free config the (slim) checkpoint holds nothing
    empty = str(tmp_path / 'training_free.pth')
    torch.save({'state_dict': {}}, empty)
    opts = [
        '--cfg-options', f'test_dataloader.dataset.data_root={toy_root}'
    ]
    config = osp.join(CONFIGS, 'maskclip_toy.py')
    stock = run([STOCK_TEST, config, empty, '--work-dir',
                 str(tmp_path / 'a'), '--out', str(tmp_path / 'out')] + opts)
    # stock --out sets cfg.test_evaluator['output_dir']: one metric dict
    assert pngs(tmp_path / 'out') == [f'{i:05d}.png' for i in range(4)]
    assert re.search(r'ClassPref: -?\d+\.\d+', stock)
    ours = run(['tools/test.py', config, '--work-dir',
                str(tmp_path / 'b')] + opts)

    def miou(out):
        return re.search(r'Iter\(test\) \[1/1\].*?mIoU: (\d+\.\d+)',
                         out).group(1)

    assert miou(stock) == miou(ours)

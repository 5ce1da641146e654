"""tools/demo.py: any image, any class names, an overlay with a legend."""
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from reclip_mmseg.demo import (TOY_IMAGE, class_shares, draw_overlay,
                               make_palette, parse_classes)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))


def test_parse_classes_commas_and_file(tmp_path):
    assert parse_classes(' cat, dog ,grass,') == ['cat', 'dog', 'grass']
    f = tmp_path / 'classes.txt'
    f.write_text('# my classes\ncat\n\ntv monitor; television; screen\n')
    assert parse_classes(str(f)) == [
        'cat', ['tv monitor', 'television', 'screen']
    ]
    with pytest.raises(ValueError, match='no class names'):
        parse_classes(' , ')


def test_shares_and_overlay_by_hand():
    seg = np.array([[0, 0, 1, 1], [0, 0, 0, 2]])
    assert class_shares(seg, 4).tolist() == [5 / 8, 2 / 8, 1 / 8, 0.0]
    image = np.zeros((2, 4, 3), np.uint8)
    palette = make_palette(4)
    assert len({tuple(c) for c in palette}) == 4
    out = draw_overlay(image, seg, ['a', 'b', ['c', 'c2'], 'd'], palette,
                       alpha=1.0, min_side=2, with_image=False)
    assert out.shape[0] == 2 * 8 + 22 * 4  # legend rows decide the height
    np.testing.assert_array_equal(out[1, 3], palette[2])  # blended pixel
    # legend swatches, largest share first: a (0), b (1), c (2), d (3)
    for row, k in enumerate((0, 1, 2, 3)):
        np.testing.assert_array_equal(out[8 + 22 * row + 8, 4 + 8 + 8],
                                      palette[k])


def test_demo_runs_out_of_the_box_and_with_own_classes(tmp_path, capsys):
    import demo
    written = demo.main(['--out', str(tmp_path / 'a')])
    assert written == [str(tmp_path / 'a' / 'toy_scene_overlay.png')]
    overlay = cv2.imread(written[0])
    assert overlay.shape[0] >= 256 and overlay.shape[1] > 2 * 256
    lines = [l for l in capsys.readouterr().out.splitlines()
             if l.endswith('%')]
    assert abs(sum(float(l.split()[-1][:-1]) for l in lines) - 100) < 0.5
    # own class names (and a file with synonyms) on two images
    classes = tmp_path / 'c.txt'
    classes.write_text('pink heart; heart\nyellow star\nsomething else\n')
    second = str(tmp_path / 'copy.png')
    cv2.imwrite(second, cv2.imread(TOY_IMAGE))
    written = demo.main(
        [TOY_IMAGE, second, '--classes', str(classes), '--out',
         str(tmp_path / 'b')])
    assert [osp.basename(p) for p in written] == [
        'toy_scene_overlay.png', 'copy_overlay.png'
    ]
    out = capsys.readouterr().out
    assert 'pink heart' in out and 'red circle' not in out


def test_trained_checkpoint_keeps_its_classes(tmp_path):
    import demo
    with pytest.raises(SystemExit, match='trained for 10 classes.*lists 2'):
        demo.build(demo.TOY_CONFIG.replace('maskclip', 'reclip'),
                   str(tmp_path / 'ckpt.pth'), ['cat', 'dog'], 'cpu')

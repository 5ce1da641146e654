"""Class names with spaces from the command line: class_names as a .txt
file (mmengine's --cfg-options parser drops spaces inside list values)."""
import argparse

import pytest
from mmengine.config import Config, DictAction
from mmseg.registry import MODELS

from reclip_mmseg.models.utils import resolve_class_names


def parse_cfg_options(*options):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


@pytest.fixture
def names_file(tmp_path):
    path = tmp_path / 'classes.txt'
    path.write_text('# my classes\nred circle\n\n  blue square ; blue box \n'
                    'green  triangle\n')
    return str(path)


def test_file_gives_names_with_spaces_and_synonyms(names_file):
    assert resolve_class_names(names_file) == [
        'red circle', ['blue square', 'blue box'], 'green  triangle'
    ]


def test_list_on_the_command_line_loses_spaces_file_keeps_them(
        names_file, tiny_clip_cfg):
    # why the file exists: mmengine's parser strips the spaces
    lost = parse_cfg_options(
        "model.decode_head.class_names=['red circle','blue square']")
    assert lost['model.decode_head.class_names'] == ['redcircle', 'bluesquare']

    cfg = Config(
        dict(
            model=dict(
                decode_head=dict(
                    type='MaskCLIPHead',
                    class_names='PascalVOC20Dataset',
                    clip=dict(model=tiny_clip_cfg, pretrained=None),
                    in_channels=32))))
    cfg.merge_from_dict(
        parse_cfg_options(f'model.decode_head.class_names={names_file}'))
    head = MODELS.build(cfg.model.decode_head)
    assert head.class_names == [
        'red circle', ['blue square', 'blue box'], 'green  triangle'
    ]
    assert head.num_classes == 3


def test_missing_or_empty_file_is_named(tmp_path):
    missing = str(tmp_path / 'nope.txt')
    with pytest.raises(FileNotFoundError, match=f'class_names file {missing} '
                       'not found'):
        resolve_class_names(missing)
    empty = tmp_path / 'empty.txt'
    empty.write_text('# nothing\n\n')
    with pytest.raises(ValueError, match='lists no class name'):
        resolve_class_names(str(empty))

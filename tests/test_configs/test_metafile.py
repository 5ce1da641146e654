"""model-index.yml / configs/metafile.yaml: one entry per shipped config,
paper numbers marked as such, no weights URL, same numbers as the README."""
import glob
import os.path as osp
import re

import yaml

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_models():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    assert index['Import'] == ['configs/metafile.yaml']
    with open(osp.join(ROOT, index['Import'][0])) as f:
        meta = yaml.safe_load(f)
    return meta['Collections'], meta['Models']


def test_one_entry_per_config_and_no_weights():
    collections, models = load_models()
    leaves = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'configs', '*.py')))
    assert len(leaves) >= 10
    assert sorted(m['Config'] for m in models) == leaves
    names = {c['Name'] for c in collections}
    for m in models:
        assert m['Name'] == osp.splitext(osp.basename(m['Config']))[0]
        assert m['In Collection'] in names, m['Name']
        assert 'Weights' not in m, m['Name']  # none published yet
        metrics = m['Results']['Metrics']
        # a number is either the paper's (marked) or absent
        assert (m['Results']['Source'] == 'paper') == bool(metrics), m['Name']


def test_readme_results_row_is_the_metafile():
    _, models = load_models()
    paper = {m['Name']: m['Results']['Metrics']['mIoU'] for m in models
             if m['Results']['Source'] == 'paper'}
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    header = re.search(r'^\| \| VOC-20 \|.*$', readme, re.M).group(0)
    row = re.search(r'^\| ReCLIP\+\+ \(paper[^|]*\|(.*)\|$', readme,
                    re.M).group(1)
    columns = [c.strip() for c in header.strip('|').split('|')][1:]
    assert columns == ['VOC-20', 'Context-59', 'ADE-150', 'Cityscapes-19',
                       'COCO-Stuff-27']
    order = ['reclip_voc', 'reclip_context', 'reclip_ade',
             'reclip_cityscapes', 'reclip_cocostuff27']
    assert [float(c) for c in row.split('|')] == [paper[n] for n in order]

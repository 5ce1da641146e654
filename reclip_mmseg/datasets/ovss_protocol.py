"""What the OVSS dataset bases derive from their table of the peers' values.

Each ``configs/_base_/datasets/ovss_*.py`` lists, per peer (SCLIP, ClearCLIP,
NACLIP), its released short side, ``test_cfg``, logit scale, thresholds and
class-name file (``ovss_protocol``, ../shared/PEERS.md); the method configs
(``configs/ovss/<method>_<dataset>.py``) read the pipelines and probability
steps this function adds to each peer's entry.
"""
from typing import Dict, List

__all__ = ['add_peer_pipelines_and_steps']


def add_peer_pipelines_and_steps(ovss_protocol: Dict[str, dict],
                                 test_pipeline: List[dict],
                                 tta_pipeline: List[dict]) -> None:
    """Add ``test_pipeline``, ``tta_pipeline`` and ``probs`` to each peer.

    The pipelines are the dataset's with its ``Resize`` replaced by one to
    the peer's ``short_side``; ``probs`` are the peer's steps for
    ``model.test_cfg.postprocess_merged`` (after PAMR where the method runs
    it): ``SynonymSoftmax`` (logit scale, softmax over all queries, max over
    each class's synonyms), then ``AreaThreshold`` (SCLIP's ``area_thd``) and
    ``BackgroundThreshold`` (``prob_thd`` on class 0) where the peer has them.

    Args:
        ovss_protocol (dict): ``{peer: values}``, changed in place.
        test_pipeline (list): The dataset's test pipeline.
        tta_pipeline (list): Its test-time augmentation pipeline.
    """
    for peer in ovss_protocol.values():
        resize = dict(
            type='Resize', scale=(2048, peer['short_side']), keep_ratio=True)
        peer['test_pipeline'] = [
            resize if t['type'] == 'Resize' else t for t in test_pipeline
        ]
        peer['tta_pipeline'] = [
            resize if t['type'] == 'Resize' else t for t in tta_pipeline
        ]
        peer['probs'] = [
            dict(type='SynonymSoftmax', logit_scale=peer['logit_scale'],
                 class_names=peer['class_names'])
        ]
        if 'area_thd' in peer:
            peer['probs'].append(
                dict(type='AreaThreshold', area_thd=peer['area_thd']))
        if 'prob_thd' in peer:
            peer['probs'].append(
                dict(type='BackgroundThreshold', prob_thd=peer['prob_thd']))

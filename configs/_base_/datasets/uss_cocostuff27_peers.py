# COCO-Stuff-27 (USS) for the training-free peers. No peer has a protocol for
# it: each peer's COCO-Stuff171 values (the same val2017 images; PEERS.md)
# with the dataset's 27 class names (no synonyms), in the same table form as
# the ovss_* bases, so configs/uss/<method>_cocostuff27.py pick a column.
_base_ = ['./cocostuff27.py']
_names = 'COCOStuff27Dataset'
ovss_protocol = dict(
    sclip=dict(
        short_side=448,
        test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112)),
        logit_scale=40,
        class_names=_names),
    clearclip=dict(
        short_side=448,
        test_cfg=dict(mode='slide', crop_size=(448, 448), stride=(224, 224)),
        logit_scale=50,
        class_names=_names),
    naclip=dict(
        short_side=336,
        test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112)),
        logit_scale=40,
        class_names=_names))
# as in the ovss_* bases (why __import__: see configs/_base_/datasets/ovss_*)
__import__('reclip_mmseg.datasets.ovss_protocol', fromlist=['_']
           ).add_peer_pipelines_and_steps(ovss_protocol, _base_.test_pipeline,
                                          _base_.tta_pipeline)
del _names

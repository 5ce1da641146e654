# NACLIP on COCO-Stuff-27 (USS), training-free: naclip's column of the
# peers' table in _base_/datasets/uss_cocostuff27_peers.py (its COCO-Stuff171
# values with the dataset's 27 class names).
_base_ = [
    '../_base_/methods/naclip.py',
    '../_base_/datasets/uss_cocostuff27_peers.py',
    '../_base_/schedules/schedule_20k.py'
]
_protocol = _base_.ovss_protocol.naclip
model = dict(
    decode_head=dict(class_names=_protocol.class_names),
    test_cfg=dict(
        _protocol.test_cfg,
        postprocess_merged=_base_.pamr_steps + _protocol.probs))
test_pipeline = _protocol.test_pipeline
tta_pipeline = _protocol.tta_pipeline
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
del _protocol

# ClearCLIP on VOC20, ClearCLIP's released protocol: short side 448, slide
# crop 448 stride 224, logit scale 50, class names voc20_clearclip.txt. The
# values come from ovss_protocol.clearclip of the dataset base.
_base_ = [
    '../_base_/methods/clearclip.py',
    '../_base_/datasets/ovss_voc20.py',
    '../_base_/schedules/test_only.py'
]
_protocol = _base_.ovss_protocol.clearclip
model = dict(
    decode_head=dict(class_names=_protocol.class_names),
    test_cfg=dict(
        _protocol.test_cfg,
        postprocess_merged=_base_.pamr_steps + _protocol.probs))
short_side = _protocol.short_side
test_pipeline = _protocol.test_pipeline
tta_pipeline = _protocol.tta_pipeline
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
del _protocol

# SCLIP on VOC20, SCLIP's released protocol: short side 336, slide crop 224
# stride 112, logit scale 40, class names voc20.txt. The values come from
# ovss_protocol.sclip of the dataset base.
_base_ = [
    '../_base_/methods/sclip.py',
    '../_base_/datasets/ovss_voc20.py',
    '../_base_/schedules/test_only.py'
]
_protocol = _base_.ovss_protocol.sclip
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

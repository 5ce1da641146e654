# NACLIP + PAMR on Cityscapes, NACLIP's released protocol: short side 560,
# slide crop 224 stride 112, logit scale 40, class names cityscapes.txt,
# PAMR. The values come from ovss_protocol.naclip of the dataset base.
_base_ = [
    '../_base_/methods/naclip-pamr.py',
    '../_base_/datasets/ovss_cityscapes.py',
    '../_base_/schedules/test_only.py'
]
_protocol = _base_.ovss_protocol.naclip
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

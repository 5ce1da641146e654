# NACLIP + PAMR on COCO-Stuff-27 (USS), training-free. No peer has a protocol
# for it: NACLIP's COCO-Stuff171 values (the same val2017 images) - short
# side 336, slide crop 224 stride 112, logit scale 40 - with the dataset's 27
# class names (no synonyms). PAMR as NACLIP's.
_base_ = [
    '../_base_/methods/naclip-pamr.py',
    '../_base_/datasets/cocostuff27.py',
    '../_base_/schedules/schedule_20k.py'
]
_names = 'COCOStuff27Dataset'
model = dict(
    decode_head=dict(class_names=_names),
    test_cfg=dict(
        mode='slide',
        crop_size=(224, 224),
        stride=(112, 112),
        postprocess_merged=_base_.pamr_steps + [
            dict(type='SynonymSoftmax', logit_scale=40, class_names=_names)
        ]))
_resize = dict(type='Resize', scale=(2048, 336), keep_ratio=True)
test_pipeline = [
    _resize if t['type'] == 'Resize' else t for t in _base_.test_pipeline
]
tta_pipeline = [
    _resize if t['type'] == 'Resize' else t for t in _base_.tta_pipeline
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
del _names, _resize

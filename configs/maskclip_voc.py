# Training-free MaskCLIP baseline: python tools/test.py configs/maskclip_voc.py
_base_ = [
    './_base_/models/maskclip_vit-b16.py', './_base_/datasets/voc20.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_20k.py'
]
model = dict(decode_head=dict(class_names='PascalVOC20Dataset'))

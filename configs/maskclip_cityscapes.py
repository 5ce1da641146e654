# Training-free MaskCLIP baseline: python tools/test.py configs/maskclip_cityscapes.py
_base_ = [
    './_base_/models/maskclip_vit-b16.py', './_base_/datasets/cityscapes19.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_20k.py'
]
model = dict(decode_head=dict(class_names='CityscapesDataset'))

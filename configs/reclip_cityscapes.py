_base_ = [
    './_base_/models/reclip_vit-b16.py', './_base_/datasets/cityscapes19.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_20k.py'
]
# Hypothesis window = crop size / 6, stride = window / 2 (released code);
# prompt-denoising threshold as released.
model = dict(
    decode_head=dict(class_names='CityscapesDataset'),
    test_cfg=dict(postprocess=[dict(type='PromptDenoise', threshold=0.5)]),
    hypothesis=dict(window=85, stride=42))
# Released: batch 16 (set in the dataset config), lr 0.16.
optim_wrapper = dict(optimizer=dict(lr=0.16))

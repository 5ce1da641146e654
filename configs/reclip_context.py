_base_ = [
    './_base_/models/reclip_vit-b16.py', './_base_/datasets/context59.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_20k.py'
]
# Hypothesis window = crop size / 6, stride = window / 2 (released code);
# prompt-denoising threshold as released.
model = dict(
    decode_head=dict(class_names='PascalContext59USSDataset'),
    test_cfg=dict(postprocess=[dict(type='PromptDenoise', threshold=0.85)]),
    hypothesis=dict(window=80, stride=40))

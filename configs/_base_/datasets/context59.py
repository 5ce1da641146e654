# Pascal Context-59 (background ignored through the dataset's
# reduce_zero_label). Layout as in mmseg's docs
# (docs/en/user_guides/2_dataset_prepare.md: data/VOCdevkit/VOC2010 with
# JPEGImages, SegmentationClassContext, ImageSets/SegmentationContext).
# Unsupervised: the train pipeline reads no labels (no LoadAnnotations,
# RandomCrop without cat_max_ratio); only the val/test pipeline loads ground
# truth.
dataset_type = 'PascalContext59USSDataset'
data_root = 'data/VOCdevkit/VOC2010'
crop_size = (480, 480)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResize',
        scale=(1792, 448),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 448), keep_ratio=True),
    # after Resize: the ground truth stays at full resolution; the dataset's
    # reduce_zero_label=True is applied here (0 -> 255, k -> k - 1)
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# Test-time augmentation (tools/test.py --tta, also mmseg's stock test.py):
# mmseg's standard multi-scale + flip, 6 scales x 2 flips, the scales relative
# to the test size above; SegTTAModel averages the 12 softmaxed predictions.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 448), keep_ratio=True),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]
        ])
]
train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# Toy world (reclip_mmseg.toy): 64x64 synthetic shapes, 10 classes,
# background ignored (255) as in VOC-20. Written on first use by
# tools/toy_quickstart.py (or reclip_mmseg.toy.write_dataset) in mmseg
# layout: img_dir/{train,val}, ann_dir/val (the train split has no labels).
dataset_type = 'ToyWorldDataset'
data_root = 'data/toy_world'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# Test-time augmentation (tools/test.py --tta, also mmseg's stock test.py):
# mmseg's standard multi-scale + flip, 6 scales x 2 flips of the 64 px image;
# SegTTAModel averages the 12 softmaxed predictions.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
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
    batch_size=16,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=50,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mIoU (with each class's IoU in the returned metrics) next to the bias
# scores of ReCLIP++ Sec. 4.4 (BiasScoreMetric's, default arguments), in one
# metric dict so that mmseg's stock tools/test.py --out can set output_dir.
val_evaluator = dict(
    type='PerClassIoUMetric', iou_metrics=['mIoU'], bias_scores=dict())
test_evaluator = val_evaluator

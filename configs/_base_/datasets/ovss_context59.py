# Pascal Context without background, 59 classes (reclip_mmseg's
# PascalContext59USSDataset = mmseg's PascalContextDataset59,
# reduce_zero_label=True: background 0 -> 255 ignored, 1..59 -> 0..58).
# Layout as in mmseg's docs: data/VOCdevkit/VOC2010 with JPEGImages,
# SegmentationClassContext, ImageSets/SegmentationContext/val.txt.
#
# The open-vocabulary (OVSS) protocol of SCLIP / ClearCLIP / NACLIP: test only,
# batch 1, short side resized to `short_side` (the ground truth stays at full
# resolution: LoadAnnotations after Resize), mmseg's IoUMetric. `short_side`
# here is NACLIP's; `ovss_protocol` lists each peer's released values (short
# side, model.test_cfg, logit_scale, prob_thd / area_thd where the peer uses
# them, its class-name file) for the method configs to pick from, e.g.
# `model = dict(test_cfg={{_base_.ovss_protocol.naclip.test_cfg}})`.
# Class names: `ovss_class_names`, the peers' file (one class per line, ';'
# between synonyms); their prompt texts differ from the dataset's names, hence
# allow_class_name_mismatch (ClassCountCheckHook warns instead of failing).

dataset_type = 'PascalContext59USSDataset'
data_root = 'data/VOCdevkit/VOC2010'
short_side = 336
_class_dir = '{{fileDirname}}/../class_names/'
ovss_class_names = _class_dir + 'context59.txt'
ovss_protocol = dict(
    sclip=dict(
        short_side=336,
        test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112)),
        logit_scale=40,
        class_names=_class_dir + 'context59.txt'),
    clearclip=dict(
        short_side=448,
        test_cfg=dict(mode='slide', crop_size=(448, 448), stride=(224, 224)),
        logit_scale=50,
        class_names=_class_dir + 'context59.txt'),
    naclip=dict(
        short_side=336,
        test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112)),
        logit_scale=40,
        class_names=_class_dir + 'context59.txt'))
allow_class_name_mismatch = True
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, short_side), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# Test-time augmentation (tools/test.py --tta): mmseg's standard multi-scale +
# flip around the test size above (the peers use none).
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, short_side), keep_ratio=True),
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
test_dataloader = dict(
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
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])

# Derived per peer, for the method configs (configs/ovss/<method>_<dataset>.py
# read them): its test and TTA pipelines at its short side, and its
# probability steps for model.test_cfg.postprocess_merged (after PAMR where
# the method runs it): logit scale, softmax over all queries and max over
# each class's synonyms, then SCLIP's area_thd and prob_thd on class 0 where
# the peer uses them (README "Training-free peers").
for _peer in ovss_protocol.values():
    _resize = dict(
        type='Resize', scale=(2048, _peer['short_side']), keep_ratio=True)
    _peer['test_pipeline'] = [
        _resize if t['type'] == 'Resize' else t for t in test_pipeline
    ]
    _peer['tta_pipeline'] = [
        _resize if t['type'] == 'Resize' else t for t in tta_pipeline
    ]
    _peer['probs'] = [
        dict(
            type='SynonymSoftmax',
            logit_scale=_peer['logit_scale'],
            class_names=_peer['class_names'])
    ]
    if 'area_thd' in _peer:
        _peer['probs'].append(
            dict(type='AreaThreshold', area_thd=_peer['area_thd']))
    if 'prob_thd' in _peer:
        _peer['probs'].append(
            dict(type='BackgroundThreshold', prob_thd=_peer['prob_thd']))
del _peer, _resize

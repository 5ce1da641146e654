# Pascal VOC 2012 with background, 21 classes (mmseg's PascalVOCDataset):
# label 0 is the class 'background', 1..20 the objects, 255 ignored (no
# reduce_zero_label). Layout as in mmseg's docs
# (docs/en/user_guides/2_dataset_prepare.md): data/VOCdevkit/VOC2012 with
# JPEGImages, SegmentationClass, ImageSets/Segmentation/val.txt.
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

dataset_type = 'PascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
short_side = 336
_class_dir = '{{fileDirname}}/../class_names/'
ovss_class_names = _class_dir + 'voc21.txt'
ovss_protocol = dict(
    sclip=dict(
        short_side=336,
        test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112)),
        logit_scale=65,
        prob_thd=0.1,
        area_thd=0.1,
        class_names=_class_dir + 'voc21.txt'),
    clearclip=dict(
        short_side=448,
        test_cfg=dict(mode='slide', crop_size=(448, 448), stride=(224, 224)),
        logit_scale=50,
        prob_thd=0.5,
        class_names=_class_dir + 'voc21_clearclip.txt'),
    naclip=dict(
        short_side=336,
        test_cfg=dict(mode='whole'),
        logit_scale=40,
        prob_thd=0.1,
        class_names=_class_dir + 'voc21.txt'))
ovss_background_class = 0  # prob_thd sends pixels here
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
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])

# Derived per peer, for the method configs (configs/ovss/<method>_<dataset>.py
# read them): its test and TTA pipelines at its short side and its
# probability steps for model.test_cfg.postprocess_merged, by one function for
# all eight bases (an import statement would make mmengine read this file as
# a lazy-import config, hence __import__; its name is not kept in the config).
__import__('reclip_mmseg.datasets.ovss_protocol', fromlist=['_']
           ).add_peer_pipelines_and_steps(ovss_protocol, test_pipeline,
                                          tta_pipeline)

# Cityscapes, 19 classes (mmseg's CityscapesDataset: label maps
# *_gtFine_labelTrainIds.png, 0..18, 255 ignored, written by mmseg's
# tools/dataset_converters/cityscapes.py). Layout as in mmseg's docs:
# data/cityscapes with leftImg8bit/val and gtFine/val.
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

dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes'
short_side = 560
_class_dir = '{{fileDirname}}/../class_names/'
ovss_class_names = _class_dir + 'cityscapes.txt'
ovss_protocol = dict(
    sclip=dict(
        short_side=560,
        test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112)),
        logit_scale=40,
        class_names=_class_dir + 'cityscapes.txt'),
    clearclip=dict(
        short_side=448,
        test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(224, 224)),
        logit_scale=50,
        class_names=_class_dir + 'cityscapes.txt'),
    naclip=dict(
        short_side=560,
        test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112)),
        logit_scale=40,
        class_names=_class_dir + 'cityscapes.txt'))
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
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
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

# Runtime shared by every config (mmseg 1.x default_runtime + the plugin).
custom_imports = dict(imports=['reclip_mmseg'], allow_failed_imports=False)
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# TensorBoard (pip install .[tensorboard]) with one option:
#   --cfg-options visualizer.vis_backends.0.type=TensorboardVisBackend
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# Fails early if model.decode_head.num_classes != the dataset's classes;
# saves checkpoints in plain types, loadable with torch's weights_only
# protection (also when mmseg's stock tools/train.py runs the config);
# saves and restores every RNG with the checkpoint (exact --resume);
# refuses mismatched checkpoints, bad labels and a work dir in use
# (README "What we check for you").
custom_hooks = [
    dict(type='ClassCountCheckHook'),
    dict(type='WeightsOnlyCheckpointHook'),
    # checkpoints hold the trained part; CLIP comes from `pretrained`
    # (full=True, or tools/train.py --full-checkpoint, keeps CLIP in them)
    dict(type='SlimCheckpointHook', full=False),
    dict(type='RNGStateHook'),
    dict(type='CheckpointCheckHook'),
    dict(type='LabelCheckHook'),
    dict(type='WorkDirLockHook'),
    # logs the first hypothesis pass (images done, ETA) every 10 s
    dict(type='HypothesisProgressHook')
]
tta_model = dict(type='SegTTAModel')
# MMDistributedDataParallel, or no wrapper for a model without trainable
# parameters (DDP refuses those): training-free configs run dist_test.sh.
model_wrapper_cfg = dict(
    type='DDPIfTrainable', broadcast_buffers=False,
    find_unused_parameters=False)

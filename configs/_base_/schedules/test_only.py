# Test loop only, for the training-free configs on the OVSS dataset bases
# (they have no train or val data; mmengine wants data for each loop given).
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    # draws only with --show/--show-dir; interval 1: every test image
    visualization=dict(type='SegVisualizationHook', interval=1))

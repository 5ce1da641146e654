from mmengine.model import MMDistributedDataParallel
# mmengine's root registry: Runner.wrap_model looks the type up there (an
# unscoped get), not in mmseg's child registry.
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DDPIfTrainable(MMDistributedDataParallel):
    """``MMDistributedDataParallel``, or the bare model when no parameter of
    it requires a gradient.

    torch's ``DistributedDataParallel`` refuses a module without trainable
    parameters, so a distributed test (``tools/dist_test.sh``) of a
    training-free config (MaskCLIP baseline) would fail at wrapping. Such a
    model needs no gradient synchronisation: it runs unwrapped in every
    process; the sampler still shards the data and the evaluator still
    gathers results across processes. Any model with a trainable parameter
    is wrapped exactly as ``MMDistributedDataParallel`` (same arguments).

    Used by ``model_wrapper_cfg`` in ``configs/_base_/default_runtime.py``.
    """

    def __new__(cls, module, **kwargs):
        if any(p.requires_grad for p in module.parameters()):
            return super().__new__(cls)
        return module  # not an instance of cls: __init__ is not called

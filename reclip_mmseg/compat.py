"""Fixes for the dependency stack, each in one small function.

``import reclip_mmseg`` calls :func:`apply_stack_fixes` before it imports
anything from mmseg. Every fix checks whether it is needed and is a no-op
where the stack already works:

* :func:`install_mmcv_ops_standin` - mmseg 1.2.2 imports ``mmcv.ops`` in four
  modules, which fails on mmcv-lite (no compiled ``mmcv._ext``).
* :func:`load_checkpoints_weights_only` - mmengine 0.10.7 opens local files
  with torch's default (``weights_only=True`` only from torch 2.6) and URLs
  with ``weights_only=False``: every checkpoint could run code. All now load
  weights-only unless the user trusts that file (see
  :mod:`reclip_mmseg.safe_checkpoint`; upstream: mmengine issue 1655).
* :func:`allow_cpu_distributed` - mmengine 0.10.7 ``init_dist('pytorch')``
  calls ``torch.cuda.set_device`` unconditionally, so ``torchrun`` jobs fail
  on machines without CUDA.
* :func:`identity_resize_skipped` - speed, not a bug, and not applied on
  import: mmseg 1.2.2 ``BaseSegmentor.postprocess_result`` bilinearly
  resizes every image's ``(K, H, W)`` logits to ``ori_shape`` even when they
  already have that shape (~8% of ADE-size CPU inference, see README
  "Speed"). Our segmentors skip it within their own ``postprocess_result``
  only. Exact: the skipped resize is the identity.
* :func:`resolve_package_configs` - mmengine 0.10.7 knows ``scope::path``
  config names only for OpenMMLab packages, in ``<package>/.mim/configs``:
  ``reclip_mmseg::`` finds the configs of the wheel (``.mim``) or of the
  checkout (editable install); the start-up hook applies it as soon as
  ``mmengine.config`` is imported, so no ``import reclip_mmseg`` is needed.
"""
import sys
from contextlib import contextmanager

__all__ = [
    'apply_stack_fixes', 'install_mmcv_ops_standin',
    'load_checkpoints_weights_only', 'allow_cpu_distributed',
    'identity_resize_skipped', 'resolve_package_configs', 'config_path',
    'accelerator_available'
]


def install_mmcv_ops_standin() -> bool:
    """Put a pure-Python stand-in for ``mmcv.ops`` in ``sys.modules``.

    Only when ``mmcv._ext`` is missing (mmcv-lite) and ``mmcv.ops`` has not
    been imported yet. The stand-in lives in the top-level module
    :mod:`reclip_mmseg_startup`, whose ``.pth`` start-up hook serves the same
    stand-in to ``import mmcv.ops`` when nothing imported ``reclip_mmseg``
    (``from mmseg.apis import ...``, mmseg's stock tools).

    Returns:
        bool: True if the stand-in was installed, False if not needed.
    """
    import reclip_mmseg_startup as startup

    if 'mmcv.ops' in sys.modules or not startup.mmcv_lite_installed():
        return False
    import mmcv

    ops = startup.build_mmcv_ops_standin()
    sys.modules['mmcv.ops'] = ops
    mmcv.ops = ops
    return True


def load_checkpoints_weights_only() -> bool:
    """Make every mmengine checkpoint load weights-only, unless trusted.

    mmengine's local-file loader (``CheckpointLoader`` prefix ``''``) is
    re-registered as :func:`reclip_mmseg.safe_checkpoint.load_local`, and the
    ``load_url`` its http/https, ``torchvision://`` and ``open-mmlab://``
    loaders call is replaced by :func:`reclip_mmseg.safe_checkpoint.load_url`.
    Both use ``torch.load(weights_only=True)`` and a narrow allowlist of
    numeric numpy types; a file refused that way raises an error naming the
    file, the refused globals and the opt-in (``--trust-checkpoint``).

    Returns:
        bool: True if installed now, False if already installed.
    """
    from mmengine.runner import CheckpointLoader
    from mmengine.runner import checkpoint as mmengine_checkpoint

    from . import safe_checkpoint

    if CheckpointLoader._schemes.get('') is safe_checkpoint.load_local:
        return False
    CheckpointLoader.register_scheme(
        prefixes='', loader=safe_checkpoint.load_local, force=True)
    mmengine_checkpoint.load_url = safe_checkpoint.load_url
    return True


def accelerator_available() -> bool:
    """Whether mmengine sees any accelerator (CUDA, NPU, MLU, MUSA, MPS,
    DIPU)."""
    from mmengine import device

    checks = ('is_cuda_available', 'is_npu_available', 'is_mlu_available',
              'is_musa_available', 'is_mps_available', 'is_dipu_available')
    return any(
        getattr(device, name, lambda: False)() for name in checks)


def allow_cpu_distributed() -> bool:
    """Let ``--launcher pytorch`` (torchrun) jobs start without CUDA.

    Where no accelerator of any kind is present (:func:`accelerator_available`:
    CUDA, NPU, MLU, MUSA, MPS, DIPU as mmengine detects them), mmengine's pytorch
    launcher is replaced by one that skips ``torch.cuda.set_device`` and uses
    the ``gloo`` backend when ``nccl`` (which needs GPUs) is configured. With
    an accelerator, mmengine's own launcher (right there) is kept.
    (CPU processes also need ``model_wrapper_cfg`` without ``device_ids``;
    see ``configs/reclip_tiny_synthetic-voc.py``.)

    Returns:
        bool: True if the launcher was replaced, False if not needed.
    """
    if accelerator_available():
        return False
    import torch.distributed as torch_dist
    from mmengine.dist import utils as dist_utils

    def _init_dist_pytorch(backend='gloo', init_backend='torch', **kwargs):
        if init_backend != 'torch':
            raise ValueError(f'init_backend={init_backend!r} needs CUDA')
        if backend == 'nccl':
            backend = 'gloo'
        torch_dist.init_process_group(backend=backend, **kwargs)

    _init_dist_pytorch.reclip_fix = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch
    return True


def _resize_unless_identity(resize):

    def resize_unless_identity(input, size=None, **kwargs):
        if (size is not None and kwargs.get('scale_factor') is None
                and tuple(input.shape[2:]) == tuple(int(s) for s in size)):
            return input
        return resize(input, size=size, **kwargs)

    resize_unless_identity.reclip_fix = True
    return resize_unless_identity


@contextmanager
def identity_resize_skipped():
    """Within the block, ``postprocess_result`` skips its resize when the
    size already matches.

    Only the ``resize`` that ``mmseg.models.segmentors.base`` uses (in
    ``postprocess_result``) is replaced, and only while the block runs: our
    segmentors (:class:`~reclip_mmseg.models.segmentors.CLIPSegmentor`) wrap
    their ``postprocess_result`` in it; every other segmentor in the process
    is untouched. A bilinear or nearest resize to the input's own size
    returns the input values unchanged, so predictions are bit-identical.
    """
    from mmseg.models.segmentors import base

    resize = base.resize
    if getattr(resize, 'reclip_fix', False):  # nested
        yield
        return
    base.resize = _resize_unless_identity(resize)
    try:
        yield
    finally:
        base.resize = resize


def resolve_package_configs() -> bool:
    """``reclip_mmseg::`` config names: see
    :func:`reclip_mmseg_startup.resolve_package_configs` (the start-up hook
    applies it when ``mmengine.config`` is imported; this covers interpreters
    started with the hook switched off)."""
    import reclip_mmseg_startup as startup
    return startup.resolve_package_configs()


def config_path(name: str) -> str:
    """The path of a shipped config: see
    :func:`reclip_mmseg_startup.config_path`."""
    import reclip_mmseg_startup as startup
    return startup.config_path(name)


def apply_stack_fixes() -> None:
    """Apply every fix above that this environment needs."""
    resolve_package_configs()
    install_mmcv_ops_standin()
    load_checkpoints_weights_only()
    allow_cpu_distributed()

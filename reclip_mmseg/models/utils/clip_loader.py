"""Build an open_clip CLIP model from a name or config dict and load weights.

One entry point, :func:`build_clip`, shared by the backbone (visual tower) and
the decode head (text tower). Loading rules:

* ``pretrained=None``: random weights (no file, no network).
* an existing local file: an open_clip / mmengine state dict, or OpenAI's
  TorchScript archive (``ViT-B-16.pt``). OpenAI's weights are loaded into a
  network built with QuickGELU, as they were trained.
* an open_clip pretrained tag (``'openai'``, ``'laion2b_s34b_b88k'``, ...):
  taken from the local cache, else downloaded by open_clip. Without network it
  fails at once with a message that says how to pass a local file instead.
"""
import copy
import logging
import os
import os.path as osp
import socket
import urllib.request
import zipfile
from typing import Optional, Tuple, Union
from urllib.parse import urlparse

import open_clip
import torch
import torch.nn as nn
from mmengine.logging import print_log

__all__ = ['build_clip', 'build_tokenizer', 'is_torchscript_archive']


def is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a TorchScript archive (OpenAI's CLIP format)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(
            name.endswith('/constants.pkl') or name == 'constants.pkl'
            for name in zf.namelist())


def _load_torchscript_weights(model: nn.Module, file: str) -> None:
    """Load OpenAI's TorchScript archive into an open_clip ``CLIP``.

    Read with ``torch.jit.load``, which only runs TorchScript's own
    unpickler (tensors and TorchScript types), never Python pickle: a file
    that merely looks like an archive fails to load instead of running
    code (a ``torch.load(weights_only=False)`` fallback would run it).
    """
    try:
        state_dict = torch.jit.load(file, map_location='cpu').state_dict()
    except Exception as e:
        raise RuntimeError(
            f'{file} looks like a TorchScript archive (OpenAI CLIP format) '
            f'but torch.jit.load cannot read it: {e}') from e
    state_dict = {
        k: v
        for k, v in state_dict.items()
        if k not in ('input_resolution', 'context_length', 'vocab_size')
    }
    open_clip.factory.resize_pos_embed(state_dict, model)
    model.load_state_dict(state_dict, strict=True)


def _connect_target(url: str) -> Optional[Tuple[str, int]]:
    """Where a download of ``url`` connects first: the HTTPS proxy that
    urllib/requests/huggingface_hub would use (``HTTPS_PROXY``, ``NO_PROXY``
    honoured, via ``urllib.request.getproxies``), else the host itself."""
    host = urlparse(url).hostname
    if not host:
        return None
    proxy = urllib.request.getproxies().get('https')
    if proxy and not urllib.request.proxy_bypass(host):
        parsed = urlparse(proxy if '://' in proxy else f'http://{proxy}')
        if parsed.hostname:
            return parsed.hostname, parsed.port or 8080
    return host, 443


def _host_reachable(url: str, timeout: float = 3.0) -> bool:
    """A fast check before open_clip's download (whose urllib fetch of the
    OpenAI URL has no timeout and would hang where packets are dropped)."""
    target = _connect_target(url)
    if target is None:
        return False
    try:
        socket.create_connection(target, timeout=timeout).close()
        return True
    except OSError:
        return False


def _cached_tag_file(tag_cfg: dict, cache_dir: Optional[str]) -> Optional[str]:
    """Local file of a pretrained tag if already downloaded, else None."""
    hf_hub = tag_cfg.get('hf_hub', '')
    if hf_hub:
        from huggingface_hub import hf_hub_download
        repo_id, filename = os.path.split(hf_hub)
        names = [filename] if filename else [
            'open_clip_model.safetensors', 'open_clip_pytorch_model.bin'
        ]
        for name in names:
            try:
                return hf_hub_download(
                    repo_id, name, cache_dir=cache_dir, local_files_only=True)
            except Exception:  # not cached (or hub unavailable): try next
                pass
    url = tag_cfg.get('url', '')
    if url:
        root = cache_dir or osp.expanduser('~/.cache/clip')
        path = osp.join(root, osp.basename(url))
        if osp.isfile(path):
            return path
    return None


def _fetch_tag(model_name: str, tag: str, tag_cfg: dict,
               cache_dir: Optional[str]) -> str:
    cached = _cached_tag_file(tag_cfg, cache_dir)
    if cached is not None:
        return cached
    sources = [tag_cfg[k] for k in ('url', 'hf_hub') if tag_cfg.get(k)]
    hf_url = 'https://huggingface.co'
    offline = os.environ.get('HF_HUB_OFFLINE', '0') not in ('', '0', 'false')
    if offline or not any(
            _host_reachable(s if '://' in s else hf_url) for s in sources):
        reason = ('HF_HUB_OFFLINE is set' if offline else
                  'no network connection to ' +
                  ', '.join(urlparse(s if '://' in s else hf_url).hostname
                            for s in sources))
        raise RuntimeError(
            f"Cannot download open_clip pretrained weights '{tag}' for "
            f"'{model_name}': {reason}, and they are not in the local cache. "
            'Download the checkpoint on a machine with network '
            f'({" or ".join(sources)}) and pass its local path instead, e.g. '
            f"pretrained='/path/to/{model_name}.pt' (an open_clip state dict "
            "or OpenAI's TorchScript archive), or in a config: "
            '--cfg-options model.clip.pretrained=/path/to/file.pt')
    return open_clip.download_pretrained(tag_cfg, cache_dir=cache_dir)


def _shipped_file(path: str) -> str:
    """``path``, or the installed package's file for a missing path ending
    in ``reclip_mmseg/toy/<file>``: the toy configs name the shipped tiny
    CLIP relative to the checkout (``{{ fileDirname }}/../reclip_mmseg/``),
    which does not exist next to an installed (``.mim``) or copied config."""
    parts = osp.normpath(path).split(osp.sep)
    if osp.exists(path) or parts[-3:-1] != ['reclip_mmseg', 'toy']:
        return path
    shipped = osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'toy',
        parts[-1])
    return shipped if osp.isfile(shipped) else path


def _resolve_pretrained(model_name: Optional[str], pretrained: str,
                        cache_dir: Optional[str]):
    """Return (local file, quick_gelu required or None)."""
    path = _shipped_file(osp.expanduser(pretrained))
    if osp.isfile(path):
        return path, (True if is_torchscript_archive(path) else None)
    tag_cfg = open_clip.get_pretrained_cfg(model_name, pretrained) \
        if model_name else {}
    if tag_cfg:
        file = _fetch_tag(model_name, pretrained, tag_cfg, cache_dir)
        quick_gelu = bool(tag_cfg.get('quick_gelu', False))
        if is_torchscript_archive(file):
            quick_gelu = True
        return file, quick_gelu
    tags = (open_clip.list_pretrained_tags_by_model(model_name)
            if model_name else [])
    hint = (f" Known open_clip tags for '{model_name}': {tags}."
            if tags else ' Pass an existing local checkpoint file.')
    raise FileNotFoundError(
        f"CLIP checkpoint '{pretrained}' not found: it is neither an existing "
        f'file nor an open_clip pretrained tag.{hint}')


def _shape_mismatches(file: str, model: nn.Module) -> list:
    """``key (file shape, model shape)`` for tensors of a state-dict file
    whose shape differs from ``model``'s; [] if unreadable."""
    try:
        state = torch.load(file, map_location='cpu', weights_only=True)
    except Exception:  # noqa: BLE001  (diagnosis only)
        return []
    state = state.get('state_dict', state) if isinstance(state, dict) else {}
    own = model.state_dict()
    return [
        f'{k} (file {tuple(v.shape)}, model {tuple(own[k].shape)})'
        for k, v in state.items() if isinstance(k, str) and k in own
        and hasattr(v, 'shape') and tuple(v.shape) != tuple(own[k].shape)
    ]


def _load_error(file: str, clip_model, model: nn.Module,
                err: Exception) -> RuntimeError:
    """A load failure that names the file, the model and what to fix."""
    text = str(err).strip()
    shapes = [] if is_torchscript_archive(file) else _shape_mismatches(
        file, model)
    if shapes or 'size mismatch' in text or 'Missing key' in text:
        why = (f'its weights do not fit the CLIP model {clip_model!r} '
               '(another architecture?)' +
               (f': {len(shapes)} tensors differ, e.g. {shapes[:3]}'
                if shapes else ''))
    elif 'zip archive' in text or isinstance(err, EOFError):
        why = 'it is not a complete checkpoint (truncated or corrupted?)'
    else:
        why = 'it is not a CLIP checkpoint that open_clip can read'
    return RuntimeError(
        f'cannot load CLIP weights from {file}: {why}. Expected an '
        'open_clip / mmengine state dict or OpenAI\'s TorchScript archive '
        f'for the CLIP model {clip_model!r} (model.clip.model). '
        f'({type(err).__name__}: {text[:300]})')


def build_clip(clip_model: Union[str, dict] = 'ViT-B-16',
               pretrained: Optional[str] = None,
               *,
               cache_dir: Optional[str] = None) -> open_clip.CLIP:
    """Build an open_clip ``CLIP`` on CPU in fp32, optionally with weights.

    Args:
        clip_model (str | dict): An open_clip model name (``'ViT-B-16'``) or
            the keyword arguments of ``open_clip.CLIP`` (``embed_dim``,
            ``vision_cfg``, ``text_cfg``, ``quick_gelu``, ...).
        pretrained (str, optional): An open_clip pretrained tag (needs a model
            name), a local checkpoint path, or None for random weights.
        cache_dir (str, optional): Download cache for pretrained tags.

    Returns:
        open_clip.CLIP: The model, in eval mode.
    """
    model_name = clip_model if isinstance(clip_model, str) else None
    file, quick_gelu = None, None
    if pretrained:
        file, quick_gelu = _resolve_pretrained(model_name, pretrained,
                                               cache_dir)

    if model_name is not None:
        model = open_clip.create_model(
            model_name, pretrained=None, force_quick_gelu=bool(quick_gelu))
    else:
        cfg = copy.deepcopy(dict(clip_model))
        if quick_gelu and not cfg.get('quick_gelu', False):
            print_log(
                'CLIP checkpoint is in OpenAI format: building with '
                'quick_gelu=True to match it.', 'current', logging.INFO)
            cfg['quick_gelu'] = True
        model = open_clip.CLIP(**cfg)

    if file is not None:
        try:
            if is_torchscript_archive(file):
                _load_torchscript_weights(model, file)
            else:  # weights only: a plain file can never run code
                open_clip.load_checkpoint(
                    model, file, strict=True, weights_only=True)
        except Exception as err:  # noqa: BLE001  (name the file; see above)
            if file in str(err):
                raise
            raise _load_error(file, clip_model, model, err) from err
        print_log(f'Loaded CLIP weights from {file}', 'current',
                  logging.INFO)
        quick_name = f'{model_name}-quickgelu'
        if (model_name and not quick_gelu
                and quick_name in open_clip.list_models()):
            print_log(
                f"'{model_name}' uses GELU. If {file} holds OpenAI's CLIP "
                f"weights (trained with QuickGELU), use '{quick_name}'.",
                'current', logging.INFO)
    return model.eval()


def build_tokenizer(clip_model: Union[str, dict]):
    """The open_clip tokenizer matching ``clip_model`` (name or config)."""
    if isinstance(clip_model, str):
        return open_clip.get_tokenizer(clip_model)
    context_length = dict(clip_model).get('text_cfg', {}).get(
        'context_length', 77)
    return open_clip.SimpleTokenizer(context_length=context_length)

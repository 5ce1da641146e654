"""Hypothesis files: the weights-content hash of the fingerprint and the
check of a file's hypotheses."""
import hashlib
import json
import os.path as osp
from typing import Optional


def file_digest(path: Optional[str], chunk: int = 1 << 16) -> Optional[str]:
    """A cheap content hash of a weights file: its size and 16 chunks of
    64 KiB spread over it (blake2b), or None if ``path`` is not a file (a
    pretrained tag names fixed weights; None means random)."""
    if not isinstance(path, str) or not osp.isfile(osp.expanduser(path)):
        return None
    path = osp.expanduser(path)
    size = osp.getsize(path)
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, 'rb') as f:
        for i in range(16):
            f.seek(max(0, size - chunk) * i // 15)
            digest.update(f.read(chunk))
    return digest.hexdigest()


def checked_hypotheses(entries, num_classes: int, file: str) -> dict:
    """``{img_path: [class index, ...]}`` from a hypothesis file, each index
    an int in ``[0, num_classes)``; a ValueError names the image otherwise.
    """
    if not isinstance(entries, dict):
        raise ValueError(f'hypothesis file {file} has no "hypotheses" '
                         'mapping of image paths to class index lists')
    for path, classes in entries.items():
        ok = isinstance(classes, list) and all(
            isinstance(c, int) and not isinstance(c, bool)
            and 0 <= c < num_classes for c in classes)
        if not ok:
            raise ValueError(
                f'hypothesis file {file}: image {path} has {classes!r}; '
                f'expected a list of class indices (ints in 0..'
                f'{num_classes - 1})')
    return entries


def read_hypothesis_file(file: str, fingerprint: dict,
                         num_classes: int) -> dict:
    """``{img_path: [class index, ...]}`` of a hypothesis file whose
    fingerprint equals ``fingerprint`` (an imported file: its class names);
    a clear error names what differs otherwise."""
    if not osp.isfile(file):
        raise FileNotFoundError(
            f'hypothesis file {file} not found; create it with '
            'tools/precompute_hypotheses.py or set file=None')
    with open(file) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'hypothesis file {file} is not valid '
                             f'JSON ({e}); regenerate it with '
                             'tools/precompute_hypotheses.py') from e
    expected = json.loads(json.dumps(fingerprint))
    found = data.get('fingerprint', {})
    if found.get('imported'):  # tools/import_official_hypotheses.py
        keys = ('class_names', )  # made by the authors' CLIP and votes
        expected = {k: expected[k] for k in keys}
        found = {k: found.get(k) for k in keys}
    diff = sorted(k for k in set(expected) | set(found)
                  if expected.get(k) != found.get(k))
    if diff:
        details = '; '.join(f'{k}: file has {found.get(k)!r}, model '
                            f'has {expected.get(k)!r}' for k in diff)
        raise ValueError(f'hypothesis file {file} does not match '
                         f'this model ({details}). Regenerate it with '
                         'tools/precompute_hypotheses.py.')
    return checked_hypotheses(data.get('hypotheses'), num_classes, file)

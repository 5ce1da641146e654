"""Write the toy world's segmentation dataset (mmseg layout) to disk."""
import json
import os
import os.path as osp

from .world import WORLD_VERSION, sample_scene, scene_rng

__all__ = ['write_dataset']


def write_dataset(root: str,
                  num_train: int = 2000,
                  num_val: int = 1000,
                  seed: int = 0) -> str:
    """Write the held-out toy world in mmseg layout (once).

    Layout: ``img_dir/train/00000.png`` ... (images only: training is
    unsupervised), ``img_dir/val/*.png`` and ``ann_dir/val/*.png`` (labels,
    mode L, 255 = background), and ``world.json`` with the generator version
    and these arguments, written last. Image ``i`` of a split depends only on
    ``(seed, split, i)``.

    If ``root/world.json`` exists and matches, nothing is written (fast). If
    it differs, or ``root`` holds ``img_dir``/``ann_dir`` without
    ``world.json`` (an interrupted or foreign write), a ``FileExistsError``
    names the file and both settings: nothing is deleted, delete the
    directory or choose another ``root``.

    Args:
        root (str): Dataset directory (created if missing).
        num_train (int): Training images. Defaults to 2000.
        num_val (int): Validation images (with labels). Defaults to 1000.
        seed (int): World seed. Defaults to 0.

    Returns:
        str: ``root``.
    """
    from mmengine.utils import ProgressBar
    from PIL import Image

    settings = dict(
        version=WORLD_VERSION,
        num_train=int(num_train),
        num_val=int(num_val),
        seed=int(seed))
    meta_file = osp.join(root, 'world.json')
    if osp.isfile(meta_file):
        with open(meta_file) as f:
            found = json.load(f)
        if found == settings:
            return root
        raise FileExistsError(
            f'{meta_file} describes another toy world: {found}, requested '
            f'{settings}. Delete {root} to regenerate it, or pass another '
            'root.')
    stale = [
        d for d in ('img_dir', 'ann_dir') if osp.exists(osp.join(root, d))
    ]
    if stale:
        raise FileExistsError(
            f'{root} has {stale} but no world.json (an interrupted or '
            f'foreign write); requested {settings}. Delete {root} to '
            'regenerate it, or pass another root.')

    jobs = [('train', 0, num_train), ('val', 1, num_val)]
    for split, _, _ in jobs:
        os.makedirs(osp.join(root, 'img_dir', split), exist_ok=True)
    os.makedirs(osp.join(root, 'ann_dir', 'val'), exist_ok=True)
    total = num_train + num_val
    progress = ProgressBar(total) if total >= 100 else None
    done = 0
    for split, split_id, count in jobs:
        for i in range(count):
            img, label, _ = sample_scene(
                scene_rng(seed, split_id, i), heldout=True)
            name = f'{i:05d}.png'
            Image.fromarray(img).save(
                osp.join(root, 'img_dir', split, name))
            if split == 'val':
                Image.fromarray(label).save(
                    osp.join(root, 'ann_dir', split, name))
            done += 1
            if progress is not None and (done % 50 == 0 or done == total):
                progress.update(done - progress.completed)
    if progress is not None:
        print()
    with open(meta_file, 'w') as f:
        json.dump(settings, f, indent=1)
    return root

"""The quick start's pictures: val mIoU curves and example predictions."""
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .world import PALETTE

COLOURS = dict(released='tab:red', residual='tab:blue')


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_learning_curves(runs: List[Dict], out: str) -> str:
    """Val mIoU vs iteration per trained run; MaskCLIP as a horizontal line
    and each released model's ``argmax(Q - B)`` as a marker; one panel per
    tiny CLIP. Returns ``out``."""
    plt = _pyplot()
    clips = list(dict.fromkeys(r['clip'] for r in runs))
    fig, axes = plt.subplots(
        1, len(clips), figsize=(5.5 * len(clips), 4), squeeze=False)
    for ax, clip in zip(axes[0], clips):
        last = 0
        for r in runs:
            if r['clip'] != clip or not r.get('curve'):
                continue
            its, miou = zip(*r['curve'])
            last = max(last, its[-1])
            ax.plot(its, miou, marker='o', color=COLOURS.get(r['model']),
                    alpha=0.8, label=f"{r['model']} seed {r['seed']}")
        for r in runs:
            if r['clip'] == clip and r['model'] == 'maskclip':
                ax.axhline(r['mIoU'], color='k', ls='--', label='MaskCLIP')
            if r['clip'] == clip and r['model'] == 'rectified':
                ax.plot([last], [r['mIoU']], marker='*', ms=12, ls='none',
                        color='tab:orange', label=f"Q-B seed {r['seed']}")
        ax.set(title=f'tiny CLIP {clip}', xlabel='iteration',
               ylabel='val mIoU (%)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def colourise(label: np.ndarray) -> np.ndarray:
    """``(H, W)`` class map (255 = ignore) -> ``(H, W, 3)`` toy palette."""
    lut = np.zeros((256, 3), np.uint8)
    lut[:len(PALETTE)] = PALETTE
    return lut[label]


def plot_examples(columns: Sequence[Tuple[str, List]], data_root: str,
                  out: str, title: str = '') -> str:
    """Grid: image, ground truth, then one column per model (predictions
    dimmed on unscored background pixels).

    Args:
        columns: ``(label, [(img_path, pred (H, W) uint8), ...])`` per model,
            the same images in the same order in each.
        data_root (str): Toy dataset root (for the ground truth).
        out (str): PNG path. Returns it.
    """
    from PIL import Image
    plt = _pyplot()
    paths = [p for p, _ in columns[0][1]]
    names = ['image', 'ground truth'] + [c[0] for c in columns]
    fig, axes = plt.subplots(
        len(paths), len(names), figsize=(1.6 * len(names), 1.6 * len(paths)),
        squeeze=False)
    for i, path in enumerate(paths):
        gt_path = osp.join(data_root, 'ann_dir', 'val', osp.basename(path))
        gt = np.asarray(Image.open(gt_path))
        panels = [np.asarray(Image.open(path).convert('RGB')), colourise(gt)]
        # background is not scored: predictions there are shown dimmed
        dim = np.where(gt == 255, 0.3, 1.0)[..., None]
        panels += [(colourise(preds[i][1]) * dim).astype(np.uint8)
                   for _, preds in columns]
        for j, panel in enumerate(panels):
            axes[i, j].imshow(panel, interpolation='nearest')
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if i == 0:
                axes[i, j].set_title(names[j], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out

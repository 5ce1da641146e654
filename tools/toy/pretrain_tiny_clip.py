"""Pretrain the toy world's tiny CLIP on biased captions, then evaluate it.

    python tools/toy/pretrain_tiny_clip.py [--steps 1000] [--batch-size 128]
        [--lr 1e-3] [--warmup 50] [--seed 0] [--threads 1]
        [--out reclip_mmseg/toy/toy_clip.pt] [--eval-images 300]
        [--eval-every 0] [--bias KEY=VALUE ...]

Every step draws a fresh batch of (image, caption) pairs from the *biased
pretraining* distribution (``reclip_mmseg.toy.PRETRAIN_BIAS``): border
objects are rarely named, minor classes are often named as their major,
two classes are only ever seen near the centre. The CLIP learns these
biases, which ReCLIP++ is meant to remove. Loss: CLIP's symmetric
contrastive loss with soft targets, since captions naming the same set of
classes (e.g. two "a photo of nothing.") are not negatives of each other:
targets are the row-normalised equality matrix of the caption class sets.
AdamW, linear warm-up then cosine decay. Images are normalised with OpenAI
CLIP's mean/std, as the mmseg data preprocessor does.

Writes an fp16 open_clip state dict loadable by
``reclip_mmseg.models.utils.build_clip(TOY_CLIP, path)``, then prints the
zero-shot evaluation on held-out images (``evaluate_toy_clip``: MaskCLIP
dense mIoU with background ignored, single-object global top-1, minor/major
pair confusions, recall near the centre vs near the border) for the
trained and for a randomly initialised model.

The shipped ``reclip_mmseg/toy/toy_clip.pt`` is this script with its
defaults (``--steps 1000 --batch-size 128 --lr 1e-3 --seed 0 --threads 1``):
16.6 min on one CPU thread, final loss 1.90, dense MaskCLIP mIoU 0.187 on
300 held-out images (random init 0.075), orange circle -> red circle on
0.375 of its pixels. ``--lr 2e-3`` gives a stronger CLIP (0.309) on which
ReCLIP++ as released does NOT beat MaskCLIP in this world (README "Toy
world": its decoder, trained from scratch, loses classes).
"""
import argparse
import dataclasses
import math
import os
import os.path as osp
import time

import numpy as np
import torch
import torch.nn.functional as F

from toy_clip_eval import evaluate_toy_clip, format_evaluation

from reclip_mmseg.models.utils import build_clip, build_tokenizer
from reclip_mmseg.toy import (PRETRAIN_BIAS, TOY_CLIP, TOY_CLIP_CHECKPOINT,
                              PretrainBias, caption_classes, format_caption,
                              sample_scene)
from reclip_mmseg.toy.world import CLIP_MEAN, CLIP_STD


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--steps', type=int, default=1000)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--warmup', type=int, default=50)
    parser.add_argument('--weight-decay', type=float, default=0.1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default=TOY_CLIP_CHECKPOINT)
    parser.add_argument(
        '--eval-images',
        type=int,
        default=300,
        help='held-out images for the final evaluation (0: skip it)')
    parser.add_argument(
        '--bias',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='override fields of reclip_mmseg.toy.PRETRAIN_BIAS, e.g. '
        'border_mention_prob=0.3 centre_only=6,9')
    parser.add_argument(
        '--eval-every',
        type=int,
        default=0,
        help='also print a quick dense mIoU (100 held-out images) every N '
        'steps (0: never)')
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 2:
        parser.error('--steps must be >= 1 and --batch-size >= 2')
    try:
        args.bias = parse_bias(args.bias)
    except ValueError as e:
        parser.error(str(e))
    return args


def parse_bias(items) -> PretrainBias:
    """``['centre_prob=0.3', 'centre_only=6,9']`` -> a :class:`PretrainBias`
    with those fields replaced (the others as in ``PRETRAIN_BIAS``)."""
    fields = {f.name: f for f in dataclasses.fields(PretrainBias)}
    changes = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or key not in fields:
            raise ValueError(f'--bias {item!r}: expected KEY=VALUE with KEY '
                             f'one of {sorted(fields)}')
        default = getattr(PRETRAIN_BIAS, key)
        if isinstance(default, tuple):
            changes[key] = tuple(int(v) for v in value.split(',') if v)
        else:
            changes[key] = type(default)(value)
    return dataclasses.replace(PRETRAIN_BIAS, **changes)


def make_batch(rng: np.random.Generator, batch_size: int,
               bias: PretrainBias):
    """Images ``(N, 3, 64, 64)`` normalised, captions, caption class sets."""
    imgs, captions, sets = [], [], []
    for _ in range(batch_size):
        img, _, objects = sample_scene(rng, heldout=False, bias=bias)
        classes = caption_classes(objects, rng, bias)
        imgs.append(img)
        captions.append(format_caption(classes, bias))
        sets.append(frozenset(classes))
    x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float()
    x = (x - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        CLIP_STD).view(1, 3, 1, 1)
    return x, captions, sets


def soft_clip_loss(logits: torch.Tensor, sets) -> torch.Tensor:
    """Symmetric contrastive loss with targets = same caption class set.

    Args:
        logits (Tensor): ``(N, N)`` scaled image-text similarities.
        sets (list[frozenset]): The class set each caption names.
    """
    ids = {s: i for i, s in enumerate(dict.fromkeys(sets))}
    group = torch.tensor([ids[s] for s in sets])
    target = (group[:, None] == group[None, :]).float()
    target = target / target.sum(1, keepdim=True)  # symmetric matrix
    loss_i = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
    loss_t = -(target * F.log_softmax(logits.T, dim=1)).sum(1).mean()
    return (loss_i + loss_t) / 2


def param_groups(model: torch.nn.Module, weight_decay: float):
    """Weight decay on matrices, none on gains, biases and embeddings."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.ndim < 2 or 'embedding' in name or name == 'logit_scale':
            no_decay.append(p)
        else:
            decay.append(p)
    return [
        dict(params=decay, weight_decay=weight_decay),
        dict(params=no_decay, weight_decay=0.0)
    ]


def save_half(model: torch.nn.Module, path: str) -> None:
    """Save ``model.state_dict()`` cast to fp16."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    torch.save({k: v.detach().half()
                for k, v in model.state_dict().items()}, path)


def train(args) -> float:
    print(f'pretraining distribution: {args.bias}', flush=True)
    torch.manual_seed(args.seed)
    model = build_clip(TOY_CLIP, None).train()
    tokenizer = build_tokenizer(TOY_CLIP)
    optimizer = torch.optim.AdamW(
        param_groups(model, args.weight_decay), lr=args.lr,
        betas=(0.9, 0.98), eps=1e-6)

    def lr_factor(step):
        if step < args.warmup:
            return (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    token_cache = {}
    start, running = time.time(), []
    for step in range(args.steps):
        rng = np.random.default_rng([args.seed, step])
        x, captions, sets = make_batch(rng, args.batch_size, args.bias)
        unique = list(dict.fromkeys(captions))  # encode each caption once
        for c in unique:
            if c not in token_cache:
                token_cache[c] = tokenizer([c])[0]
        tokens = torch.stack([token_cache[c] for c in unique])
        index = torch.tensor([unique.index(c) for c in captions])

        image_features = model.encode_image(x, normalize=True)
        text_features = model.encode_text(tokens, normalize=True)[index]
        scale = model.logit_scale.exp().clamp(max=100)
        loss = soft_clip_loss(scale * image_features @ text_features.T, sets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        running.append(loss.item())
        if (step + 1) % 50 == 0 or step + 1 == args.steps:
            print(f'step {step + 1:5d}/{args.steps}  loss '
                  f'{np.mean(running):.4f}  lr '
                  f'{optimizer.param_groups[0]["lr"]:.2e}  logit scale '
                  f'{scale.item():6.2f}  elapsed '
                  f'{(time.time() - start) / 60:6.2f} min', flush=True)
            final_loss, running = float(np.mean(running)), []

        if args.eval_every and (step + 1) % args.eval_every == 0 \
                and step + 1 < args.steps:
            save_half(model, args.out + '.tmp')
            result = evaluate_toy_clip(
                args.out + '.tmp', num_images=100, bias=args.bias)
            os.remove(args.out + '.tmp')
            model.train()
            print(f'step {step + 1:5d}  quick eval: dense mIoU '
                  f'{result["mIoU"]:.3f}  global top-1 '
                  f'{result["global_top1"]:.3f}', flush=True)

    save_half(model, args.out)
    print(f'saved fp16 state dict to {args.out} '
          f'({osp.getsize(args.out) / 2**20:.1f} MiB); '
          f'{(time.time() - start) / 60:.1f} min', flush=True)
    return final_loss


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    train(args)
    # the checkpoint must load as the package will load it
    model = build_clip(TOY_CLIP, args.out)
    with torch.no_grad():
        emb = model.encode_image(torch.zeros(1, 3, 64, 64))
    assert emb.shape == (1, TOY_CLIP['embed_dim']), emb.shape
    if args.eval_images:
        for name, path in (('pretrained', args.out), ('random init', None)):
            torch.manual_seed(args.seed)
            result = evaluate_toy_clip(
                path, num_images=args.eval_images, bias=args.bias)
            print(f'\n== {name} ==\n{format_evaluation(result)}', flush=True)


if __name__ == '__main__':
    main()

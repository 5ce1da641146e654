"""Why does the released decoder discard ``Q - B``? Train in the toy world
and watch the decoder on a fixed labelled val batch.

    python tools/toy/diagnose_decoder.py [--clip base|strong] [--seed 0]
        [--iters 2000] [--every 250] [--threads 1] [--out DIR]
        [--cfg-options model.decode_head.residual=True ...]

Trains ``configs/reclip_toy.py`` (the released recipe unless
``--cfg-options`` changes it) with mmengine's Runner and, at iteration 0 and
every ``--every`` iterations, measures on the first 100 val images (labels
are read here, for diagnosis only; training never sees them):

- ``w_rect``: RMS of the decoder conv weights on the K rectified-logit
  input channels divided by the RMS on the D dense-feature channels.
- ``out_rect`` / ``out_dense``: std over pixels and classes of the part of
  the head output driven by the rectified channels alone / the dense
  channels alone (conv split by input group, times the BN scale
  ``gamma / sqrt(running_var)``).
- ``qb_scale``: the same std for ``Q - B`` itself (what ``residual`` adds).
- ``agree_qb``: share of labelled pixels where argmax(head) ==
  argmax(Q - B); ``agree_noB``: share where the head's argmax is unchanged
  when ``B`` is zeroed inside the decoder input.
- ``sat``: share of pixels where ``softmax(gumbel_scale * logits)`` has a
  maximum above 0.99 (hard Gumbel masks are then the argmax, and the
  straight-through gradient ``p (1 - p)`` of every other class vanishes).
- ``p_true``: mean ``softmax(gumbel_scale * logits)`` of the true class on
  pixels of the minor classes of the confusable pairs.
- ``mIoU`` / ``mIoU_qb`` and the IoU of each minor class, for the head and
  for argmax(Q - B).

Writes ``OUT/diagnosis.json`` and prints one line per measurement.
"""
import argparse
import json
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--clip', default='base')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--iters', type=int, default=2000)
    parser.add_argument('--every', type=int, default=250)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--images', type=int, default=100)
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-val', type=int, default=1000)
    parser.add_argument('--data-root', default='data/toy_world')
    parser.add_argument('--out', default='work_dirs/toy_diagnosis')
    parser.add_argument('--cfg-options', nargs='+', default=[])
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    from toy_quickstart import pin_threads
    pin_threads(args.threads)
    import torch
    import torch.nn.functional as F
    from mmengine.config import DictAction
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from reclip_mmseg.toy import CONFUSABLE_PAIRS, CLASSES, write_dataset
    from toy_quickstart import toy_config

    opts = argparse.ArgumentParser()
    opts.add_argument('--o', nargs='*', action=DictAction, default={})
    cfg_options = opts.parse_args(['--o', *args.cfg_options]).o
    write_dataset(args.data_root, num_train=args.num_train,
                  num_val=args.num_val)
    cfg = toy_config(
        'released',
        clip=args.clip,
        seed=args.seed,
        iters=args.iters,
        data_root=args.data_root,
        work_dir=args.out,
        run='diagnose',
        cfg_options=cfg_options)
    cfg.train_cfg.val_interval = args.iters + 1
    runner = Runner.from_cfg(cfg)
    minors = [m for _, m in CONFUSABLE_PAIRS]
    k = len(CLASSES)

    batch = []
    for data in runner.build_dataloader(cfg.val_dataloader):
        batch.append(data)
        if sum(len(d['inputs']) for d in batch) >= args.images:
            break

    def iou(pred, gt):
        out = []
        for c in range(k):
            p, g = pred == c, gt == c
            union = (p | g).sum().item()
            out.append(100 * (p & g).sum().item() / union if union else None)
        return out

    @torch.no_grad()
    def measure(model, it):
        head = model.decode_head
        was_training = model.training
        model.eval()
        rows = dict(preds=[], preds_qb=[], preds_nob=[], gts=[], sat=[],
                    p_true=[], out_rect=[], out_dense=[], qb=[])
        d = head.in_channels
        w = head.conv_seg.weight
        bn = head.norm
        scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)
                 if hasattr(bn, 'running_var') else torch.ones(k))
        for data in batch:
            data = model.data_preprocessor(data, False)
            feats = model.extract_feat(data['inputs'])
            dense, pos = feats.dense, feats.pos_embed
            rect = head.rectified_logits(dense, pos)
            logits = head.forward(feats)
            nob = head.norm(head.conv_seg(torch.cat(
                [dense, head.query_logits(dense)], 1)))
            if head.residual:
                nob = nob + head.query_logits(dense)
            pad = head.conv_seg.padding
            o_rect = F.conv2d(rect, w[:, d:], padding=pad)
            o_dense = F.conv2d(dense, w[:, :d], padding=pad)
            s = scale[None, :, None, None]
            gt = torch.stack([
                x.gt_sem_seg.data[0] for x in data['data_samples']])
            gt = F.interpolate(gt[:, None].float(), logits.shape[-2:],
                               mode='nearest')[:, 0].long()
            prob = torch.softmax(head.gumbel_scale * logits, 1)
            rows['sat'].append((prob.amax(1) > 0.99).float().flatten())
            pt = prob.gather(1, gt.clamp(max=k - 1)[:, None])[:, 0]
            sel = torch.zeros_like(gt, dtype=torch.bool)
            for m in minors:
                sel |= gt == m
            rows['p_true'].append(pt[sel])
            rows['out_rect'].append((o_rect * s).flatten())
            rows['out_dense'].append((o_dense * s).flatten())
            rows['qb'].append(rect.flatten())
            for key, x in (('preds', logits), ('preds_qb', rect),
                           ('preds_nob', nob)):
                rows[key].append(x.argmax(1).flatten())
            rows['gts'].append(gt.flatten())
        cat = {key: torch.cat(v) for key, v in rows.items()}
        lab = cat['gts'] != 255
        pred, pred_qb, gt = (cat['preds'][lab], cat['preds_qb'][lab],
                             cat['gts'][lab])
        ious, ious_qb = iou(pred, gt), iou(pred_qb, gt)
        rms = lambda t: t.pow(2).mean().sqrt().item()  # noqa: E731
        rec = dict(
            iter=it,
            w_rect=rms(w[:, d:]) / rms(w[:, :d]),
            out_rect=cat['out_rect'].std().item(),
            out_dense=cat['out_dense'].std().item(),
            qb_scale=cat['qb'].std().item(),
            gamma=(bn.weight.abs().mean().item()
                   if hasattr(bn, 'weight') else None),
            agree_qb=(pred == pred_qb).float().mean().item(),
            agree_noB=(pred == cat['preds_nob'][lab]).float().mean().item(),
            sat=cat['sat'].mean().item(),
            p_true=cat['p_true'].mean().item(),
            mIoU=sum(x for x in ious if x is not None) /
            sum(x is not None for x in ious),
            mIoU_qb=sum(x for x in ious_qb if x is not None) /
            sum(x is not None for x in ious_qb),
            minor_iou={CLASSES[m]: ious[m] for m in minors},
            minor_iou_qb={CLASSES[m]: ious_qb[m] for m in minors},
            pred_share={
                CLASSES[c]: (pred == c).float().mean().item()
                for c in range(k)
            })
        model.train(was_training)
        return rec

    records = []

    class DiagnosisHook(Hook):
        priority = 'LOW'

        def before_train(self, runner):
            records.append(measure(runner.model, 0))
            print(json.dumps(records[-1]), flush=True)

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            it = runner.iter + 1
            if it % args.every == 0 or it == args.iters:
                records.append(measure(runner.model, it))
                print(json.dumps(records[-1]), flush=True)

    runner.register_hook(DiagnosisHook())
    runner.train()
    os.makedirs(args.out, exist_ok=True)
    with open(osp.join(args.out, 'diagnosis.json'), 'w') as f:
        json.dump(dict(args=vars(args), records=records), f, indent=1)
    return records


if __name__ == '__main__':
    main()

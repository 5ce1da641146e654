"""Mutations for tools/mutation_test.py: one exact snippet -> a plausible bug.

``file`` is relative to ``reclip_mmseg/``; ``tests`` are the fast unit tests
that should catch it; group ``issue16`` holds the bugs issue 16 found
surviving the whole suite. A snippet must occur exactly once in its file.
"""
HEADS = ['tests/test_models/test_heads']
SEG = ['tests/test_models/test_segmentors']
BACKBONE = ['tests/test_models/test_backbones']
UTILS = ['tests/test_models/test_utils']
EVAL = ['tests/test_evaluation']
POST = ['tests/test_models/test_postprocess']
BRH = 'models/decode_heads/bias_rectification_head.py'
MCH = 'models/decode_heads/maskclip_head.py'
LOSS = 'models/losses/masked_contrastive_loss.py'
HYP = 'models/utils/hypothesis.py'
RULES = 'models/utils/hypothesis_rules.py'
PD = 'models/postprocess/prompt_denoise.py'
SEGMENTOR = 'models/segmentors/clip_segmentor.py'
VIT = 'models/backbones/maskclip_vit.py'
LBR = 'models/backbones/last_block_rules.py'
POS = 'models/backbones/pos_embed_resize.py'
PAMR_FILE = 'models/postprocess/pamr.py'
PEER = 'models/postprocess/peer_probs.py'
METRIC = 'evaluation/bias_metric.py'
PCIOU = 'evaluation/per_class_iou.py'
HYPPIX = 'models/utils/hypothesis_pixel.py'
HQ = 'evaluation/hypothesis_quality.py'
PIXEL_TESTS = ['tests/test_models/test_segmentors/test_hypothesis_pixel.py']
HQ_TESTS = ['tests/test_evaluation/test_hypothesis_quality.py']
I15 = ('issue15', )
I16 = ('issue16', )


def m(name, file, old, new, tests, groups=(), equivalent=None):
    """One mutant; ``equivalent`` (a reason) marks a mutant that cannot
    change behaviour, so its survival is expected and not counted."""
    return dict(name=name, file=file, old=old, new=new, tests=tests,
                groups=groups, equivalent=equivalent)


MUTATIONS = [
    # -- issue 16's table ------------------------------------------------
    m('gumbel_no_scale', BRH, 'self.gumbel_scale * logits.float()',
      'logits.float()', HEADS, I16),
    m('gumbel_soft', BRH, 'hard=True', 'hard=False', HEADS, I16),
    m('bias_key_no_compute_dtype', BRH,
      'pos.dtype, compute_dtype,', 'pos.dtype,', HEADS + SEG, I16),
    m('bias_key_no_dtype', BRH, 'pos.device, pos.dtype, compute_dtype,',
      'pos.device,', HEADS + SEG, I16),
    m('loss_ignores_weight', LOSS, 'return self.loss_weight * masked_',
      'return masked_', HEADS, I16),
    m('load_image_no_bgr_to_rgb', HYP, 'x = x[[2, 1, 0]]', 'x = x', SEG,
      I16),
    m('every_window_is_first', HYP, 'for y0, x0, y1, x1 in boxes\n',
      'for y0, x0, y1, x1 in boxes[:1] * len(boxes)\n', SEG, I16),
    m('pd_no_scale', PD, 'torch.softmax(scale * logits, dim=1)',
      'torch.softmax(logits, dim=1)', POST, I16),
    # issue 16's 'predict ignores test_cfg' now: the chain is not applied
    m('predict_ignores_test_cfg', SEGMENTOR,
      'logits = self.postprocess(logits, inputs, batch_img_metas)',
      'pass', POST, I16),
    m('decoder_input_query_not_rectified', BRH,
      'torch.cat([dense, rectified], 1)',
      'torch.cat([dense, self.query_logits(dense)], 1)', HEADS, I16),
    m('q_plus_b', BRH, 'return self.query_logits(dense) - self.bias_logits',
      'return self.query_logits(dense) + self.bias_logits', HEADS, I16),
    # -- heads ------------------------------------------------------------
    m('query_cache_under_autocast', MCH,
      'with torch.autocast(device.type, enabled=False):',
      'with torch.no_grad():', HEADS + SEG),
    m('pd_keeps_weak', PD, '(peak < threshold)', '(peak > threshold)',
      POST),
    m('pd_mean_not_max', PD, '.amax(dim=(2, 3))', '.mean(dim=(2, 3))',
      POST),
    m('pd_fill_zero', PD, '-100.0)', '0.0)', POST),
    m('num_classes_check_inverted', MCH, 'num_classes != len(names)',
      'num_classes == len(names)', HEADS),
    m('bias_key_no_version', BRH, '(id(p), p._version)', '(id(p), 0)',
      HEADS),
    m('bias_key_no_shape', BRH, '(tuple(pos.shape[-2:]), pos.device',
      '(pos.device', HEADS),
    m('bias_cache_in_training', BRH, 'if self.training:\n',
      'if False:\n', HEADS),
    m('bias_einsum_transposed', BRH, "'odhw,kd->okhw'", "'odwh,kd->okhw'",
      HEADS),
    m('gumbel_tau_ignored', BRH, 'tau=self.gumbel_tau', 'tau=1.0', HEADS),
    m('residual_ignored', BRH,
      'return rectified + decoded if self.residual else decoded',
      'return decoded', HEADS),
    m('zero_init_skipped', BRH, 'if self.zero_init_decoder:',
      'if False:', HEADS),
    m('zero_init_conv_not_norm', BRH,
      'last = self.conv_seg if isinstance(self.norm,',
      'last = self.conv_seg if not isinstance(self.norm,', HEADS),
    m('test_output_cfg_ignored', BRH,
      "name = (test_cfg or {}).get('test_output', self.test_output)",
      'name = self.test_output', HEADS),
    m('gumbel_over_space', BRH, 'hard=True,\n            dim=1)',
      'hard=True,\n            dim=2)', HEADS),
    # -- loss -----------------------------------------------------------
    m('loss_divides_by_area', LOSS, '/ (\n        masks.shape[2] * '
      'masks.shape[3])', '/ masks.sum((2, 3))[..., None].clamp(min=1)',
      HEADS),
    m('loss_no_logit_scale', LOSS, 'logits = logit_scale * pooled',
      'logits = pooled', HEADS),
    m('loss_empty_hypothesis_nan', LOSS, 'hypothesis.sum(1).clamp(min=1)',
      'hypothesis.sum(1)', HEADS),
    m('loss_ignores_hypothesis', LOSS, '(ce * hypothesis).sum(1)',
      'ce.sum(1)', HEADS),
    m('loss_sum_not_mean', LOSS, 'return per_image.sum() / b',
      'return per_image.sum()', HEADS),
    # -- hypothesis -----------------------------------------------------
    m('windows_skip_last_stride', RULES, 'range(0, size - window + 1, stride)',
      'range(0, size - window, stride)', SEG,
      equivalent='the border-aligned last window re-adds the start the '
      'shorter range drops'),
    m('windows_no_border_window', RULES, 'out.append(size - window)', 'pass',
      SEG),
    m('votes_strict', RULES, 'votes >= min_votes', 'votes > min_votes', SEG),
    m('threshold_strict', RULES, 'logits >= threshold', 'logits > threshold',
      SEG),
    m('fallback_top1', HYP, 'whole.topk(self.fallback_topk)',
      'whole.topk(1)', SEG),
    m('load_image_no_std', HYP, 'x = (x - clip.mean) / clip.std',
      'x = x - clip.mean', SEG),
    m('global_no_normalize', HYP, 'F.normalize(emb, dim=-1) @',
      'emb @', SEG),
    m('fingerprint_no_min_votes', HYP, '            min_votes=self.min_votes,\n',
      '', SEG),
    # -- backbone / text ------------------------------------------------
    m('value_path_no_residual', LBR,
      'return _residual_mlp(block, x, block.ls_1(attn.out_proj(v)))',
      'return block.ls_1(attn.out_proj(v))', BACKBONE),
    m('value_path_uses_key', LBR, 'attn.in_proj_weight[2 * width:]',
      'attn.in_proj_weight[width:2 * width]', BACKBONE),
    m('dense_not_normalised', VIT,
      'outs = CLIPFeatures(F.normalize(dense, dim=1),',
      'outs = CLIPFeatures(dense,', BACKBONE),
    m('sclip_averaged', LBR,
      'weights = _similarity(q, q).softmax(-1) + _similarity(k, k)',
      'weights = 0.5 * _similarity(q, q).softmax(-1) + 0.5 * _similarity(k, k)',
      BACKBONE),
    m('naclip_no_omega', LBR, '(_similarity(k, k) + omega).softmax(-1)',
      '_similarity(k, k).softmax(-1)', BACKBONE),
    m('clearclip_keeps_residual', LBR,
      'return _attend(block, _similarity(q, q).softmax(-1), v)',
      'return x + _attend(block, _similarity(q, q).softmax(-1), v)',
      BACKBONE),
    m('peers_pos_embed_size', POS, '(h + 0.1) / old_h, (w + 0.1) / old_w',
      'h / old_h, w / old_w', BACKBONE),
    m('pamr_std_without_centre', PAMR_FILE,
      '_shifted(image, dilations, centre=True)', '_shifted(image, dilations)',
      POST),
    m('area_thd_at_least', PEER,
      'keep = area > area_thd * area.sum(1, keepdim=True)',
      'keep = area >= area_thd * area.sum(1, keepdim=True)', POST),
    m('merged_guide_not_resized', SEGMENTOR,
      "logits = self.postprocess_merged(both[:, :num], both[:, num:],",
      "logits = self.postprocess_merged(both[:, :num], inputs[:1],", SEG),
    m('pos_embed_bilinear', POS, "interpolation='bicubic'",
      "interpolation='bilinear'",
      BACKBONE),
    m('reference_per_class_norm', 'models/utils/prompt_learner.py',
      'return feats / feats.norm()', 'return F.normalize(feats, dim=-1)',
      UTILS + HEADS),
    m('synonyms_not_renormalised', 'models/utils/text_encoder.py',
      'return F.normalize(summed, dim=-1)', 'return summed', UTILS),
    # -- bias metric ----------------------------------------------------
    m('classpref_no_partner', METRIC, '100 * (acc - partner_frac)',
      '100 * acc', EVAL),
    m('metric_ignore_index_counted', METRIC,
      'valid = (label != self.ignore_index) & ',
      'valid = ', EVAL),
    m('metric_min_pixels_inclusive', METRIC,
      'area < self.min_object_pixels', 'area <= self.min_object_pixels',
      EVAL),
    m('metric_no_false_positives', METRIC, 'int(area + n_fp)', 'int(area)',
      EVAL),
    m('metric_centroid_no_half', METRIC,
      'cx = centroids[k, 0] + x0 + 0.5', 'cx = centroids[k, 0] + x0', EVAL),
    m('metric_full_diagonal', METRIC,
      'math.hypot(height, width) / 2', 'math.hypot(height, width)', EVAL),
    m('metric_last_bin_overflow', METRIC,
      'min(int(dist * self.num_bins), self.num_bins - 1)',
      'min(int(dist * self.num_bins), self.num_bins)', EVAL,
      equivalent='a centroid lies at least half a pixel inside the image, '
      'so dist < 1 and the clamp never binds'),
    m('metric_slope_median', METRIC, 'float(np.mean(slopes))',
      'float(np.median(slopes))', EVAL),
    m('metric_pred_outside_counted', METRIC,
      'np.where(pred_in[valid], pred[valid], K)', 'pred[valid].clip(0, K)',
      EVAL),
    m('per_class_absent_zero', PCIOU, 'if u else math.nan', 'if u else 0.0',
      EVAL),
    m('per_class_union_as_label', PCIOU, 'union = sum(r[1] for r in results)',
      'union = sum(r[3] for r in results)', EVAL),
    # -- the one CLIP (issue 18 item 1) -----------------------------------
    m('head_builds_its_own_clip', SEGMENTOR,
      'decode_head=dict(decode_head, clip=built)',
      'decode_head=dict(decode_head, clip=built.setting)', SEG),
    m('own_clip_allowed_in_head', SEGMENTOR,
      "refuse_own_clip(decode_head, 'model.decode_head')", 'pass',
      ['tests/test_tools/test_named_errors.py']),
    # -- issue 15: pixel hypothesis and hypothesis quality ---------------
    m('pixel_softmax_over_patches', HYPPIX,
      'self.pixel_cosines(clip, image)).softmax(dim=0)',
      'self.pixel_cosines(clip, image)).softmax(dim=1)', PIXEL_TESTS, I15),
    m('pixel_threshold_strict', RULES, 'torch.nonzero(relevance >= threshold)',
      'torch.nonzero(relevance > threshold)', PIXEL_TESTS, I15),
    m('top_mean_floor', RULES,
      'n = max(1, math.ceil(top_ratio * probs.shape[1] - 1e-9))',
      'n = max(1, int(top_ratio * probs.shape[1]))', PIXEL_TESTS, I15),
    m('pixel_fallback_top1', RULES, 'relevance.topk(fallback_topk)',
      'relevance.topk(1)', PIXEL_TESTS, I15),
    m('pixel_fingerprint_no_dense', HYPPIX,
      'dense=hypothesis_clip(clip).dense_setting)', 'dense=None)',
      PIXEL_TESTS, I15),
    m('pixel_short_side_ignored', HYPPIX, 'if self.short_side is not None:',
      'if False:', PIXEL_TESTS, I15),
    m('ap_ties_split', HQ,
      'last = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1]',
      'last = np.arange(len(scores))', HQ_TESTS, I15),
    m('recall_over_predictions', HQ, 'r = tp / (tp + fn) if tp + fn',
      'r = tp / (tp + fp) if tp + fp', HQ_TESTS, I15),
    m('means_over_all_classes', HQ, 'if true[:, c].any()]', ']', HQ_TESTS,
      I15),
]

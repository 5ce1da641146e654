# The peers' test-time steps on the toy world, as test_cfg.postprocess_merged
# lists (README "Training-free peers"; ../shared/PEERS.md). Only variables,
# no model: leaf configs put them in their chain.
#
# Probabilities: logits x logit_scale, softmax over the 10 classes (one query
# each: the toy has no synonyms, so the max over synonyms is the identity),
# as the released postprocess_result. Logit scale as each peer uses it on
# background-free benchmarks (SCLIP on VOC-20 and NACLIP: 40; ClearCLIP: 50).
# No prob_thd and no area_thd: the toy has no background class (background
# pixels are ignored, 255, as in VOC-20), and the peers use neither there.
# None of these steps changes an argmax: mIoU and the bias scores are those
# of the last block (and PAMR); they make the stored seg_logits the peers'.
sclip_probs = dict(
    type='SynonymSoftmax', logit_scale=40, class_names='ToyWorldDataset')
clearclip_probs = dict(
    type='SynonymSoftmax', logit_scale=50, class_names='ToyWorldDataset')
naclip_probs = dict(
    type='SynonymSoftmax', logit_scale=40, class_names='ToyWorldDataset')
# PAMR as NACLIP releases it (10 iterations, dilations 8 and 16 px), kept
# as is on the 64 px toy images (not tuned to them).
pamr = dict(type='PAMR', num_iter=10, dilations=(8, 16))

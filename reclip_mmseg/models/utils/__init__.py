from .clip_loader import build_clip, build_tokenizer, is_torchscript_archive
from .clip_setting import BuiltCLIP, clip_setting, get_clip, refuse_own_clip
from .frozen_clip import (frozen_clip_prefixes, omit_in_checkpoints,
                          slim_state_dict)
from .prompt_learner import ReferencePromptLearner
from .text_encoder import (RECLIP_TEMPLATES, SCENE_TEMPLATES, CLIPTextEncoder,
                           build_query_features)

__all__ = [
    'build_clip', 'build_tokenizer', 'is_torchscript_archive', 'BuiltCLIP',
    'clip_setting', 'get_clip', 'refuse_own_clip',
    'CLIPTextEncoder', 'build_query_features', 'RECLIP_TEMPLATES',
    'SCENE_TEMPLATES', 'ReferencePromptLearner', 'omit_in_checkpoints',
    'frozen_clip_prefixes', 'slim_state_dict'
]
from .class_names import resolve_class_names  # noqa: E402

__all__ += ['resolve_class_names']
from .hypothesis import (BaseHypothesis, GlobalThresholdHypothesis,  # noqa: E402
                         SlidingWindowHypothesis, threshold_hypothesis,
                         vote_hypothesis, window_boxes)

__all__ += [
    'BaseHypothesis', 'SlidingWindowHypothesis', 'GlobalThresholdHypothesis',
    'window_boxes',
    'vote_hypothesis', 'threshold_hypothesis'
]
from .hypothesis_clip import HypothesisCLIP, hypothesis_clip  # noqa: E402

__all__ += ['HypothesisCLIP', 'hypothesis_clip']
from .hypothesis_pixel import PixelTagHypothesis  # noqa: E402
from .hypothesis_rules import (RELEVANCE_STATISTICS,  # noqa: E402
                               relevance_hypothesis)

__all__ += [
    'PixelTagHypothesis', 'RELEVANCE_STATISTICS', 'relevance_hypothesis'
]
from .hypothesis_types import HYPOTHESIS_TYPES, generator_configs  # noqa: E402

__all__ += ['HYPOTHESIS_TYPES', 'generator_configs']

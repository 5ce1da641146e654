from .clip_loader import build_clip, build_tokenizer, is_torchscript_archive
from .prompt_learner import ReferencePromptLearner
from .text_encoder import (RECLIP_TEMPLATES, SCENE_TEMPLATES, CLIPTextEncoder,
                           build_query_features)

__all__ = [
    'build_clip', 'build_tokenizer', 'is_torchscript_archive',
    'CLIPTextEncoder', 'build_query_features', 'RECLIP_TEMPLATES',
    'SCENE_TEMPLATES', 'ReferencePromptLearner'
]

from .chain import PostProcessChain
from .pamr import PAMR, PAMRStep, pamr_affinity
from .peer_probs import (AreaThreshold, BackgroundThreshold, SynonymSoftmax,
                         area_threshold, background_threshold,
                         query_class_index, synonym_softmax)
from .prompt_denoise import PD_MOVED, PromptDenoise, prompt_denoise

__all__ = [
    'PostProcessChain', 'PromptDenoise', 'prompt_denoise', 'PD_MOVED',
    'PAMR', 'PAMRStep', 'pamr_affinity', 'SynonymSoftmax', 'AreaThreshold',
    'BackgroundThreshold', 'synonym_softmax', 'area_threshold',
    'background_threshold', 'query_class_index'
]

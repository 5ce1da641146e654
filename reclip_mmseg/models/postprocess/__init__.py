from .chain import PostProcessChain
from .prompt_denoise import PD_MOVED, PromptDenoise, prompt_denoise

__all__ = ['PostProcessChain', 'PromptDenoise', 'prompt_denoise', 'PD_MOVED']

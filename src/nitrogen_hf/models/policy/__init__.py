"""The NitroGen vision-action policy; importing this package registers it with the Auto classes."""

from transformers import AutoConfig, AutoModel

from .configuration_policy import NitroGenPolicyConfig
from .convert_nitrogen import convert_nitrogen_checkpoint, load_nitrogen_checkpoint
from .loading import load_policy
from .modeling_policy import NitroGenPolicy
from .processing_policy import ActionChunk

AutoConfig.register(NitroGenPolicyConfig.model_type, NitroGenPolicyConfig, exist_ok=True)
AutoModel.register(NitroGenPolicyConfig, NitroGenPolicy, exist_ok=True)

__all__ = [
    "ActionChunk",
    "NitroGenPolicy",
    "NitroGenPolicyConfig",
    "convert_nitrogen_checkpoint",
    "load_nitrogen_checkpoint",
    "load_policy",
]

"""Inverse dynamics model, registered with the transformers Auto classes on import."""

from transformers import AutoConfig, AutoModel

from nitrogen_hf.models.idm.configuration_idm import NitroGenIDMConfig
from nitrogen_hf.models.idm.modeling_idm import IDMPrediction, NitroGenIDM

AutoConfig.register(NitroGenIDMConfig.model_type, NitroGenIDMConfig, exist_ok=True)
AutoModel.register(NitroGenIDMConfig, NitroGenIDM, exist_ok=True)

__all__ = ["IDMPrediction", "NitroGenIDM", "NitroGenIDMConfig"]

"""Latent action model and action-conditioned world model (Genie / LAPO style), registered
with the transformers Auto classes on import."""

from transformers import AutoConfig, AutoModel

from nitrogen_hf.models.lam.configuration_lam import LatentActionConfig
from nitrogen_hf.models.lam.configuration_world_model import WorldModelConfig
from nitrogen_hf.models.lam.modeling_lam import LatentActionModel, LatentActions
from nitrogen_hf.models.lam.modeling_world_model import WorldModel

for _config, _model in ((LatentActionConfig, LatentActionModel), (WorldModelConfig, WorldModel)):
    AutoConfig.register(_config.model_type, _config, exist_ok=True)
    AutoModel.register(_config, _model, exist_ok=True)

__all__ = [
    "LatentActionConfig",
    "LatentActionModel",
    "LatentActions",
    "WorldModel",
    "WorldModelConfig",
]

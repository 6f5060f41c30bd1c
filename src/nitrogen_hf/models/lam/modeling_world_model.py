"""Action-conditioned world model: predict frame t+1 from frames up to t and action t.

The frame network is the LAM decoder's (`FramePredictor`); only the action input differs,
through `ActionEmbedding`, which takes a 25-d gamepad vector or a latent code. Rollouts feed
predictions back as context, so a sequence of actions plays out as a generated clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from nitrogen_hf.models.hub_mixin import NitroGenHubMixin
from nitrogen_hf.models.lam.configuration_world_model import WorldModelConfig
from nitrogen_hf.models.lam.frame_predictor import (
    FramePredictor,
    denormalize_frames,
    normalize_frames,
)


@dataclass
class WorldModelOutput(ModelOutput):
    """prediction: (B, 3, H, W) normalised frame t+1; loss (MSE) when the target is given."""

    loss: torch.Tensor | None = None
    copy_loss: torch.Tensor | None = None  # error of "frame t+1 = frame t", for scale
    prediction: torch.Tensor | None = None


class ActionEmbedding(nn.Module):
    """(B, 25) float gamepad vectors or (B,) long latent codes -> (B, E)."""

    def __init__(self, config: WorldModelConfig):
        super().__init__()
        d = config.action_embed_dim
        self.latent = config.action_type == "latent"
        if self.latent:
            self.embed = nn.Embedding(config.num_latent_actions, d)
        else:
            self.embed = nn.Sequential(nn.Linear(config.action_dim, d), nn.GELU(), nn.Linear(d, d))

    def forward(self, actions: torch.Tensor) -> torch.Tensor:
        if self.latent:
            if actions.dtype.is_floating_point:
                raise ValueError("a latent-action world model takes (B,) long codes")
            return self.embed(actions)
        if actions.shape[-1] != self.embed[0].in_features:
            raise ValueError(f"a gamepad world model takes (B, 25) vectors, got {actions.shape}")
        return self.embed(actions.float())


class WorldModelPreTrainedModel(NitroGenHubMixin, PreTrainedModel):
    config_class = WorldModelConfig
    base_model_prefix = "world_model"
    main_input_name = "frames"

    def _init_weights(self, module) -> None:
        pass  # PyTorch defaults; the zero output layer is set in FramePredictor


class WorldModel(WorldModelPreTrainedModel):
    """See the module docstring. Frames are uint8 or float 0-255."""

    def __init__(self, config: WorldModelConfig):
        super().__init__(config)
        self.action_embedding = ActionEmbedding(config)
        self.predictor = FramePredictor(
            config.context_frames, config.channels, config.patch_size, config.action_embed_dim
        )
        self.post_init()

    def forward(self, frames: torch.Tensor, actions: torch.Tensor) -> WorldModelOutput:
        """frames: (B, C+1, 3, H, W), the last one the target; actions: action t of each window
        ((B, 25) gamepad vectors or (B,) codes)."""
        c = self.config.context_frames
        if frames.shape[1] != c + 1:
            raise ValueError(f"windows of {frames.shape[1]} frames; this model takes {c + 1}")
        x = self._normalize(frames)
        prediction = self.predictor(x[:, :-1], self.action_embedding(actions))
        return WorldModelOutput(
            loss=F.mse_loss(prediction, x[:, -1]),
            copy_loss=F.mse_loss(x[:, -2], x[:, -1]),
            prediction=prediction,
        )

    @torch.no_grad()
    def predict_next(self, context: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """(B, C, 3, H, W) 0-255 context + actions -> (B, 3, H, W) 0-255 float next frame."""
        cond = self.action_embedding(actions.to(self.device))
        prediction = self.predictor(self._normalize(context.to(self.device)), cond)
        return denormalize_frames(prediction, self.config.image_mean, self.config.image_std)

    @torch.no_grad()
    def rollout(self, context: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Autoregressive generation: (B, C, 3, H, W) real context and (B, S, ...) actions ->
        (B, S, 3, H, W) uint8 frames, each predicted from the (partly generated) last C."""
        frames = context.float().to(self.device)
        generated = []
        for step in range(actions.shape[1]):
            nxt = self.predict_next(frames[:, -self.config.context_frames :], actions[:, step])
            nxt = nxt.round()  # what a video would show: keeps rollouts on 0-255 pixels
            generated.append(nxt)
            frames = torch.cat([frames, nxt[:, None]], dim=1)
        return torch.stack(generated, dim=1).to(torch.uint8).cpu()

    def _normalize(self, frames: torch.Tensor) -> torch.Tensor:
        return normalize_frames(frames, self.config.image_mean, self.config.image_std)

"""Configuration of the action-conditioned world model (next-frame prediction)."""

from __future__ import annotations

from transformers import PretrainedConfig

from nitrogen_hf.actions import ACTION_DIM
from nitrogen_hf.models.lam.configuration_lam import check_frame_size

ACTION_TYPES = ("gamepad", "latent")


class WorldModelConfig(PretrainedConfig):
    """Past frames and an action in, the next frame out; rolled out autoregressively.

    One model for every kind of action: `action_type="gamepad"` embeds the 25-d gamepad vector
    (true or IDM pseudo-labels), `"latent"` embeds one of `num_latent_actions` LAM codes, so
    a world model can be learned from video alone and steered by latent actions (Genie).

    Args:
        action_type: "gamepad" or "latent".
        num_latent_actions: codebook size of the LAM whose codes condition the model.
        context_frames: past frames the model sees (2 shows velocity).
        frame_size: (height, width) of the frames; the LAM's when conditioned on its codes.
        patch_size / channels: the U-Net's patch stem and stage widths (as in the LAM).
        action_embed_dim: width of the action embedding that FiLM-conditions the decoder.
        image_mean / image_std: input normalisation, as fractions of 255.
    """

    model_type = "nitrogen_world_model"

    def __init__(
        self,
        action_type: str = "latent",
        num_latent_actions: int = 8,
        context_frames: int = 2,
        frame_size: tuple[int, int] | list[int] = (64, 64),
        patch_size: int = 4,
        channels: tuple[int, ...] | list[int] = (32, 64, 128),
        action_embed_dim: int = 32,
        image_mean: tuple[float, ...] | list[float] = (0.5, 0.5, 0.5),
        image_std: tuple[float, ...] | list[float] = (0.5, 0.5, 0.5),
        **kwargs,
    ):
        if action_type not in ACTION_TYPES:
            raise ValueError(f"action_type must be one of {ACTION_TYPES}, got {action_type!r}")
        if context_frames < 1:
            raise ValueError(f"context_frames must be >= 1, got {context_frames}")
        check_frame_size(frame_size, patch_size, len(channels))
        self.action_type = action_type
        self.num_latent_actions = num_latent_actions
        self.action_dim = ACTION_DIM
        self.context_frames = context_frames
        self.frame_size = list(frame_size)
        self.patch_size = patch_size
        self.channels = list(channels)
        self.action_embed_dim = action_embed_dim
        self.image_mean = list(image_mean)
        self.image_std = list(image_std)
        super().__init__(**kwargs)

    @property
    def num_frames(self) -> int:
        """Frames per training window: the context and the frame to predict."""
        return self.context_frames + 1

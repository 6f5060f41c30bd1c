"""Latent action model: a discrete action for every transition, learned from video alone.

An encoder reads frames t-c+1..t+1 into an embedding, a vector quantiser snaps it to one of
a few codes, and a decoder must rebuild frame t+1 from frames t-c+1..t and that code. The
only path from frame t+1 to the decoder is the code, so the code learns what the past
cannot predict; in a game that is mostly what the player did (Genie, LAPO). No action label
is ever read.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from nitrogen_hf.models.hub_mixin import NitroGenHubMixin
from nitrogen_hf.models.lam.configuration_lam import LatentActionConfig
from nitrogen_hf.models.lam.frame_predictor import (
    FramePredictor,
    TransitionEncoder,
    normalize_frames,
)
from nitrogen_hf.models.lam.quantizer import VectorQuantizer


@dataclass
class LatentActionOutput(ModelOutput):
    """codes: (B,) latent action of each window's last transition; embeddings: (B, D) before
    quantisation; prediction: (B, 3, H, W) normalised frame t+1; losses are scalars."""

    loss: torch.Tensor | None = None
    reconstruction_loss: torch.Tensor | None = None
    commitment_loss: torch.Tensor | None = None
    copy_loss: torch.Tensor | None = None  # error of "frame t+1 = frame t", for scale
    perplexity: torch.Tensor | None = None
    codes: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None
    prediction: torch.Tensor | None = None


@dataclass
class LatentActions:
    """codes: (N,) long; embeddings: (N, D) pre-quantisation (for probes)."""

    codes: torch.Tensor
    embeddings: torch.Tensor


class LatentActionPreTrainedModel(NitroGenHubMixin, PreTrainedModel):
    config_class = LatentActionConfig
    base_model_prefix = "lam"
    main_input_name = "frames"

    def _init_weights(self, module) -> None:
        pass  # PyTorch defaults; the decoder's zero output layer is set in FramePredictor


class LatentActionModel(LatentActionPreTrainedModel):
    """See the module docstring. Frames are uint8 or float 0-255."""

    def __init__(self, config: LatentActionConfig):
        super().__init__(config)
        self.encoder = TransitionEncoder(
            config.num_frames, config.channels, config.patch_size, config.latent_dim
        )
        self.quantizer = VectorQuantizer(
            config.codebook_size,
            config.latent_dim,
            config.codebook_decay,
            config.dead_code_threshold,
        )
        self.decoder = FramePredictor(
            config.context_frames, config.channels, config.patch_size, config.latent_dim
        )
        self.post_init()

    def forward(self, frames: torch.Tensor) -> LatentActionOutput:
        """frames: (B, context_frames + 1, 3, H, W); the last frame is the one to rebuild."""
        x = self._window(frames)
        embeddings = self.encoder(x)
        q = self.quantizer(embeddings)
        prediction = self.decoder(x[:, :-1], q.quantized)
        target = x[:, -1]
        reconstruction = F.mse_loss(prediction, target)
        return LatentActionOutput(
            loss=reconstruction + self.config.commitment_weight * self._per_pixel(q),
            reconstruction_loss=reconstruction,
            commitment_loss=q.commitment_loss,
            copy_loss=F.mse_loss(x[:, -2], target),
            perplexity=q.perplexity,
            codes=q.codes,
            embeddings=embeddings,
            prediction=prediction,
        )

    @torch.no_grad()
    def encode(self, frames: torch.Tensor) -> LatentActions:
        """Latent action of the last transition of each (B, C+1, 3, H, W) window."""
        embeddings = self.encoder(self._window(frames))
        return LatentActions(self.quantizer.nearest(embeddings), embeddings)

    @torch.no_grad()
    def encode_clip(self, frames: torch.Tensor, batch_size: int = 256) -> LatentActions:
        """Latent actions of every transition t -> t+1 of a clip (N, 3, H, W) that has a full
        context: t = C-1 .. N-2, so N - C of them."""
        c = self.config.context_frames
        windows = frames.unfold(0, c + 1, 1).permute(0, 4, 1, 2, 3)  # (N-C, C+1, 3, H, W)
        parts = [
            self.encode(windows[i : i + batch_size].to(self.device))
            for i in range(0, len(windows), batch_size)
        ]
        return LatentActions(
            torch.cat([p.codes for p in parts]).cpu(),
            torch.cat([p.embeddings for p in parts]).cpu(),
        )

    def _per_pixel(self, q) -> torch.Tensor:
        """VQ-VAE's objective is squared error summed over a frame's pixels + beta * ||z - e||^2;
        divided through by the pixel count here. Weighing a per-pixel MSE against the full
        commitment instead lets the commitment swamp the small error of a game frame, and the
        encoder collapses onto one code."""
        pixels = 3 * self.config.frame_size[0] * self.config.frame_size[1]
        return q.commitment_loss * self.config.latent_dim / pixels

    def _window(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.shape[1] != self.config.num_frames:
            raise ValueError(
                f"windows of {frames.shape[1]} frames; this LAM takes context_frames + 1 = "
                f"{self.config.num_frames}"
            )
        return normalize_frames(frames, self.config.image_mean, self.config.image_std)

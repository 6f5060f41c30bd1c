"""Configuration of the latent action model (LAM): Genie / LAPO-style actions from video alone."""

from __future__ import annotations

from transformers import PretrainedConfig


class LatentActionConfig(PretrainedConfig):
    """Frames up to t and frame t+1 in, one of `codebook_size` discrete latent actions out.

    The decoder must rebuild frame t+1 from the past frames and the latent alone, so the few
    bits of the latent are spent on what the past cannot predict: mostly the player's action.

    Args:
        context_frames: past frames (t-c+1 .. t) the encoder and decoder see. With 1 (frames t
            and t+1, as the seed's IDM) the latent must carry the player's motion even while a
            button is held; 2 shows velocity, so the latent carries only what changed, which a
            held button does not.
        frame_size: (height, width) of the model input; small frames keep CPU training short.
        patch_size: the first conv cuts non-overlapping patches of this size (cheap on a CPU).
        channels: widths of the patch stem and the stride-2 stages after it (encoder and
            decoder alike).
        latent_dim: width of the pre-quantisation embedding and of the code vectors.
        codebook_size: number of latent actions (Genie used 8: few enough to be a "gamepad").
        commitment_weight: beta of the VQ-VAE commitment loss (encoder stays near its code),
            weighed against the reconstruction error summed over a frame, as in VQ-VAE.
        codebook_decay: EMA decay of the codebook statistics (VQ-VAE-2 style updates).
        dead_code_threshold: a code whose EMA share of the batch falls below this fraction of
            a uniform share (1 / codebook_size) is restarted on a random encoder output.
        image_mean / image_std: input normalisation, as fractions of 255.
    """

    model_type = "nitrogen_lam"

    def __init__(
        self,
        context_frames: int = 1,
        frame_size: tuple[int, int] | list[int] = (64, 64),
        patch_size: int = 4,
        channels: tuple[int, ...] | list[int] = (32, 64, 128),
        latent_dim: int = 32,
        codebook_size: int = 8,
        commitment_weight: float = 0.25,
        codebook_decay: float = 0.99,
        dead_code_threshold: float = 0.1,
        image_mean: tuple[float, ...] | list[float] = (0.5, 0.5, 0.5),
        image_std: tuple[float, ...] | list[float] = (0.5, 0.5, 0.5),
        **kwargs,
    ):
        if context_frames < 1:
            raise ValueError(
                f"context_frames must be >= 1 (frame t at least), got {context_frames}"
            )
        if codebook_size < 2:
            raise ValueError(f"codebook_size must be >= 2, got {codebook_size}")
        if not 0.0 < codebook_decay < 1.0:
            raise ValueError(f"codebook_decay must be in (0, 1), got {codebook_decay}")
        check_frame_size(frame_size, patch_size, len(channels))
        self.context_frames = context_frames
        self.frame_size = list(frame_size)
        self.patch_size = patch_size
        self.channels = list(channels)
        self.latent_dim = latent_dim
        self.codebook_size = codebook_size
        self.commitment_weight = commitment_weight
        self.codebook_decay = codebook_decay
        self.dead_code_threshold = dead_code_threshold
        self.image_mean = list(image_mean)
        self.image_std = list(image_std)
        super().__init__(**kwargs)

    @property
    def num_frames(self) -> int:
        """Frames per training window: the context and the frame to predict."""
        return self.context_frames + 1


def check_frame_size(frame_size, patch_size: int, stages: int) -> None:
    """The U-Net cuts patches, halves them `stages - 1` times and must double them back."""
    factor = patch_size * 2 ** (stages - 1)
    if len(frame_size) != 2 or any(s % factor for s in frame_size):
        raise ValueError(
            f"frame_size {tuple(frame_size)} must be two multiples of {factor} "
            f"(patch {patch_size}, {stages - 1} stride-2 stages); e.g. (64, 64)"
        )

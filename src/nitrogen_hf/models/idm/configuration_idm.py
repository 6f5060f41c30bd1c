"""Configuration of the inverse dynamics model (IDM)."""

from __future__ import annotations

from transformers import PretrainedConfig

from nitrogen_hf.actions import ACTION_DIM


class NitroGenIDMConfig(PretrainedConfig):
    """Frames around a transition in, the gamepad action that caused it out.

    `num_frames` (T) consecutive frames give T-1 transition actions. T=2 is the seed's model
    (frame t, frame t+1 -> action t); wider windows see the frames before and after, which
    resolves actions whose effect shows a few frames late (VPT's non-causal IDM).

    The defaults are the `cpu` training preset's model: small and fast, because on 2 CPU cores
    the number of steps decides more than the width (a 4x wider model learned less in the same
    minutes). 84x64 keeps the 210x160 Atari aspect; use a landscape size for 16:9 video.

    Args:
        num_frames: window length T (>= 2).
        frame_size: (height, width) of the model input after overlay masking and resize.
        trunk: "cnn" (small trunk trained from scratch, the CPU default) or "backbone" (an HF
            vision model, `backbone_config` holds its config; weights come from
            `NitroGenIDM.from_backbone`).
        cnn_channels: widths of the conv stages of the "cnn" trunk, which sees each transition's
            two frames and their difference at once (early fusion); the first stage is a
            patchify conv of `stem_stride`, the others stride 2.
        stem_stride: patch size of the first conv (2 keeps a one-pixel motion visible).
        hidden_size / num_layers / num_heads: the non-causal transformer over the window's
            transition tokens.
        stick_bins: bins per stick axis on [-1, 1]: a distribution per axis gives an honest
            confidence for continuous sticks.
        button_temperature / stick_temperature: calibration (temperature scaling, fitted on
            held-out labeled data); 1.0 = uncalibrated.
        trained_dims: (25,) which action dims the training data observed; confidence and
            labels cover only these.
        confidence_threshold: per-frame confidence that reached the target precision on
            held-out data (set by calibration; the labeler's default filter).
    """

    model_type = "nitrogen_idm"

    def __init__(
        self,
        num_frames: int = 2,
        frame_size: tuple[int, int] | list[int] = (84, 64),
        trunk: str = "cnn",
        cnn_channels: tuple[int, ...] | list[int] = (16, 32, 64),
        stem_stride: int = 2,
        backbone_config: dict | None = None,
        image_mean: tuple[float, ...] | list[float] = (0.5, 0.5, 0.5),
        image_std: tuple[float, ...] | list[float] = (0.5, 0.5, 0.5),
        hidden_size: int = 64,
        num_layers: int = 1,
        num_heads: int = 2,
        dropout: float = 0.1,
        stick_bins: int = 21,
        button_temperature: float = 1.0,
        stick_temperature: float = 1.0,
        trained_dims: list[bool] | None = None,
        confidence_threshold: float | None = None,
        **kwargs,
    ):
        if num_frames < 2:
            raise ValueError(f"num_frames must be >= 2 (frame t and t+1), got {num_frames}")
        if trunk not in ("cnn", "backbone"):
            raise ValueError(f"trunk must be 'cnn' or 'backbone', got {trunk!r}")
        if trunk == "backbone" and backbone_config is None:
            raise ValueError(
                "trunk='backbone' needs backbone_config (use NitroGenIDM.from_backbone)"
            )
        if stick_bins < 2 or stick_bins % 2 == 0:
            raise ValueError(f"stick_bins must be odd (a bin centred on 0), got {stick_bins}")
        self.num_frames = num_frames
        self.frame_size = list(frame_size)
        self.trunk = trunk
        self.cnn_channels = list(cnn_channels)
        self.stem_stride = stem_stride
        self.backbone_config = backbone_config
        self.image_mean = list(image_mean)
        self.image_std = list(image_std)
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.dropout = dropout
        self.stick_bins = stick_bins
        self.button_temperature = button_temperature
        self.stick_temperature = stick_temperature
        self.trained_dims = list(trained_dims) if trained_dims is not None else [True] * ACTION_DIM
        self.confidence_threshold = confidence_threshold
        super().__init__(**kwargs)

"""Inverse dynamics model: a window of frames -> the gamepad action of every transition in it.

Per-frame features (a small conv trunk with an early 3D-conv fusion of neighbouring frames,
or any HF vision backbone) feed a non-causal transformer over the window; each transition
t -> t+1 is read from the pair of its two frame tokens. Buttons are Bernoulli, sticks a
categorical over bins per axis, so every prediction carries a probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from nitrogen_hf.actions import ACTION_DIM, NUM_BUTTONS, NUM_STICK_AXES
from nitrogen_hf.data.frames import resize_frames
from nitrogen_hf.models.hub_mixin import NitroGenHubMixin
from nitrogen_hf.models.idm.configuration_idm import NitroGenIDMConfig
from nitrogen_hf.models.image_inputs import to_frames


@dataclass
class IDMOutput(ModelOutput):
    """button_logits: (B, T-1, 21); stick_logits: (B, T-1, 4, bins); loss when labels given."""

    loss: torch.Tensor | None = None
    button_logits: torch.Tensor | None = None
    stick_logits: torch.Tensor | None = None
    button_loss: torch.Tensor | None = None
    stick_loss: torch.Tensor | None = None


@dataclass
class IDMPrediction:
    """Decoded, calibrated predictions per transition.

    vector: (..., 25) model-layout action (button probabilities, sticks in [0, 1]);
    confidence: (...,) probability that the whole predicted action (over trained dims) is right;
    button_logits / stick_logits: the raw (uncalibrated) outputs, for calibration.
    """

    vector: torch.Tensor
    confidence: torch.Tensor
    button_logits: torch.Tensor
    stick_logits: torch.Tensor


class ConvTransitionEncoder(nn.Module):
    """(B, T, 3, H, W) -> (B, T-1, D): one token per transition t -> t+1.

    Early fusion: the CNN sees frame t, frame t+1 and their difference together, so a motion of
    one or two pixels is visible before any pooling. The stem is a patchify conv (kernel =
    stride), the cheapest way in on a CPU; max pooling over a coarse 3x3 grid keeps a small
    sprite's response (an average would dilute it) and where on screen it happened.
    A token depends on its two frames only, so overlapping windows can share tokens.
    """

    def __init__(self, config: NitroGenIDMConfig):
        super().__init__()
        channels = config.cnn_channels
        stride = config.stem_stride
        layers: list[nn.Module] = [nn.Conv2d(9, channels[0], stride, stride=stride), nn.GELU()]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [
                nn.Conv2d(c_in, c_out, 3, stride=2, padding=1),
                nn.GroupNorm(1, c_out),
                nn.GELU(),
            ]
        self.cnn = nn.Sequential(*layers)
        self.pool = nn.AdaptiveMaxPool2d(3)
        self.proj = nn.Linear(channels[-1] * 9, config.hidden_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        b, t = pixels.shape[:2]
        before, after = pixels[:, :-1], pixels[:, 1:]
        pairs = torch.cat([before, after, after - before], dim=2).flatten(
            0, 1
        )  # (B*(T-1), 9, H, W)
        return self.proj(self.pool(self.cnn(pairs)).flatten(1)).view(b, t - 1, -1)


class BackboneTransitionEncoder(nn.Module):
    """(B, T, 3, H, W) -> (B, T-1, D) from a HF vision model applied per frame: each transition
    token sees the features of frame t and their change to frame t+1 (late fusion)."""

    def __init__(self, config: NitroGenIDMConfig):
        super().__init__()
        from transformers import AutoConfig, AutoModel

        backbone_config = dict(config.backbone_config)
        model_type = backbone_config.pop("model_type")
        self.backbone = AutoModel.from_config(AutoConfig.for_model(model_type, **backbone_config))
        width = _backbone_width(self.backbone.config)
        self.proj = nn.Linear(2 * width, config.hidden_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        b, t = pixels.shape[:2]
        out = self.backbone(pixel_values=pixels.flatten(0, 1))
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            pooled = out.last_hidden_state.mean(dim=1)
        features = pooled.flatten(1).view(b, t, -1)
        return self.proj(torch.cat([features[:, :-1], features[:, 1:] - features[:, :-1]], dim=-1))


def _backbone_width(config) -> int:
    for name in ("hidden_size", "embed_dim"):
        if isinstance(getattr(config, name, None), int):
            return getattr(config, name)
    sizes = getattr(config, "hidden_sizes", None)
    if sizes:
        return sizes[-1]
    raise ValueError(f"cannot tell the output width of backbone {config.model_type!r}")


class NitroGenIDMPreTrainedModel(NitroGenHubMixin, PreTrainedModel):
    config_class = NitroGenIDMConfig
    base_model_prefix = "idm"
    main_input_name = "frames"
    supports_gradient_checkpointing = True  # the temporal transformer's layers


class NitroGenIDM(NitroGenIDMPreTrainedModel):
    """Inverse dynamics model; see the module docstring. Input frames are uint8 or float 0-255."""

    def __init__(self, config: NitroGenIDMConfig):
        super().__init__(config)
        d = config.hidden_size
        self.trunk = (
            ConvTransitionEncoder(config)
            if config.trunk == "cnn"
            else BackboneTransitionEncoder(config)
        )
        self.transition_position = nn.Parameter(torch.zeros(1, config.num_frames - 1, d))
        layer = nn.TransformerEncoderLayer(
            d,
            config.num_heads,
            4 * d,
            config.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.temporal = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.gradient_checkpointing = False  # set by `gradient_checkpointing_enable()`
        self.norm = nn.LayerNorm(d)
        self.head = nn.Sequential(
            nn.Linear(d, d),
            nn.GELU(),
            nn.Linear(d, NUM_BUTTONS + NUM_STICK_AXES * config.stick_bins),
        )
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is self:
            nn.init.normal_(self.transition_position, std=0.02)

    @classmethod
    def from_backbone(cls, name_or_path: str, **config_kwargs) -> NitroGenIDM:
        """An IDM whose trunk is the pretrained HF vision model `name_or_path`."""
        from transformers import AutoImageProcessor, AutoModel

        backbone = AutoModel.from_pretrained(name_or_path)
        processor_stats = {}
        try:
            processor = AutoImageProcessor.from_pretrained(name_or_path)
            processor_stats = {"image_mean": processor.image_mean, "image_std": processor.image_std}
        except (OSError, ValueError):
            pass  # no processor saved: keep the config's normalisation
        config_kwargs = {
            k: v for k, v in config_kwargs.items() if k not in ("trunk", "backbone_config")
        }
        config = NitroGenIDMConfig(
            trunk="backbone",
            backbone_config=backbone.config.to_dict(),
            **{**processor_stats, **config_kwargs},
        )
        model = cls(config)
        model.trunk.backbone.load_state_dict(backbone.state_dict())
        return model

    # --- forward ---------------------------------------------------------------------
    def forward(
        self,
        frames: torch.Tensor,
        actions: torch.Tensor | None = None,
        observed: torch.Tensor | None = None,
        weights: torch.Tensor | None = None,
    ) -> IDMOutput:
        """frames: (B, T, 3, H, W); actions: (B, T-1, 25) model vectors; observed: (B, 25);
        weights: (B, T-1) per-transition loss weights (e.g. label confidence)."""
        t = frames.shape[1]
        if t > self.config.num_frames or t < 2:
            raise ValueError(f"window of {t} frames; this IDM takes 2..{self.config.num_frames}")
        output = self.read_actions(self.encode_transitions(frames))
        if actions is not None:
            self._add_loss(output, actions, observed, weights)
        return output

    def encode_transitions(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) 0-255 -> (B, T-1, D) transition tokens (before temporal mixing)."""
        return self.trunk(self._normalize(frames))

    def read_actions(self, tokens: torch.Tensor) -> IDMOutput:
        """Mix a window of transition tokens non-causally and read each one's action."""
        b, steps = tokens.shape[:2]
        mixed = tokens + self.transition_position[:, :steps]
        for layer in self.temporal.layers:  # what TransformerEncoder does without a mask
            if self.gradient_checkpointing and self.training:
                mixed = self._gradient_checkpointing_func(layer.__call__, mixed)
            else:
                mixed = layer(mixed)
        mixed = self.norm(mixed)
        out = self.head(mixed)
        stick_logits = out[..., NUM_BUTTONS:].reshape(
            b, steps, NUM_STICK_AXES, self.config.stick_bins
        )
        return IDMOutput(button_logits=out[..., :NUM_BUTTONS], stick_logits=stick_logits)

    def _normalize(self, frames: torch.Tensor) -> torch.Tensor:
        """0-255 pixels -> the trunk's normalisation (config, not buffers: nothing to load)."""
        mean = (
            torch.tensor(self.config.image_mean, device=frames.device).view(1, 1, 3, 1, 1) * 255.0
        )
        std = torch.tensor(self.config.image_std, device=frames.device).view(1, 1, 3, 1, 1) * 255.0
        return ((frames.float() - mean) / std).to(self.dtype)  # bf16 weights take bf16 input

    def _add_loss(self, output: IDMOutput, actions, observed, weights) -> None:
        b, steps = actions.shape[:2]
        observed = (
            torch.ones(b, ACTION_DIM, dtype=torch.bool, device=actions.device)
            if observed is None
            else observed
        )
        weights = torch.ones(b, steps, device=actions.device) if weights is None else weights
        button_mask = observed[:, None, :NUM_BUTTONS].float() * weights[..., None]
        button_bce = F.binary_cross_entropy_with_logits(
            output.button_logits, actions[..., :NUM_BUTTONS], reduction="none"
        )
        output.button_loss = (button_bce * button_mask).sum() / button_mask.sum().clamp(min=1.0)
        stick_mask = observed[:, None, NUM_BUTTONS:].float() * weights[..., None]
        stick_ce = -(
            two_hot(actions[..., NUM_BUTTONS:], self.config.stick_bins)
            * output.stick_logits.log_softmax(-1)
        ).sum(-1)
        output.stick_loss = (stick_ce * stick_mask).sum() / stick_mask.sum().clamp(min=1.0)
        output.loss = output.button_loss + output.stick_loss

    # --- decoding ----------------------------------------------------------------------
    def decode(self, output: IDMOutput) -> IDMPrediction:
        """Calibrated probabilities -> model-layout vector and per-transition confidence."""
        return decode_logits(output.button_logits, output.stick_logits, self.config)

    def frames_at_input_size(self, frames) -> torch.Tensor:
        """Frames in any form `to_frames` takes -> uint8 (..., 3, h, w) at `frame_size`.

        Frames already at that size (the labeler's, masked and resized as in training) pass
        unchanged; others are resized as training resizes them (antialiased bilinear)."""
        frames = to_frames(frames)
        size = tuple(self.config.frame_size)
        if tuple(frames.shape[-2:]) == size:
            return frames
        resized = resize_frames(frames.reshape(-1, *frames.shape[-3:]), size)
        return resized.reshape(*frames.shape[:-2], *size)

    @torch.no_grad()
    def predict(self, frames) -> IDMPrediction:
        """Predictions for every transition of windows: a batch (B, T, 3, H, W), or one window
        (T frames: a list of HWC arrays or PIL images, a (T, H, W, 3) array, ...)."""
        frames = self.frames_at_input_size(frames)
        if frames.ndim == 4:
            frames = frames[None]
        return self.decode(self(frames.to(self.device)))

    @torch.no_grad()
    def predict_sequence(self, frames, batch_size: int = 64) -> IDMPrediction:
        """Label a long clip (N, 3, H, W) (or N frames in any form `to_frames` takes): N-1
        transitions, each read from the window where it sits most centrally (windows overlap by
        half, so every transition has context on both sides). Transition tokens are computed
        once and shared by the overlapping windows."""
        frames = self.frames_at_input_size(frames)
        tokens = torch.cat(
            [
                self.encode_transitions(
                    frames[None, first : first + batch_size + 1].to(self.device)
                )[0]
                for first in range(0, len(frames) - 1, batch_size)
            ]
        )  # (N-1, D)
        size = min(self.config.num_frames, len(frames)) - 1  # transitions per window
        starts = window_starts(len(frames), size + 1)
        owner = central_window(starts, len(frames), size + 1)
        button_logits = torch.zeros(len(tokens), NUM_BUTTONS)
        stick_logits = torch.zeros(len(tokens), NUM_STICK_AXES, self.config.stick_bins)
        for first in range(0, len(starts), batch_size):
            batch_starts = starts[first : first + batch_size]
            output = self.read_actions(torch.stack([tokens[s : s + size] for s in batch_starts]))
            for row, start in enumerate(batch_starts):
                mine = (owner[start : start + size] == start).nonzero().flatten()
                button_logits[start + mine] = output.button_logits[row, mine].float().cpu()
                stick_logits[start + mine] = output.stick_logits[row, mine].float().cpu()
        return decode_logits(button_logits, stick_logits, self.config)


def window_starts(num_frames: int, window: int) -> list[int]:
    """Start frames of windows that overlap by about half and end exactly at the last frame."""
    if num_frames <= window:
        return [0]
    step = max(1, window // 2)
    starts = list(range(0, num_frames - window + 1, step))
    if starts[-1] != num_frames - window:
        starts.append(num_frames - window)
    return starts


def central_window(starts: list[int], num_frames: int, window: int) -> torch.Tensor:
    """(N-1,) start of the window in which each transition is most central."""
    transitions = torch.arange(num_frames - 1, dtype=torch.float32)
    centres = torch.tensor(starts, dtype=torch.float32) + (window - 2) / 2.0
    best = torch.full((num_frames - 1,), float("inf"))
    owner = torch.zeros(num_frames - 1, dtype=torch.long)
    for start, centre in zip(starts, centres, strict=True):
        inside = (transitions >= start) & (transitions <= start + window - 2)
        distance = torch.where(inside, (transitions - centre).abs(), torch.tensor(float("inf")))
        better = distance < best
        best, owner = torch.where(better, distance, best), torch.where(better, start, owner)
    return owner


def two_hot(values01: torch.Tensor, bins: int) -> torch.Tensor:
    """Soft targets on `bins` evenly spaced centres in [0, 1]: linear split between neighbours."""
    position = values01.clamp(0.0, 1.0) * (bins - 1)
    low = position.floor().long().clamp(max=bins - 2)
    high_weight = position - low.float()
    target = torch.zeros(*values01.shape, bins, device=values01.device)
    target.scatter_(-1, low.unsqueeze(-1), (1.0 - high_weight).unsqueeze(-1))
    target.scatter_add_(-1, (low + 1).unsqueeze(-1), high_weight.unsqueeze(-1))
    return target


def decode_logits(
    button_logits: torch.Tensor, stick_logits: torch.Tensor, config: NitroGenIDMConfig
) -> IDMPrediction:
    """Apply the calibrated temperatures; sticks decode to their expected value in [0, 1]."""
    button_probs = torch.sigmoid(button_logits / config.button_temperature)
    stick_probs = torch.softmax(stick_logits / config.stick_temperature, dim=-1)
    centres = torch.linspace(0.0, 1.0, config.stick_bins, device=stick_probs.device)
    vector = torch.cat([button_probs, (stick_probs * centres).sum(-1)], dim=-1)
    dims = torch.tensor(config.trained_dims, dtype=torch.bool, device=button_probs.device)
    confidence = action_confidence(button_probs, stick_probs, dims)
    return IDMPrediction(vector, confidence, button_logits, stick_logits)


def action_confidence(
    button_probs: torch.Tensor, stick_probs: torch.Tensor, dims: torch.Tensor
) -> torch.Tensor:
    """Probability that every trained dim is predicted right (independence across dims):
    product of max(p, 1-p) over buttons and of the top bin's mass over stick axes."""
    button_dims, stick_dims = dims[:NUM_BUTTONS], dims[NUM_BUTTONS:]
    log_conf = (
        torch.maximum(button_probs, 1 - button_probs)
        .clamp_min(1e-12)
        .log()[..., button_dims]
        .sum(-1)
    )
    stick_top = stick_probs.max(-1).values.clamp_min(1e-12).log()
    return (log_conf + stick_top[..., stick_dims].sum(-1)).exp()

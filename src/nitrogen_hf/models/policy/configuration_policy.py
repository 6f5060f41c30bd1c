"""Configuration of the NitroGen vision-action policy: a vision tower, a VL self-attention
stack, and a DiT flow-matching head predicting chunks of 25-d gamepad actions."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from ...actions import ACTION_DIM, BUTTON_THRESHOLD
from ...presets import preset

DEFAULT_VISION_ENCODER = "google/siglip2-base-patch16-256"

# Fixed-resolution SigLIP 2 towers are the SigLIP v1 architecture (`SiglipVisionModel`);
# their vision configs are spelled out so presets and conversions need no Hub access.
SIGLIP2_VISION_CONFIGS: dict[str, dict] = {
    "google/siglip2-base-patch16-256": {
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "image_size": 256,
        "patch_size": 16,
    },
    "google/siglip2-large-patch16-256": {
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "image_size": 256,
        "patch_size": 16,
    },
}
SIGLIP_VISION_TYPE = "siglip_vision_model"
POSITIONAL_EMBEDDINGS = (None, "sinusoidal")


def vision_config_for(name_or_path: str) -> PreTrainedConfig:
    """The vision config of a tower: a known SigLIP 2 id, or `AutoConfig` of a local path / cached id.

    Composite configs (e.g. a full SigLIP with a text tower) yield their `vision_config`.
    """
    if name_or_path in SIGLIP2_VISION_CONFIGS:
        return AutoConfig.for_model(SIGLIP_VISION_TYPE, **SIGLIP2_VISION_CONFIGS[name_or_path])
    config = AutoConfig.from_pretrained(name_or_path)
    return getattr(config, "vision_config", None) or config


@strict
class NitroGenPolicyConfig(PreTrainedConfig):
    r"""Sizes and hyper-parameters of [`NitroGenPolicy`]; defaults are the `base` preset.

    Field names follow NitroGen's `ckpt_config` where one exists (see `convert_nitrogen.py`).
    `vision_config` is the source of truth for the tower; when it is not given it is built from
    `vision_encoder_name` (a known SigLIP 2 id, a local path, or a cached Hub id).
    """

    model_type = "nitrogen_policy"
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type=SIGLIP_VISION_TYPE,
            init_kwargs=SIGLIP2_VISION_CONFIGS[DEFAULT_VISION_ENCODER],
        )
    }

    # Vision tower: any HF vision backbone whose output has `last_hidden_state` (B, N, V).
    vision_encoder_name: str = DEFAULT_VISION_ENCODER
    vision_config: dict | PreTrainedConfig | None = None
    # Width D of the action tokens; equals the DiT inner width (heads x head_dim).
    hidden_size: int = 768
    # Gamepad vector size; the 25-d layout of `nitrogen_hf.actions` (sticks in [0, 1]).
    action_dim: int = ACTION_DIM
    # Actions predicted per call (one chunk).
    action_horizon: int = 16
    # Context frames per sample; their tokens are concatenated in time order.
    frame_per_sample: int = 1
    # VL tokens ([game token] + image tokens) are LEFT-padded with zeros to this length.
    max_sequence_length: int = 300
    # Game-id vocabulary; the embedding has num_games + 1 rows, row 0 = unconditional. 0 = no token.
    num_games: int = 0
    # Optional names of games 1..num_games (row i + 1 is game_names[i]).
    game_names: list[str] | None = None
    # VL self-attention stack over the padded tokens (width = vision width V).
    vl_num_layers: int = 4
    vl_num_attention_heads: int = 12
    vl_attention_head_dim: int = 64
    vl_dropout: float = 0.0
    vl_norm_eps: float = 1e-5
    vl_positional_embeddings: str | None = "sinusoidal"
    vl_max_positions: int = 512
    # DiT action head: AdaLN timestep conditioning, cross-attention to the VL memory.
    dit_num_layers: int = 8
    dit_num_attention_heads: int = 12
    dit_attention_head_dim: int = 64
    # Odd blocks attend to the action tokens themselves instead of the VL memory.
    dit_interleave_self_attention: bool = True
    dit_dropout: float = 0.0
    dit_norm_eps: float = 1e-5
    dit_positional_embeddings: str | None = "sinusoidal"
    dit_max_positions: int = 512
    # Learned positions added to the encoded action tokens (NitroGen's add_pos_embed / max_seq_len).
    add_action_position_embedding: bool = True
    max_action_positions: int = 1024
    # Per-embodiment encoder/decoder weights; NitroGen uses a single embodiment (index 0).
    num_embodiments: int = 1
    # Flow matching (see `FlowMatchingScheduler`).
    noise_beta_alpha: float = 1.5
    noise_beta_beta: float = 1.0
    noise_s: float = 0.999
    num_timestep_buckets: int = 1000
    num_inference_timesteps: int = 16
    # Image processing of the SigLIP processor: bicubic resize, x / 255, (x - mean) / std.
    image_mean: list[float] | None = None
    image_std: list[float] | None = None
    # Decoding: a button is pressed when its output exceeds this.
    button_threshold: float = BUTTON_THRESHOLD
    # Data-side sampling the checkpoint was trained with (frames between context frames,
    # actions skipped after the observed frame); recorded for the data pipeline, unused here.
    frame_spacing: int = 1
    action_shift: int = 0
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        if self.vision_config is None and self.vision_encoder_name != DEFAULT_VISION_ENCODER:
            self.vision_config = vision_config_for(self.vision_encoder_name)
        if isinstance(self.vision_config, dict) and "vision_config" in self.vision_config:
            self.vision_config = self.vision_config["vision_config"]
        super().__post_init__(**kwargs)
        if isinstance(getattr(self.vision_config, "vision_config", None), PreTrainedConfig):
            self.vision_config = self.vision_config.vision_config
        self.image_mean = list(self.image_mean) if self.image_mean else [0.5, 0.5, 0.5]
        self.image_std = list(self.image_std) if self.image_std else [0.5, 0.5, 0.5]
        self.check_sizes()

    @property
    def vision_hidden_size(self) -> int:
        """Width V of the vision tokens, the game embedding and the VL stack."""
        return self.vision_config.hidden_size

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) the tower expects."""
        size = self.vision_config.image_size
        return (size, size) if isinstance(size, int) else tuple(size)

    def check_sizes(self) -> None:
        """Fail early, naming the fields, when the blocks cannot be wired together."""
        vl_width = self.vl_num_attention_heads * self.vl_attention_head_dim
        if vl_width != self.vision_hidden_size:
            raise ValueError(
                f"VL stack width vl_num_attention_heads x vl_attention_head_dim = {vl_width} must "
                f"equal the vision width {self.vision_hidden_size}"
            )
        dit_width = self.dit_num_attention_heads * self.dit_attention_head_dim
        if dit_width != self.hidden_size:
            raise ValueError(
                f"DiT width dit_num_attention_heads x dit_attention_head_dim = {dit_width} must "
                f"equal hidden_size {self.hidden_size}"
            )
        if self.action_dim != ACTION_DIM:
            raise ValueError(
                f"action_dim must be {ACTION_DIM} (the gamepad layout), got {self.action_dim}"
            )
        for name in ("vl_positional_embeddings", "dit_positional_embeddings"):
            if getattr(self, name) not in POSITIONAL_EMBEDDINGS:
                raise ValueError(
                    f"{name} must be one of {POSITIONAL_EMBEDDINGS}, got {getattr(self, name)!r}"
                )
        if self.add_action_position_embedding and self.action_horizon > self.max_action_positions:
            raise ValueError(
                f"action_horizon {self.action_horizon} exceeds max_action_positions {self.max_action_positions}"
            )
        if self.game_names is not None and len(self.game_names) != self.num_games:
            raise ValueError(
                f"{len(self.game_names)} game_names given for num_games={self.num_games}"
            )

    @classmethod
    def preset(cls, name: str, **overrides) -> NitroGenPolicyConfig:
        """The architecture `name` of `ARCHITECTURES` with `overrides` on top."""
        fields = preset(ARCHITECTURES, name, "policy architecture")
        if callable(fields):
            fields = fields()
        return cls(**{**fields, **overrides})


def _nitrogen_500m() -> dict:
    name = "google/siglip2-large-patch16-256"
    return {
        "vision_encoder_name": name,
        "vision_config": vision_config_for(name),
        "hidden_size": 1024,
        "action_horizon": 18,
        "vl_num_attention_heads": 16,
        "dit_num_attention_heads": 16,
        "noise_beta_alpha": 1.6,
        "noise_beta_beta": 0.8,
        "action_shift": 3,
    }


# Named architectures (fields over the defaults, which are `base`).
ARCHITECTURES = {
    # 0.6M parameters for tests and CPU runs (32 px frames, 16 tokens per frame). The action
    # width stays at 128: narrower, the ReLU decoder cannot pass all 25 dims through, and the
    # model stops learning. The init std keeps the per-layer gain (std x sqrt(width) ~ 0.8)
    # that std 0.02 gives at NitroGen's width of 1024.
    "tiny": {
        "vision_encoder_name": "tiny-random-siglip",
        "vision_config": {
            "model_type": SIGLIP_VISION_TYPE,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        "hidden_size": 128,
        "max_sequence_length": 20,
        "vl_num_layers": 1,
        "vl_num_attention_heads": 2,
        "vl_attention_head_dim": 16,
        "vl_max_positions": 64,
        "dit_num_layers": 2,
        "dit_num_attention_heads": 4,
        "dit_attention_head_dim": 32,
        "dit_max_positions": 64,
        "max_action_positions": 32,
        "num_inference_timesteps": 4,
        "initializer_range": 0.07,
    },
    # SigLIP 2 base 256 px tower, 4 VL layers, 8-layer DiT of width 768 (about 190M params).
    "base": {},
    # NVIDIA's released `ng.pt`: SigLIP 2 large 256 px tower, 4 VL layers, 8-layer DiT of width
    # 1024 (16 heads x 64, alternating cross/self attention), horizon 18 (a callable: its tower
    # config is built when asked for).
    "nitrogen_500m": _nitrogen_500m,
}

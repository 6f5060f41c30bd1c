"""Load NVIDIA's released NitroGen policy (`ng.pt`) into `NitroGenPolicy`, or convert it to a
`save_pretrained` folder.

How the weights map:
- Our modules carry the released names (`vl_self_attention_model.*`, `model.*`,
  `action_encoder.*`, `action_decoder.*`, `position_embedding.weight`, `game_embedding.weight`),
  so those keys load unchanged.
- `vision_encoder.*`: the file holds transformers-4.x `SiglipVisionModel` keys without their
  `vision_model.` prefix. transformers 5 flattened `SiglipVisionModel` (its loader strips
  `vision_model.` from old checkpoints), so these are exactly the keys of our tower. A stray
  `vision_encoder.vision_model.` prefix is stripped anyway, and the `embeddings.position_ids`
  buffer that old transformers saved is dropped (it is an arange, rebuilt at init).
- `old_layout`: such checkpoints order the 25 dims [j_left, j_right, buttons]. The input rows of
  `action_encoder.W1` and the output columns of `action_decoder.layer2` are permuted to the new
  layout [buttons, j_left, j_right], so the converted model speaks only the new layout. This is
  exact: both are linear in the permuted dims and the sampling noise is i.i.d. per dim.
Every size comes from `ckpt_config`; the state dict must then match our model key for key.

Fields a `ckpt_config` may omit take the default of NVIDIA's pydantic config classes (their
loader, `CkptConfig.model_validate`, fills them in), listed in `NVIDIA_DEFAULTS`:

| section | field: NVIDIA's default |
|---|---|
| model_cfg | add_pos_embed: false, hidden_size: 1024, max_seq_len: 1024, noise_beta_alpha: 1.5, noise_beta_beta: 1.0, noise_s: 0.999, num_timestep_buckets: 1000, max_num_embodiments: 1, vision_encoder_name: google/siglip-large-patch16-256, vision_hidden_size: 768; action_dim: none (read from action_encoder.W1.W) |
| diffusion_model_cfg and vl_self_attention_cfg | num_attention_heads: 8, attention_head_dim: 64, output_dim: 26, num_layers: 12, dropout: 0.1, attention_bias: true, activation_fn: gelu-approximate, max_num_positional_embeddings: 512, positional_embeddings: sinusoidal, interleave_self_attention: false |
| diffusion_model_cfg only | norm_type: ada_norm, norm_eps: 1e-5; cross_attention_dim: none (read from the first block's attn1.to_k) |
| tokenizer_cfg | num_visual_tokens_per_frame: 256, max_sequence_length: 300, action_horizon: 16, game_mapping_cfg: none, old_layout: false |
| modality_cfg | frame_per_sample: 1, action_per_chunk: 8, frame_spacing: action_per_chunk, action_shift: 1 |

`model_cfg.action_horizon` and `num_inference_timesteps` have no usable default there either
(None) and must be in the file. A default that disagrees with the weights (a layer count, a
width) fails naming the field and the key that shows it.
"""

from __future__ import annotations

import copy
import json
import pickle
import zipfile
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

import torch
from transformers import AutoConfig, PreTrainedConfig
from transformers.initialization import no_init_weights

from ...actions import NUM_BUTTONS, NUM_STICK_AXES
from .configuration_policy import NitroGenPolicyConfig, vision_config_for
from .modeling_policy import NitroGenPolicy

# New-layout dim i is old-layout dim NEW_FROM_OLD[i] (old: 4 stick axes first, then buttons).
NEW_FROM_OLD = [*range(NUM_STICK_AXES, NUM_STICK_AXES + NUM_BUTTONS), *range(NUM_STICK_AXES)]
# The per-dim weights that `old_layout` permutes, with the axis holding the action dims.
ACTION_DIM_AXES = {
    "action_encoder.W1.W": 1,
    "action_decoder.layer2.W": 2,
    "action_decoder.layer2.b": 1,
}
# Defaults of NVIDIA's config classes (see the module docstring); None = no usable default.
_BLOCK_DEFAULTS = {
    "num_attention_heads": 8,
    "attention_head_dim": 64,
    "output_dim": 26,
    "num_layers": 12,
    "dropout": 0.1,
    "attention_bias": True,
    "activation_fn": "gelu-approximate",
    "max_num_positional_embeddings": 512,
    "positional_embeddings": "sinusoidal",
    "interleave_self_attention": False,
    "norm_eps": 1e-5,  # NVIDIA's DiT field; the VL stack's LayerNorm uses torch's 1e-5 too
}
NVIDIA_DEFAULTS = {
    "model_cfg": {
        "add_pos_embed": False,
        "hidden_size": 1024,
        "max_seq_len": 1024,
        "action_dim": None,
        "action_horizon": None,
        "noise_beta_alpha": 1.5,
        "noise_beta_beta": 1.0,
        "noise_s": 0.999,
        "num_timestep_buckets": 1000,
        "num_inference_timesteps": None,
        "max_num_embodiments": 1,
        "vision_encoder_name": "google/siglip-large-patch16-256",
        "vision_hidden_size": 768,
    },
    "diffusion_model_cfg": {
        **_BLOCK_DEFAULTS,
        "norm_type": "ada_norm",
        "cross_attention_dim": None,
    },
    "vl_self_attention_cfg": dict(_BLOCK_DEFAULTS),
    "tokenizer_cfg": {
        "num_visual_tokens_per_frame": 256,
        "max_sequence_length": 300,
        "action_horizon": 16,
        "game_mapping_cfg": None,
        "old_layout": False,
    },
    "modality_cfg": {
        "frame_per_sample": 1,
        "action_per_chunk": 8,
        "frame_spacing": None,  # = action_per_chunk
        "action_shift": 1,
    },
}


def read_checkpoint(path_or_dict, weights_only: bool = True) -> tuple[dict, str]:
    """The `ng.pt` dict (with 'model' and 'ckpt_config') and a label for error messages."""
    if isinstance(path_or_dict, Mapping):
        checkpoint, source = dict(path_or_dict), "checkpoint dict"
    else:
        source = str(path_or_dict)
        if not Path(source).is_file():
            raise FileNotFoundError(f"{source}: no such checkpoint file")
        if not zipfile.is_zipfile(source):  # torch.save's format since PyTorch 1.6
            raise ValueError(f"{source}: not a PyTorch checkpoint (torch.save writes a zip file)")
        try:
            checkpoint = torch.load(path_or_dict, map_location="cpu", weights_only=weights_only)
        except pickle.UnpicklingError as err:
            if weights_only and "Weights only load failed" in str(err):
                raise ValueError(
                    f"{source}: holds objects that weights_only loading refuses; if you trust "
                    "the file, load it with weights_only=False (--unsafe-pickle)"
                ) from err
            raise ValueError(f"{source}: not a PyTorch checkpoint ({err})") from err
        except (RuntimeError, EOFError, OSError) as err:  # torch's "not a zip / truncated" cases
            raise ValueError(f"{source}: not a readable PyTorch checkpoint ({err})") from err
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"{source}: holds a {type(checkpoint).__name__}, not NVIDIA's ng.pt dict")
    for key in ("model", "ckpt_config"):
        if key not in checkpoint:
            raise ValueError(f"{source}: no '{key}' entry; expected NVIDIA's ng.pt layout")
    return checkpoint, source


def read_game_names(source: Sequence[str] | Mapping[str, int] | str | PathLike) -> list[str]:
    """Names of embedding rows 1..n, from game labels, a {name: row} mapping, or a .json/.txt file.

    A list is taken as raw `game_label` values: deduplicated and sorted, which is how NitroGen
    builds its mapping. A mapping fixes the rows explicitly (row 0, unconditional, is skipped).
    """
    if isinstance(source, str | PathLike):
        path = Path(source)
        text = path.read_text()
        source = json.loads(text) if path.suffix == ".json" else text.split("\n")
    if isinstance(source, Mapping):
        rows = {int(row): str(name) for name, row in source.items() if int(row) != 0}
        if sorted(rows) != list(range(1, len(rows) + 1)):
            raise ValueError(
                f"game mapping rows must be 1..{len(rows)} (0 = unconditional), got {sorted(rows)}"
            )
        return [rows[row] for row in range(1, len(rows) + 1)]
    return sorted({str(name).strip() for name in source if str(name).strip()})


class Section:
    """One `ckpt_config` section: its fields, else NVIDIA's defaults, else a clear error."""

    def __init__(self, values: Mapping, name: str, where: str):
        if not isinstance(values, Mapping):
            raise ValueError(f"{where}: expected a mapping, got {type(values).__name__}")
        self.values, self.defaults, self.where = values, NVIDIA_DEFAULTS.get(name, {}), where

    def __getitem__(self, key: str):
        if key in self.values:
            return self.values[key]
        if self.defaults.get(key) is None:
            raise ValueError(
                f"{self.where}: '{key}' missing; it must be read from the checkpoint, not assumed"
            )
        return self.defaults[key]

    def get(self, key: str, fallback=None):
        """The field or NVIDIA's default, `fallback` when neither exists."""
        return self.values.get(key, self.defaults.get(key, fallback))

    def section(self, key: str) -> Section:
        return Section(self[key], key, f"{self.where}.{key}")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _vision_config(model_cfg: Section, state_dict: Mapping, vision_config):
    """The tower config: given explicitly, else from `vision_encoder_name`; head per the weights."""
    name, where = model_cfg["vision_encoder_name"], model_cfg.where
    if isinstance(vision_config, str | PathLike):
        vision_config = vision_config_for(str(vision_config))
    elif isinstance(vision_config, Mapping):
        vision_config = AutoConfig.for_model(**vision_config)
    elif vision_config is None:
        try:
            vision_config = vision_config_for(name)
        except (OSError, ValueError) as err:
            raise ValueError(
                f"{where}: cannot build the config of vision tower {name!r} offline; pass "
                "vision_config= (a config, a dict or a local path)"
            ) from err
    vision_config = copy.deepcopy(getattr(vision_config, "vision_config", None) or vision_config)
    if hasattr(vision_config, "vision_use_head"):
        vision_config.vision_use_head = any(
            k.startswith("vision_encoder.head.") for k in state_dict
        )
    width = model_cfg["vision_hidden_size"]
    _check(
        vision_config.hidden_size == width,
        f"{where}: vision_hidden_size {width} != hidden_size {vision_config.hidden_size} of {name!r}",
    )
    return name, vision_config


def _check_block_cfg(cfg: Section) -> None:
    """Reject settings our blocks do not implement instead of silently computing something else."""
    _check(
        cfg["activation_fn"] == "gelu-approximate",
        f"{cfg.where}: activation_fn must be 'gelu-approximate'",
    )
    _check(cfg["attention_bias"] is True, f"{cfg.where}: attention_bias must be true")
    _check(
        cfg.get("positional_embeddings") in (None, "sinusoidal"),
        f"{cfg.where}: unsupported positional_embeddings",
    )


def _blocks_in(state_dict: Mapping, prefix: str) -> int:
    """Number of transformer blocks `prefix.N.*` in the weights."""
    indices = {k[len(prefix) :].split(".", 1)[0] for k in state_dict if k.startswith(prefix)}
    return len({int(i) for i in indices if i.isdigit()})


def _check_against_weights(state_dict: Mapping, fields: dict, where: dict) -> None:
    """A size from the config (or NVIDIA's default) that the weights contradict, by name."""
    checks = [
        (
            "dit_num_layers",
            _blocks_in(state_dict, "model.transformer_blocks."),
            "model.transformer_blocks.N",
        ),
        (
            "vl_num_layers",
            _blocks_in(state_dict, "vl_self_attention_model.transformer_blocks."),
            "vl_self_attention_model.transformer_blocks.N",
        ),
    ]
    encoder = state_dict.get("action_encoder.W1.W")
    if encoder is not None:
        checks += [
            ("num_embodiments", encoder.shape[0], "action_encoder.W1.W (E, 25, D)"),
            ("hidden_size", encoder.shape[2], "action_encoder.W1.W (E, 25, D)"),
        ]
    query = state_dict.get("model.transformer_blocks.0.attn1.to_q.weight")
    if query is not None:
        width = fields["dit_num_attention_heads"] * fields["dit_attention_head_dim"]
        checks.append(("dit_width", query.shape[0], "model.transformer_blocks.0.attn1.to_q.weight"))
        fields = {**fields, "dit_width": width}
    positions = state_dict.get("position_embedding.weight")
    if positions is not None and fields["add_action_position_embedding"]:
        checks.append(("max_action_positions", positions.shape[0], "position_embedding.weight"))
    for field, found, key in checks:
        _check(
            fields[field] == found,
            f"{where[field]} gives {field} = {fields[field]} but the weights have {found} "
            f"({key}); fix ckpt_config",
        )


def config_from_ckpt_config(
    ckpt_config: Mapping,
    state_dict: Mapping[str, torch.Tensor],
    game_names=None,
    vision_config: PreTrainedConfig | Mapping | str | None = None,
    source: str = "ng.pt",
) -> NitroGenPolicyConfig:
    """A `NitroGenPolicyConfig` whose every size is read from `ckpt_config` (NVIDIA's defaults
    for the fields it omits), checked against the weights."""
    top = Section(ckpt_config, "ckpt_config", f"{source}: ckpt_config")
    model_cfg, tokenizer, modality = (
        top.section("model_cfg"),
        top.section("tokenizer_cfg"),
        top.section("modality_cfg"),
    )
    dit, vl = model_cfg.section("diffusion_model_cfg"), model_cfg.section("vl_self_attention_cfg")
    _check_block_cfg(dit)
    _check_block_cfg(vl)
    _check(dit["norm_type"] == "ada_norm", f"{dit.where}: norm_type must be 'ada_norm'")

    name, tower = _vision_config(model_cfg, state_dict, vision_config)
    hidden_size = model_cfg["hidden_size"]
    _check(dit["output_dim"] == hidden_size, f"{dit.where}: output_dim must equal hidden_size")
    key_weight = state_dict.get("model.transformer_blocks.0.attn1.to_k.weight")
    cross_dim = dit.get("cross_attention_dim") or (
        None if key_weight is None else key_weight.shape[1]
    )
    _check(
        cross_dim == tower.hidden_size,
        f"{dit.where}: cross_attention_dim must equal the vision width {tower.hidden_size}",
    )
    horizon = model_cfg["action_horizon"]
    _check(
        tokenizer.values.get("action_horizon", horizon) == horizon,
        f"{source}: tokenizer_cfg.action_horizon != model_cfg.action_horizon",
    )
    tokens = tokenizer.get("num_visual_tokens_per_frame")
    if tokens is not None and hasattr(tower, "patch_size"):
        _check(
            tokens == (tower.image_size // tower.patch_size) ** 2,
            f"{source}: num_visual_tokens_per_frame {tokens} does not match the tower {name!r}",
        )
    encoder = state_dict.get("action_encoder.W1.W")
    action_dim = model_cfg.get("action_dim") or (None if encoder is None else encoder.shape[1])
    if action_dim is None:
        model_cfg["action_dim"]  # raises: neither in the file nor in the weights
    num_games, names = _games(tokenizer, state_dict, game_names, source)
    fields = {
        **_stack_fields("vl", vl),
        **_stack_fields("dit", dit),
        "hidden_size": hidden_size,
        "num_embodiments": model_cfg["max_num_embodiments"],
        "add_action_position_embedding": bool(model_cfg["add_pos_embed"]),
        "max_action_positions": model_cfg["max_seq_len"],
    }
    where = {
        "vl_num_layers": f"{vl.where}.num_layers",
        "dit_num_layers": f"{dit.where}.num_layers",
        "dit_width": f"{dit.where}.num_attention_heads x attention_head_dim",
        "num_embodiments": f"{model_cfg.where}.max_num_embodiments",
        "hidden_size": f"{model_cfg.where}.hidden_size",
        "max_action_positions": f"{model_cfg.where}.max_seq_len",
    }
    _check_against_weights(state_dict, fields, where)
    return NitroGenPolicyConfig(
        vision_encoder_name=name,
        vision_config=tower,
        action_dim=action_dim,
        action_horizon=horizon,
        frame_per_sample=modality["frame_per_sample"],
        max_sequence_length=tokenizer["max_sequence_length"],
        num_games=num_games,
        game_names=names,
        dit_interleave_self_attention=bool(dit["interleave_self_attention"]),
        noise_beta_alpha=float(model_cfg["noise_beta_alpha"]),
        noise_beta_beta=float(model_cfg["noise_beta_beta"]),
        noise_s=float(model_cfg["noise_s"]),
        num_timestep_buckets=model_cfg["num_timestep_buckets"],
        num_inference_timesteps=model_cfg["num_inference_timesteps"],
        frame_spacing=modality.get("frame_spacing") or modality["action_per_chunk"],
        action_shift=modality["action_shift"],
        **fields,
    )


def _stack_fields(prefix: str, cfg: Section) -> dict:
    """`{prefix}_*` config fields of one transformer stack."""
    return {
        f"{prefix}_num_layers": cfg["num_layers"],
        f"{prefix}_num_attention_heads": cfg["num_attention_heads"],
        f"{prefix}_attention_head_dim": cfg["attention_head_dim"],
        f"{prefix}_dropout": float(cfg["dropout"]),
        f"{prefix}_norm_eps": float(cfg["norm_eps"]),
        f"{prefix}_positional_embeddings": cfg.get("positional_embeddings"),
        f"{prefix}_max_positions": cfg.get("max_num_positional_embeddings") or 0,
    }


def _games(tokenizer: Section, state_dict: Mapping, game_names, source: str):
    """(num_games, names or None); rows come from the weights, names from the caller."""
    weight = state_dict.get("game_embedding.weight")
    num_games = 0 if weight is None else weight.shape[0] - 1
    has_mapping = tokenizer.get("game_mapping_cfg") is not None
    _check(
        has_mapping == (weight is not None),
        f"{source}: tokenizer_cfg.game_mapping_cfg and game_embedding.weight must be both present or both absent",
    )
    if game_names is None:
        return num_games, None
    _check(
        weight is not None, f"{source}: game names given but the checkpoint has no game embedding"
    )
    names = read_game_names(game_names)
    _check(
        len(names) == num_games,
        f"{source}: {len(names)} game names for {num_games} game embedding rows (plus row 0)",
    )
    return num_games, names


def convert_state_dict(
    state_dict: Mapping[str, torch.Tensor], old_layout: bool
) -> dict[str, torch.Tensor]:
    """Released keys -> our keys (identical but for the tower's legacy leftovers); new action layout."""
    converted = {}
    for key, value in state_dict.items():
        if key.startswith("vision_encoder.vision_model."):
            key = "vision_encoder." + key.removeprefix("vision_encoder.vision_model.")
        if key == "vision_encoder.embeddings.position_ids":
            continue
        converted[key] = value
    if old_layout:
        order = torch.tensor(NEW_FROM_OLD)
        for key, axis in ACTION_DIM_AXES.items():
            if key in converted:
                converted[key] = converted[key].index_select(axis, order)
    return converted


def load_state_dict_strictly(model: torch.nn.Module, state_dict: Mapping, source: str) -> None:
    """Load every tensor or fail listing missing keys, unexpected keys and shape mismatches."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = [
        f"{key}: file {tuple(value.shape)} vs model {tuple(expected[key].shape)}"
        for key, value in state_dict.items()
        if key in expected and value.shape != expected[key].shape
    ]
    if missing or unexpected or mismatched:
        raise ValueError(
            f"{source}: weights do not match the architecture built from ckpt_config: "
            f"{len(missing)} missing {missing[:8]}, {len(unexpected)} unexpected {unexpected[:8]}, "
            f"{len(mismatched)} shape mismatches {mismatched[:8]}"
        )
    model.load_state_dict(state_dict, strict=True)


def load_nitrogen_checkpoint(
    path_or_dict,
    game_names=None,
    vision_config: PreTrainedConfig | Mapping | str | None = None,
    weights_only: bool = True,
) -> NitroGenPolicy:
    """`NitroGenPolicy` (eval mode) from `ng.pt`; `game_names` as for `read_game_names`."""
    checkpoint, source = read_checkpoint(path_or_dict, weights_only)
    state_dict = checkpoint["model"]
    config = config_from_ckpt_config(
        checkpoint["ckpt_config"], state_dict, game_names, vision_config, source
    )
    tokenizer = Section(checkpoint["ckpt_config"]["tokenizer_cfg"], "tokenizer_cfg", source)
    old_layout = bool(tokenizer["old_layout"])
    with no_init_weights():
        model = NitroGenPolicy(config)
    load_state_dict_strictly(model, convert_state_dict(state_dict, old_layout), source)
    return model.eval()


def convert_nitrogen_checkpoint(
    ng_pt,
    out_dir: str | PathLike,
    game_names=None,
    vision_config: PreTrainedConfig | Mapping | str | None = None,
    weights_only: bool = True,
) -> Path:
    """Write `ng.pt` as a `save_pretrained` folder (config.json + model.safetensors)."""
    model = load_nitrogen_checkpoint(ng_pt, game_names, vision_config, weights_only)
    model.save_pretrained(out_dir)
    return Path(out_dir)

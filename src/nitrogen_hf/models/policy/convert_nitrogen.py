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
"""

from __future__ import annotations

import copy
import json
import pickle
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
# Upstream DiT/VL class default when a ckpt_config omits norm_eps.
DEFAULT_NORM_EPS = 1e-5


def read_checkpoint(path_or_dict, weights_only: bool = True) -> tuple[dict, str]:
    """The `ng.pt` dict (with 'model' and 'ckpt_config') and a label for error messages."""
    if isinstance(path_or_dict, Mapping):
        checkpoint, source = dict(path_or_dict), "checkpoint dict"
    else:
        source = str(path_or_dict)
        try:
            checkpoint = torch.load(path_or_dict, map_location="cpu", weights_only=weights_only)
        except pickle.UnpicklingError as err:
            raise ValueError(
                f"{source}: holds objects that weights_only loading refuses; if you trust the "
                "file, load it with weights_only=False"
            ) from err
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


def _get(section: Mapping, key: str, where: str):
    if key not in section:
        raise ValueError(
            f"{where}: '{key}' missing; it must be read from the checkpoint, not assumed"
        )
    return section[key]


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _vision_config(model_cfg: Mapping, state_dict: Mapping, vision_config, where: str):
    """The tower config: given explicitly, else from `vision_encoder_name`; head per the weights."""
    name = _get(model_cfg, "vision_encoder_name", where)
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
    width = _get(model_cfg, "vision_hidden_size", where)
    _check(
        vision_config.hidden_size == width,
        f"{where}: vision_hidden_size {width} != hidden_size {vision_config.hidden_size} of {name!r}",
    )
    return name, vision_config


def _check_block_cfg(cfg: Mapping, where: str) -> None:
    """Reject settings our blocks do not implement instead of silently computing something else."""
    _check(
        cfg.get("activation_fn", "gelu-approximate") == "gelu-approximate",
        f"{where}: activation_fn must be 'gelu-approximate'",
    )
    _check(cfg.get("attention_bias", True) is True, f"{where}: attention_bias must be true")
    _check(
        cfg.get("positional_embeddings") in (None, "sinusoidal"),
        f"{where}: unsupported positional_embeddings",
    )


def config_from_ckpt_config(
    ckpt_config: Mapping,
    state_dict: Mapping[str, torch.Tensor],
    game_names=None,
    vision_config: PreTrainedConfig | Mapping | str | None = None,
    source: str = "ng.pt",
) -> NitroGenPolicyConfig:
    """A `NitroGenPolicyConfig` whose every size is read from `ckpt_config`."""
    model_cfg = _get(ckpt_config, "model_cfg", f"{source}: ckpt_config")
    tokenizer = _get(ckpt_config, "tokenizer_cfg", f"{source}: ckpt_config")
    modality = _get(ckpt_config, "modality_cfg", f"{source}: ckpt_config")
    where = f"{source}: ckpt_config.model_cfg"
    dit = _get(model_cfg, "diffusion_model_cfg", where)
    vl = _get(model_cfg, "vl_self_attention_cfg", where)
    dit_where, vl_where = f"{where}.diffusion_model_cfg", f"{where}.vl_self_attention_cfg"
    _check_block_cfg(dit, dit_where)
    _check_block_cfg(vl, vl_where)
    _check(
        _get(dit, "norm_type", dit_where) == "ada_norm",
        f"{dit_where}: norm_type must be 'ada_norm'",
    )

    name, tower = _vision_config(model_cfg, state_dict, vision_config, where)
    hidden_size = _get(model_cfg, "hidden_size", where)
    _check(
        _get(dit, "output_dim", dit_where) == hidden_size,
        f"{dit_where}: output_dim must equal hidden_size",
    )
    _check(
        _get(dit, "cross_attention_dim", dit_where) == tower.hidden_size,
        f"{dit_where}: cross_attention_dim must equal the vision width {tower.hidden_size}",
    )
    horizon = _get(model_cfg, "action_horizon", where)
    _check(
        tokenizer.get("action_horizon", horizon) == horizon,
        f"{source}: tokenizer_cfg.action_horizon != model_cfg.action_horizon",
    )
    tokens = tokenizer.get("num_visual_tokens_per_frame")
    if tokens is not None and hasattr(tower, "patch_size"):
        _check(
            tokens == (tower.image_size // tower.patch_size) ** 2,
            f"{source}: num_visual_tokens_per_frame {tokens} does not match the tower {name!r}",
        )

    num_games, names = _games(tokenizer, state_dict, game_names, source)
    return NitroGenPolicyConfig(
        vision_encoder_name=name,
        vision_config=tower,
        hidden_size=hidden_size,
        action_dim=_get(model_cfg, "action_dim", where),
        action_horizon=horizon,
        frame_per_sample=_get(modality, "frame_per_sample", f"{source}: modality_cfg"),
        max_sequence_length=_get(tokenizer, "max_sequence_length", f"{source}: tokenizer_cfg"),
        num_games=num_games,
        game_names=names,
        **_stack_fields("vl", vl, vl_where),
        **_stack_fields("dit", dit, dit_where),
        dit_interleave_self_attention=bool(_get(dit, "interleave_self_attention", dit_where)),
        add_action_position_embedding=bool(_get(model_cfg, "add_pos_embed", where)),
        max_action_positions=_get(model_cfg, "max_seq_len", where),
        num_embodiments=_get(model_cfg, "max_num_embodiments", where),
        noise_beta_alpha=float(_get(model_cfg, "noise_beta_alpha", where)),
        noise_beta_beta=float(_get(model_cfg, "noise_beta_beta", where)),
        noise_s=float(_get(model_cfg, "noise_s", where)),
        num_timestep_buckets=_get(model_cfg, "num_timestep_buckets", where),
        num_inference_timesteps=_get(model_cfg, "num_inference_timesteps", where),
        frame_spacing=modality.get("frame_spacing", 1),
        action_shift=modality.get("action_shift", 0),
    )


def _stack_fields(prefix: str, cfg: Mapping, where: str) -> dict:
    """`{prefix}_*` config fields of one transformer stack."""
    return {
        f"{prefix}_num_layers": _get(cfg, "num_layers", where),
        f"{prefix}_num_attention_heads": _get(cfg, "num_attention_heads", where),
        f"{prefix}_attention_head_dim": _get(cfg, "attention_head_dim", where),
        f"{prefix}_dropout": float(cfg.get("dropout", 0.0)),
        f"{prefix}_norm_eps": float(cfg.get("norm_eps", DEFAULT_NORM_EPS)),
        f"{prefix}_positional_embeddings": cfg.get("positional_embeddings"),
        f"{prefix}_max_positions": cfg.get("max_num_positional_embeddings") or 0,
    }


def _games(tokenizer: Mapping, state_dict: Mapping, game_names, source: str):
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
    tokenizer = checkpoint["ckpt_config"]["tokenizer_cfg"]
    old_layout = bool(_get(tokenizer, "old_layout", f"{source}: ckpt_config.tokenizer_cfg"))
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

"""`nitrogen-hf train-policy`: train the vision-action policy on a weighted mixture of
datasets (overlay ground truth, IDM pseudo-labels), from scratch, from a trained or converted
checkpoint, or as a LoRA adapter on one (peft: only the adapter is saved). Configurations and
their presets: `training/configs.py` (PolicyTrainingConfig, POLICY_PRESETS)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import torch

from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.training.configs import PolicyTrainingConfig
from nitrogen_hf.training.trainer import (
    TrainResult,
    is_main_process,
    seed_everything,
    summed_over_ranks,
    train,
)

logger = logging.getLogger("nitrogen_hf")

# Attention and MLP projections of the VL stack and the DiT: where LoRA adapts the policy.
LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2")


def data_games(sources: list[tuple[str, str, float]], split: str) -> list[str]:
    """Sorted game names over all sources (the game-id vocabulary; row 0 stays unconditional)."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset

    games = set()
    for _, path, _ in sources:
        games.update(
            row["game"]
            for row in load_chunk_dataset(path, split).select_columns(["game"])
            if row["game"]
        )
    return sorted(games)


def build_policy(config: PolicyTrainingConfig, games: list[str]):
    """A fresh policy from a preset, or the base model (optionally wrapped with LoRA)."""
    from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig

    if config.base_model:
        model = NitroGenPolicy.from_pretrained(config.base_model)
        added = model.add_games(games) if config.game_conditioning else []
        if added:
            logger.info("new game rows in %s: %s", config.base_model, added)
        if not config.lora_rank:
            return model
        train_also = set(config.lora_modules_to_save) | ({"game_embedding"} if added else set())
        return add_lora(model, config.lora_rank, config.lora_alpha, sorted(train_also))
    overrides = dict(config.policy_overrides)
    if config.game_conditioning and games:
        overrides.update(num_games=len(games), game_names=games)
    fresh = NitroGenPolicyConfig.preset(config.architecture, **overrides)
    if config.vision_pretrained:
        fields = {k: v for k, v in fresh.to_dict().items() if k not in _NOT_CONFIG_FIELDS}
        return NitroGenPolicy.from_vision_pretrained(config.vision_pretrained, **fields)
    return NitroGenPolicy(fresh)


# Keys of a config dict that are not constructor fields, or that the pretrained tower decides.
_NOT_CONFIG_FIELDS = {
    "vision_config",
    "vision_encoder_name",
    "model_type",
    "transformers_version",
    "architectures",
}


# Top-level policy modules that may be trained in full beside a LoRA adapter.
LORA_MODULES_TO_SAVE = ("action_encoder", "action_decoder", "game_embedding", "position_embedding")


def add_lora(model, rank: int, alpha: float | None = None, modules_to_save=()):
    """Wrap the policy's attention/MLP projections with LoRA adapters (peft); the rest is
    frozen except `modules_to_save`, which are trained in full and saved with the adapter."""
    from peft import LoraConfig, get_peft_model

    unknown = sorted(set(modules_to_save) - set(LORA_MODULES_TO_SAVE))
    if unknown:
        raise ValueError(f"modules_to_save {unknown}: choose from {LORA_MODULES_TO_SAVE}")
    missing = [name for name in modules_to_save if getattr(model, name, None) is None]
    if missing:
        raise ValueError(f"the base policy has no {missing} to train")
    lora = LoraConfig(
        r=rank,
        lora_alpha=alpha or 2 * rank,
        target_modules=_lora_module_names(model),
        lora_dropout=0.0,
        modules_to_save=list(modules_to_save) or None,
    )
    return get_peft_model(model, lora)


def _is_lora_target(name: str) -> bool:
    inside = name.startswith(("model.", "vl_self_attention_model."))
    return inside and any(name.endswith(t) for t in LORA_TARGETS)


def _lora_module_names(model) -> list[str]:
    """Full names of the Linear layers LoRA adapts (attention + MLP of the VL stack and DiT)."""
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and _is_lora_target(name)
    ]


def policy_loss(game_conditioning: bool):
    """Loss function for the shared trainer: the policy's masked flow-matching MSE."""

    def loss_fn(model, batch: dict) -> dict[str, torch.Tensor]:
        game = batch["game"] if game_conditioning else None
        loss = model.compute_loss(batch["frames"], batch["actions"], batch["observed"], game=game)
        return {"loss": loss}

    return loss_fn


def build_mixture(
    config: PolicyTrainingConfig,
    data: list[str],
    image_size: tuple[int, int],
    horizon: int,
    context: int,
    videos_dir: Path | None = None,
):
    """One window stream per NAME=PATH[:WEIGHT] source of `data`, interleaved by weight."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.data.mixture import MixtureDataset, MixtureSource, parse_source_spec
    from nitrogen_hf.data.windows import WindowConfig, WindowDataset

    windows = WindowConfig.policy(
        context,
        horizon,
        frame_size=tuple(image_size),
        seed=config.train.seed,
        backend=config.backend,
    )
    sources = []
    for spec in data:
        name, path, weight = parse_source_spec(spec)
        chunks = load_chunk_dataset(path, config.split, videos_dir=videos_dir)
        sources.append(MixtureSource(name, WindowDataset(chunks, windows), weight))
    return MixtureDataset(sources, seed=config.train.seed)


def train_policy(
    config: PolicyTrainingConfig,
    data: list[str],
    output_dir: Path,
    videos_dir: Path | None = None,
) -> dict:
    """Train (or fine-tune / adapt) the policy on the NAME=PATH[:WEIGHT] sources of `data` into
    `output_dir`; returns a summary (also `training_summary.json`)."""
    from nitrogen_hf.data.mixture import parse_source_spec
    from nitrogen_hf.data.windows import collate_windows

    output_dir = Path(output_dir)
    sources = [parse_source_spec(s) for s in data]
    games = data_games(sources, config.split) if config.game_conditioning else []
    seed_everything(config.train.seed)
    model = build_policy(config, games)
    policy_config = _policy_config(model)
    dataset = build_mixture(
        config,
        data,
        policy_config.image_size,
        policy_config.action_horizon,
        policy_config.frame_per_sample,
        videos_dir,
    )
    conditioned = policy_config.num_games > 0 and config.game_conditioning
    result = train(
        model,
        dataset,
        config.train,
        policy_loss(conditioned),
        output_dir,
        collate_windows,
        save_fn=_save_policy,
        run_config=_jsonable({"data": list(data), "output_dir": output_dir, **asdict(config)}),
    )
    summary = _summary(config, result, model, sources)
    summary["skipped_chunks"] = {  # per source, in the first pass over its data
        name: summed_over_ranks(counts) for name, counts in dataset.skipped.items()
    }
    if is_main_process():
        from nitrogen_hf.hub.cards import write_model_card

        write_json_atomic(output_dir / "training_summary.json", summary)
        write_model_card(output_dir)  # once, with the training numbers
    return summary


def _policy_config(model):
    return model.base_model.model.config if hasattr(model, "peft_config") else model.config


def _save_policy(model, output_dir: Path) -> None:
    """save_pretrained writes the whole policy, or only the LoRA adapter for a peft model (with
    the game names the adapted policy has, which its base may lack)."""
    from nitrogen_hf.models.policy.loading import save_adapter_games

    model.save_pretrained(output_dir)
    if hasattr(model, "peft_config"):
        save_adapter_games(model.base_model.model, output_dir)


def _summary(config: PolicyTrainingConfig, result: TrainResult, model, sources) -> dict:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "data": [{"name": n, "path": p, "weight": w} for n, p, w in sources],
        "base_model": config.base_model,
        "lora_rank": config.lora_rank,
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": trainable,
        "steps": result.steps,
        "seconds": result.seconds,
        "samples_per_second": result.samples_per_second,
        "final_loss": result.final_loss,
        "resumed_from": result.resumed_from,
        "run": result.settings,
    }


def _jsonable(data):
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    return str(data) if isinstance(data, Path) else data

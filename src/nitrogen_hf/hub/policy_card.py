"""The policy's model card (whole policies and LoRA adapters): architecture, the training
mixture, and closed-loop results (eval-policy's results.json), from a saved policy folder."""

from __future__ import annotations

from pathlib import Path

from nitrogen_hf.actions import BUTTON_THRESHOLD
from nitrogen_hf.evaluation.formatting import fmt, fmt_duration, fmt_rate
from nitrogen_hf.hub.card_common import (
    LIBRARY_NAME,
    count_parameters,
    find_report,
    is_hub_id,
    load_config,
    read_json,
    render,
)


def policy_architecture(config: dict, parameters: int | None) -> list[tuple[str, str]]:
    vision = config.get("vision_config") or {}
    size = vision.get("image_size", "?")
    return [
        (
            "vision tower",
            f"`{config.get('vision_encoder_name')}` ({vision.get('model_type')}), {size} px",
        ),
        (
            "vision width / layers",
            f"{vision.get('hidden_size')} / {vision.get('num_hidden_layers')}",
        ),
        ("VL self-attention layers", fmt(config.get("vl_num_layers"))),
        ("DiT layers / width", f"{config.get('dit_num_layers')} / {config.get('hidden_size')}"),
        ("frames per sample", fmt(config.get("frame_per_sample"))),
        ("action horizon", fmt(config.get("action_horizon"))),
        (
            "game-id token",
            f"{config.get('num_games', 0)} games" if config.get("num_games") else "no",
        ),
        ("inference steps", fmt(config.get("num_inference_timesteps"))),
        ("parameters", fmt(parameters)),
    ]


def policy_training(summary: dict | None, run: dict | None) -> tuple[list, list]:
    """(rows, data sources) of the training section."""
    if summary is None:
        return [], []
    train = (run or {}).get("train", {})
    rows = [
        (
            "base model",
            f"`{summary['base_model']}`" if summary.get("base_model") else "none (from scratch)",
        ),
        ("LoRA rank", fmt(summary.get("lora_rank"))),
        ("steps", fmt(summary.get("steps"))),
        ("batch size", fmt(train.get("batch_size"))),
        ("learning rate", fmt_rate(train.get("learning_rate"))),
        ("EMA decay", fmt(train.get("ema_decay"), 4)),
        ("trainable parameters", fmt(summary.get("trainable_parameters"))),
        ("wall time", fmt_duration(summary.get("seconds"))),
        ("final loss", fmt(summary.get("final_loss"), 4)),
    ]
    sources = [
        {"name": s["name"], "path": f"`{s['path']}`", "weight": fmt(float(s["weight"]), 2)}
        for s in summary.get("data", [])
    ]
    return [(k, v) for k, v in rows if v != "n/a"], sources


def policy_evaluation(results: dict | None) -> dict:
    if results is None:
        return {"evaluation": []}
    ci = results.get("return_ci95") or [None, None]
    rows = [
        {
            "player": "this policy",
            "value": f"{fmt(results.get('mean_return'), 2)} (95% CI {fmt(ci[0], 2)} to {fmt(ci[1], 2)})",
        }
    ]
    for player in ("random", "expert"):
        if results.get(f"{player}_mean_return") is not None:
            rows.append({"player": player, "value": fmt(results[f"{player}_mean_return"], 2)})
    score = results.get("normalized_score")
    return {
        "evaluation": rows,
        "env_id": results.get("env_id"),
        "episodes": results.get("episodes"),
        "max_seconds": results.get("max_seconds"),
        "execute_steps": results.get("execute_steps"),
        "normalized_score": fmt(score) if score is not None else None,
    }


def policy_card_data(model_id: str, summary: dict | None, results: dict | None, base: str | None):
    from huggingface_hub import EvalResult, ModelCardData

    sources = [s["path"] for s in (summary or {}).get("data", [])]
    eval_results = None
    if results is not None and results.get("mean_return") is not None:
        env = str(results.get("env_id"))
        eval_results = [
            EvalResult(
                task_type="reinforcement-learning",
                task_name="Closed-loop game play",
                dataset_type=env,
                dataset_name=env,
                metric_type="mean_reward",
                metric_name="mean return",
                metric_value=results["mean_return"],
            )
        ]
    return ModelCardData(
        model_name=model_id,
        library_name=LIBRARY_NAME,
        pipeline_tag="robotics",
        tags=["nitrogen-hf", "nitrogen", "flow-matching", "dit", "siglip2", "video-games"],
        base_model=base if is_hub_id(base) else None,
        datasets=[s for s in sources if is_hub_id(s)] or None,
        eval_results=eval_results,
    )


def policy_card(folder: Path, model_id: str):
    """The policy's (or LoRA adapter's) ModelCard from the files in `folder`."""
    adapter = read_json(folder / "adapter_config.json")
    summary = read_json(folder / "training_summary.json")
    results, _ = find_report(folder, "results.json")
    base = (adapter or {}).get("base_model_name_or_path") or (summary or {}).get("base_model")
    if (folder / "config.json").is_file():
        config = load_config(folder, "policy")
    elif base and Path(base, "config.json").is_file():
        config = load_config(Path(base), "policy")  # an adapter: describe its (local) base
    else:
        config = {}
    training, sources = policy_training(summary, read_json(folder / "training_config.json"))
    games = config.get("game_names") or []
    fields = {
        "title": f"NitroGen policy: {model_id.rstrip('/').split('/')[-1]}",
        "model_id": model_id,
        "vision_encoder": f"`{config.get('vision_encoder_name', 'SigLIP 2')}`",
        "frame_per_sample": config.get("frame_per_sample", 1),
        "action_horizon": config.get("action_horizon", "?"),
        "inference_steps": config.get("num_inference_timesteps", "?"),
        "num_games": config.get("num_games", 0),
        "first_game": games[0] if games else "",
        "button_threshold": config.get("button_threshold", BUTTON_THRESHOLD),
        "adapter": adapter is not None,
        "lora_rank": (adapter or {}).get("r"),
        "base_model": base,
        "architecture": policy_architecture(config, count_parameters(folder)) if config else [],
        "training": training,
        "sources": sources,
        "games_text": (
            f"Game-conditioned on {len(games)} game(s): {', '.join(games[:20])}; pass `game=None` "
            "for the unconditional row."
            if games
            else "Not game-conditioned: the frames alone must tell the game apart."
        ),
        **policy_evaluation(results),
    }
    return render("policy.md", policy_card_data(model_id, summary, results, base), fields)

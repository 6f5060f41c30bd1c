"""The IDM's model card: architecture, the action dims it labels, training, calibration and
evaluation (eval-idm's metrics.json), from the files of a saved IDM folder."""

from __future__ import annotations

from pathlib import Path

from nitrogen_hf.actions import ACTION_NAMES
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


def trained_dims_text(trained: list[bool]) -> str:
    """Which of the 25 action dims the IDM labels, in words."""
    names = [n for n, t in zip(ACTION_NAMES, trained, strict=True) if t]
    if len(names) == len(ACTION_NAMES):
        return "All 21 buttons and both sticks were observed in the training data."
    missing = len(ACTION_NAMES) - len(names)
    listed = ", ".join(f"`{n}`" for n in names) or "none"
    return (
        f"The training data observed {len(names)} of the 25 action dims: {listed}. Only these "
        f"are labeled; the other {missing} are written as unobserved (the `observed` mask), "
        "never as 'not pressed', and confidence is computed over the observed ones only."
    )


def idm_architecture(config: dict, parameters: int | None) -> list[tuple[str, str]]:
    height, width = config["frame_size"]
    if config.get("trunk", "cnn") == "cnn":
        trunk = (
            f"CNN over each frame pair and their difference, widths {tuple(config['cnn_channels'])}, "
            f"patchify stem stride {config['stem_stride']}"
        )
    else:
        trunk = f"HF vision backbone `{(config.get('backbone_config') or {}).get('model_type')}`"
    return [
        ("input", f"{config['num_frames']} RGB frames at {height}x{width}"),
        ("per-transition encoder", trunk),
        (
            "temporal mixing",
            f"non-causal transformer, {config['num_layers']} layer(s), width "
            f"{config['hidden_size']}, {config['num_heads']} heads",
        ),
        ("outputs", f"21 Bernoulli buttons, 4 stick axes x {config['stick_bins']} bins"),
        ("parameters", fmt(parameters)),
    ]


def idm_training_rows(summary: dict | None, run: dict | None) -> list[tuple[str, str]]:
    if summary is None:
        return []
    train = (run or {}).get("train", {})
    rows = [
        ("data", f"`{summary.get('data')}`"),
        ("steps", fmt(summary.get("steps"))),
        ("batch size", fmt(train.get("batch_size"))),
        ("learning rate", fmt_rate(train.get("learning_rate"))),
        ("augmentation", fmt((run or {}).get("augment", {}).get("enabled"))),
        ("wall time", fmt_duration(summary.get("seconds"))),
        ("samples / s", fmt(summary.get("samples_per_second"), 1)),
        ("final loss", fmt(summary.get("final_loss"), 4)),
    ]
    return [(k, v) for k, v in rows if v != "n/a"]


def idm_calibration(config: dict, report: dict | None) -> tuple[str, list[tuple[str, str]]]:
    """(sentence, rows) on the confidence calibration, from calibration.json or the config."""
    threshold = config.get("confidence_threshold")
    temps = (config.get("button_temperature", 1.0), config.get("stick_temperature", 1.0))
    rows = (
        [("temperature (both heads)", fmt(temps[0]))]
        if temps[0] == temps[1]
        else [("button temperature", fmt(temps[0])), ("stick temperature", fmt(temps[1]))]
    )
    if report is None:
        if threshold is None and temps == (1.0, 1.0):
            return (
                "Not calibrated: confidences are the raw outputs, and `nitrogen-hf label` falls "
                "back to a 0.5 threshold that promises no precision. `train-idm` calibrates on "
                "the dataset's validation split.",
                rows,
            )
        return "Calibrated (calibration.json not found beside the weights).", [
            *rows,
            ("confidence threshold", fmt(threshold)),
        ]
    chosen = report.get("threshold", {})
    rows += [
        (
            "ECE before -> after",
            f"{fmt(report.get('ece_before'))} -> {fmt(report.get('ece_after'))}",
        ),
        ("target precision", fmt(chosen.get("target_precision"), 2)),
        ("confidence threshold", fmt(chosen.get("threshold"))),
        ("precision at threshold", fmt(chosen.get("precision"))),
        ("frames kept at threshold", fmt(chosen.get("kept_fraction"), 3)),
        ("held-out transitions", fmt(report.get("frames"))),
        ("held-out frames fully right", fmt(report.get("frame_accuracy"))),
    ]
    rows = [(name, value) for name, value in rows if value != "n/a" or name.startswith("conf")]
    if chosen.get("threshold") is None:
        sentence = (
            f"Temperature-scaled on {fmt(report.get('frames'))} held-out transitions, but no "
            f"threshold reached the target precision {fmt(chosen.get('target_precision'), 2)}: "
            "`nitrogen-hf label` falls back to 0.5; pass `--min-confidence` to choose."
        )
    else:
        sentence = (
            f"Temperature-scaled on {fmt(report.get('frames'))} held-out transitions; frames "
            f"with confidence >= {fmt(chosen['threshold'])} were fully right "
            f"{fmt(chosen.get('precision'))} of the time. `nitrogen-hf label` uses this "
            "threshold by default."
        )
    return sentence, rows


def idm_evaluation(metrics: dict | None) -> dict:
    """Template fields of the evaluation section (empty lists without metrics.json)."""
    if metrics is None:
        return {"evaluation": [], "buttons": [], "evaluation_text": ""}
    rows = [
        {
            "model": model,
            "group": group,
            "macro_f1": fmt(scores.get("macro_f1")),
            "exact_match": fmt(scores.get("exact_match")),
        }
        for model, groups in metrics.get("models", {}).items()
        for group, scores in groups.items()
    ]
    overall = metrics.get("models", {}).get("idm", {}).get("overall", {})
    buttons = [
        {"name": name, **{k: fmt(s.get(k)) for k in ("support", "precision", "recall", "f1")}}
        for name, s in overall.get("buttons", {}).items()
        if s.get("support", 0) > 0
    ]
    text = (
        f"On the `{metrics.get('split')}` split of `{metrics.get('data')}`: "
        f"{fmt(metrics.get('chunks'))} chunks, {fmt(metrics.get('frames'))} transitions; "
        f"IDM macro-F1 **{fmt(metrics.get('macro_f1'))}**, exact match "
        f"{fmt(metrics.get('exact_match'))}, confidence ECE {fmt(metrics.get('ece'))}. "
        "`majority` always predicts the training data's most common state (the no-op)."
    )
    return {"evaluation": rows, "buttons": buttons, "evaluation_text": text}


def idm_card_data(config: dict, model_id: str, summary: dict | None, metrics: dict | None):
    from huggingface_hub import EvalResult, ModelCardData

    data = (summary or {}).get("data")
    eval_results = None
    if metrics is not None and metrics.get("macro_f1") is not None:
        dataset = str(metrics.get("data"))
        common = {
            "task_type": "video-classification",
            "task_name": "Gamepad action labeling (inverse dynamics)",
            "dataset_type": dataset if is_hub_id(dataset) else "local",
            "dataset_name": dataset if is_hub_id(dataset) else Path(dataset).name,
            "dataset_split": metrics.get("split"),
        }
        eval_results = [
            EvalResult(
                metric_type="f1", metric_name="macro F1", metric_value=metrics["macro_f1"], **common
            ),
            EvalResult(
                metric_type="exact_match",
                metric_name="exact match",
                metric_value=metrics.get("exact_match"),
                **common,
            ),
        ]
    return ModelCardData(
        model_name=model_id,
        library_name=LIBRARY_NAME,
        pipeline_tag="video-classification",
        tags=["nitrogen-hf", "inverse-dynamics", "gamepad", "video-games", "pseudo-labeling"],
        datasets=[data] if is_hub_id(data) else None,
        eval_results=eval_results,
    )


def idm_card(folder: Path, model_id: str):
    """The IDM's ModelCard from the files in `folder`."""
    config = load_config(folder, "idm")
    summary = read_json(folder / "training_summary.json")
    calibration = read_json(folder / "calibration.json")
    metrics, eval_dir = find_report(folder, "metrics.json")
    sentence, calibration_rows = idm_calibration(config, calibration)
    games = sorted(dataset_games((summary or {}).get("data")))
    if not games and metrics is not None:
        games = sorted(g for g in metrics.get("models", {}).get("idm", {}) if g != "overall")
    plot = Path(eval_dir, "per_button_f1.png").as_posix()
    threshold = (calibration or {}).get("threshold", {}).get("threshold")
    fields = {
        "title": f"NitroGen IDM: {model_id.rstrip('/').split('/')[-1]}",
        "model_id": model_id,
        "num_frames": config["num_frames"],
        "height": config["frame_size"][0],
        "width": config["frame_size"][1],
        "stick_bins": config["stick_bins"],
        "architecture": idm_architecture(config, count_parameters(folder)),
        "trained_dims_text": trained_dims_text(config["trained_dims"]),
        "trained_count": sum(config["trained_dims"]),
        "training": idm_training_rows(summary, read_json(folder / "training_config.json")),
        "calibration_text": sentence,
        "calibration": calibration_rows,
        "calibration_plot": "calibration.png" if (folder / "calibration.png").is_file() else None,
        "threshold": fmt(threshold) if threshold is not None else None,
        "target_precision": fmt((calibration or {}).get("threshold", {}).get("precision")),
        "evaluation_plot": plot if metrics is not None and (folder / plot).is_file() else None,
        "games_text": games_sentence(games),
        **idm_evaluation(metrics),
    }
    return render("idm.md", idm_card_data(config, model_id, summary, metrics), fields)


def dataset_games(data: str | None) -> dict[str, int]:
    """Chunks per game of a local build-dataset folder (empty when it is not one)."""
    if not data or not Path(data).is_dir():
        return {}
    summary = read_json(Path(data) / "build_summary.json") or {}
    return summary.get("games", {})


def games_sentence(games: list[str]) -> str:
    if not games:
        return "not recorded (the training data's own card lists them)"
    shown = ", ".join(games[:20])
    more = f" and {len(games) - 20} more" if len(games) > 20 else ""
    return f"trained on {len(games)} game(s): {shown}{more}"


# --- entry points -----------------------------------------------------------------------------

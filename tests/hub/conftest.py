"""Tiny saved models and the JSON reports the trainers and evaluators write beside them, with
recognisable numbers, so card tests can look for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nitrogen_hf.actions import ATARI_OBSERVED

TRAINING_SUMMARY = {
    "data": "datasets/breakout",
    "model": {"num_frames": 4},
    "parameters": 12345,
    "steps": 4321,
    "seconds": 5400.0,
    "samples_per_second": 123.4,
    "final_loss": 0.0765,
    "resumed_from": None,
}
TRAINING_CONFIG = {
    "train": {"batch_size": 48, "learning_rate": 0.0007},
    "augment": {"enabled": True},
}
CALIBRATION = {
    "temperature": 1.75,
    "frame_accuracy": 0.4567,
    "ece_before": 0.1234,
    "ece_after": 0.0321,
    "reliability": {"ece": 0.0321, "bins": [], "frames": 999},
    "threshold": {
        "threshold": 0.8125,
        "precision": 0.9312,
        "kept_fraction": 0.617,
        "target_precision": 0.9,
    },
    "frames": 999,
}


def _scores(macro_f1: float, exact: float) -> dict:
    button = {"support": 57, "precision": 0.871, "recall": 0.642, "f1": 0.739}
    return {
        "frames": 999,
        "macro_f1": macro_f1,
        "exact_match": exact,
        "buttons": {"dpad_left": button, "dpad_up": {**button, "support": 0}},
        "sticks": {},
    }


METRICS = {
    "macro_f1": 0.7391,
    "exact_match": 0.6543,
    "ece": 0.0456,
    "model": "idm",
    "data": "datasets/breakout",
    "split": "validation",
    "chunks": 17,
    "frames": 999,
    "models": {
        "idm": {"overall": _scores(0.7391, 0.6543), "breakout": _scores(0.7391, 0.6543)},
        "majority": {"overall": _scores(0.0, 0.2711), "breakout": _scores(0.0, 0.2711)},
    },
}
POLICY_SUMMARY = {
    "data": [
        {"name": "truth", "path": "/data/ds/overlay", "weight": 1.0},
        {"name": "pseudo", "path": "someone/pseudo-labels", "weight": 0.5},
    ],
    "base_model": None,
    "lora_rank": None,
    "parameters": 657561,
    "trainable_parameters": 657561,
    "steps": 2468,
    "seconds": 600.0,
    "samples_per_second": 50.0,
    "final_loss": 0.4321,
    "resumed_from": None,
}
POLICY_RESULTS = {
    "env_id": "ALE/Breakout-v5",
    "episodes": 7,
    "max_seconds": 30.0,
    "execute_steps": 4,
    "mean_return": 3.25,
    "return_ci95": [1.5, 5.0],
    "random_mean_return": 1.125,
    "expert_mean_return": 9.5,
    "normalized_score": 0.2537,
}


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def save_tiny_idm(folder: Path) -> Path:
    from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig

    torch.manual_seed(0)
    config = NitroGenIDMConfig(
        num_frames=2,
        frame_size=(16, 16),
        cnn_channels=(8,),
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        stick_bins=3,
        trained_dims=ATARI_OBSERVED.tolist(),
    )
    NitroGenIDM(config).save_pretrained(folder)
    return folder


def save_tiny_policy(folder: Path) -> Path:
    from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig

    torch.manual_seed(0)
    NitroGenPolicy(NitroGenPolicyConfig.preset("tiny", action_horizon=4)).save_pretrained(folder)
    return folder


@pytest.fixture
def make_tiny_idm():
    """`save_tiny_idm(folder)`: a 2-frame 16x16 IDM saved with save_pretrained."""
    return save_tiny_idm


@pytest.fixture
def reports():
    """The report dicts above, and `write_json(path, data)`."""
    from types import SimpleNamespace

    return SimpleNamespace(
        calibration=CALIBRATION,
        metrics=METRICS,
        policy_results=POLICY_RESULTS,
        write_json=write_json,
    )


@pytest.fixture
def idm_folder(tmp_path) -> Path:
    return save_tiny_idm(tmp_path / "idm")


@pytest.fixture
def reported_idm_folder(idm_folder) -> Path:
    """A tiny IDM with every report train-idm and eval-idm write (eval-idm --out DIR/eval),
    its config calibrated as train-idm leaves it."""
    config = json.loads((idm_folder / "config.json").read_text())
    config.update(button_temperature=1.75, stick_temperature=1.75, confidence_threshold=0.8125)
    write_json(idm_folder / "config.json", config)
    write_json(idm_folder / "training_summary.json", TRAINING_SUMMARY)
    write_json(idm_folder / "training_config.json", TRAINING_CONFIG)
    write_json(idm_folder / "calibration.json", CALIBRATION)
    write_json(idm_folder / "eval" / "metrics.json", METRICS)
    return idm_folder


@pytest.fixture(scope="session")
def policy_folder(tmp_path_factory) -> Path:
    folder = save_tiny_policy(tmp_path_factory.mktemp("policy") / "policy")
    write_json(folder / "training_summary.json", POLICY_SUMMARY)
    write_json(folder / "eval" / "results.json", POLICY_RESULTS)
    return folder

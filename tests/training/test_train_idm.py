import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from nitrogen_hf.cli import main
from nitrogen_hf.evaluation.idm_report import IDMEvalConfig, evaluate_idm
from nitrogen_hf.models.idm import NitroGenIDM
from nitrogen_hf.training.configs import IDM_PRESETS
from nitrogen_hf.training.train_idm import train_idm
from nitrogen_hf.training.trainer import checkpoint_dirs

from helpers import make_sprite_dataset


@pytest.fixture(scope="module")
def sprite_dataset(tmp_path_factory):
    return make_sprite_dataset(tmp_path_factory.mktemp("sprite"))


def test_debug_training_saves_a_calibrated_model_and_resumes(sprite_dataset, tmp_path):
    config = IDM_PRESETS["debug"]
    summary = train_idm(config, str(sprite_dataset), tmp_path / "idm")
    assert summary["steps"] == 4 and summary["resumed_from"] is None
    model = NitroGenIDM.from_pretrained(tmp_path / "idm")
    assert model.config.num_frames == 4
    # Only the joystick's five buttons were observed in the data.
    assert sum(model.config.trained_dims) == 5
    assert summary["calibration"]["frames"] > 0
    assert (tmp_path / "idm" / "calibration.png").is_file()
    saved = json.loads((tmp_path / "idm" / "training_config.json").read_text())
    assert saved["model"]["num_frames"] == 4 and saved["train"]["max_steps"] == 4
    # Asking for more steps continues from the last checkpoint instead of starting over.
    config = replace(config, train=replace(config.train, max_steps=6))
    again = train_idm(config, str(sprite_dataset), tmp_path / "idm")
    assert again["resumed_from"] == 4 and again["steps"] == 6


@pytest.mark.slow
def test_short_training_learns_the_visible_actions(sprite_dataset, tmp_path):
    """A few hundred steps on the sprite game beat the always-no-op baseline by a wide margin."""
    assert (
        main(
            [
                "train-idm",
                "--data",
                str(sprite_dataset),
                "--out",
                str(tmp_path / "idm"),
                "--preset",
                "debug",
                "--max-steps",
                "300",
                "--batch-size",
                "16",
                "--lr",
                "1e-3",
                "--no-augment",
            ]
        )
        == 0
    )
    metrics = evaluate_idm(
        IDMEvalConfig(model=str(tmp_path / "idm"), data=str(sprite_dataset), out=tmp_path / "eval")
    )
    assert metrics["macro_f1"] > 0.6
    assert metrics["models"]["majority"]["overall"]["macro_f1"] == 0.0
    assert (tmp_path / "eval" / "metrics.md").read_text().startswith("# IDM evaluation")
    assert (tmp_path / "eval" / "per_button_f1.png").is_file()


def learning_rates(folder) -> list[tuple[int, float]]:
    lines = (folder / "training_log.jsonl").read_text().splitlines()
    return [(entry["step"], entry["lr"]) for entry in map(json.loads, lines)]


@pytest.mark.slow
def test_two_processes_train_with_accelerate_launch(sprite_dataset, tmp_path):
    """Under `accelerate launch --num_processes 2` the schedule is the 1-process one, step for
    step, and the launch's --mixed_precision is the one used."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "bf16",
        "--dynamo_backend",
        "no",
        "-m",
        "nitrogen_hf.cli",
        "train-idm",
        "--data",
        str(sprite_dataset),
        "--out",
        str(tmp_path / "ddp"),
        "--preset",
        "debug",
        "--max-steps",
        "6",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.loads((checkpoint_dirs(tmp_path / "ddp")[-1] / "trainer_state.json").read_text())
    assert state["step"] == 6 and state["samples"] == 6 * 4 * 2  # both processes trained
    assert NitroGenIDM.from_pretrained(tmp_path / "ddp").config.num_frames == 4
    summary = json.loads((tmp_path / "ddp" / "training_summary.json").read_text())
    assert summary["run"] == {
        "mixed_precision": "bf16",
        "gradient_accumulation_steps": 1,
        "num_processes": 2,
    }
    single = ["train-idm", "--data", str(sprite_dataset), "--out", str(tmp_path / "one")]
    assert main([*single, "--preset", "debug", "--max-steps", "6"]) == 0
    assert learning_rates(tmp_path / "ddp") == learning_rates(tmp_path / "one")
    assert len(learning_rates(tmp_path / "one")) == 6

import json
from dataclasses import replace

import pytest
import torch

from nitrogen_hf.cli import main
from nitrogen_hf.data.video import open_video
from nitrogen_hf.demo.lam_section import run_lam_section
from nitrogen_hf.evaluation.lam_report import evaluate_lam, lam_markdown
from nitrogen_hf.models.lam import LatentActionModel, WorldModel
from nitrogen_hf.training.configs import LAM_PRESETS, WORLD_MODEL_PRESETS
from nitrogen_hf.training.train_lam import build_lam, lam_loss, train_lam, train_world_model

from helpers import make_sprite_dataset


@pytest.fixture(scope="module")
def sprite_dataset(tmp_path_factory):
    return make_sprite_dataset(tmp_path_factory.mktemp("sprite"))


def short(config, steps: int, **fields):
    """A few hundred quick steps: no checkpoints on the way, sparse logging."""
    train = replace(
        config.train,
        max_steps=steps,
        batch_size=16,
        learning_rate=2e-3,
        warmup_steps=10,
        log_every=20,
        checkpoint_every=10_000,
        **fields,
    )
    return replace(config, train=train)


def test_lam_loss_never_reads_action_labels():
    model = build_lam(LAM_PRESETS["debug"])
    frames = torch.randint(0, 256, (4, 2, 3, 32, 32), dtype=torch.uint8)
    torch.manual_seed(0)
    without = lam_loss(model.eval(), {"frames": frames})
    labels = {"actions": torch.rand(4, 1, 25), "observed": torch.ones(4, 25, dtype=torch.bool)}
    torch.manual_seed(0)
    with_labels = lam_loss(model, {"frames": frames, **labels})
    assert torch.equal(without["loss"], with_labels["loss"])
    assert set(without) == {"loss", "reconstruction", "commitment", "copy_baseline", "perplexity"}


def test_debug_cli_trains_saves_and_resumes(sprite_dataset, tmp_path):
    out = tmp_path / "lam"
    args = ["train-lam", "--data", str(sprite_dataset), "--out", str(out), "--preset", "debug"]
    assert main(args) == 0
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["steps"] == 4 and summary["perplexity"] >= 1.0
    model = LatentActionModel.from_pretrained(out)
    assert model.config.codebook_size == 8 and model.config.frame_size == [32, 32]
    saved = json.loads((out / "training_config.json").read_text())
    assert saved["model"]["context_frames"] == 1
    assert main([*args, "--max-steps", "6"]) == 0
    again = json.loads((out / "training_summary.json").read_text())
    assert again["resumed_from"] == 4 and again["steps"] == 6
    # A latent-action world model trains on the LAM's codes of the same video.
    wm_out = tmp_path / "wm"
    wm_args = ["train-world-model", "--data", str(sprite_dataset), "--out", str(wm_out)]
    assert main([*wm_args, "--preset", "debug", "--lam", str(out)]) == 0
    world_model = WorldModel.from_pretrained(wm_out)
    assert world_model.config.action_type == "latent"
    assert world_model.config.num_latent_actions == 8 and world_model.config.context_frames == 2


def test_latent_world_model_needs_a_lam(sprite_dataset, tmp_path, capsys):
    args = ["train-world-model", "--data", str(sprite_dataset), "--out", str(tmp_path)]
    assert main([*args, "--actions", "latent", "--preset", "debug"]) == 2
    assert "needs the LAM" in capsys.readouterr().err


@pytest.mark.slow
def test_trained_latent_actions_beat_chance_and_steer_a_world_model(sprite_dataset, tmp_path):
    """On the sprite game (the action is all that moves), a short LAM run finds codes that a
    25% labeled budget (180 frames) maps to buttons, and a world model on those codes is
    controllable."""
    lam_dir, wm_dir = tmp_path / "lam", tmp_path / "wm"
    train_lam(short(LAM_PRESETS["debug"], 600), str(sprite_dataset), lam_dir)
    train_world_model(
        short(WORLD_MODEL_PRESETS["debug"], 400), str(sprite_dataset), wm_dir, lam=str(lam_dir)
    )
    metrics = evaluate_lam(
        lam_dir, str(sprite_dataset), tmp_path / "eval", budget=0.25, world_model_dir=wm_dir,
        horizon=6,
    )  # fmt: skip
    probes = metrics["probes"]["validation"]
    f1 = {method: s["overall"]["macro_f1"] for method, s in probes["scores"].items()}
    assert f1["majority"] == 0.0  # what codes that mean nothing give a code table: the no-op
    # Better than any constant guess, too (pressing every button gets recall 1).
    assert f1["lam_code_table"] > max(0.3, f1["always_pressed"])
    assert probes["codes"]["nmi"]["overall"] > 0.3  # chance: about 0
    assert probes["codes"]["usage"]["perplexity"] > 3  # several codes in use
    control = metrics["controllability"]["world_model"]
    assert control["validation"]["overall"]["delta_psnr"] > 0.5
    video = open_video(control["video"])
    assert video.num_frames == 2 + 6  # context, then the generated steps
    video.close()
    assert "| LAM code table |" in lam_markdown(metrics)


@pytest.mark.slow
def test_true_actions_make_a_controllable_world_model(sprite_dataset, tmp_path):
    train_world_model(
        short(WORLD_MODEL_PRESETS["debug"], 400), str(sprite_dataset), tmp_path / "wm"
    )
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.evaluation.world_model_eval import collect_clips, controllability

    model = WorldModel.from_pretrained(tmp_path / "wm")
    clips = collect_clips(load_chunk_dataset(str(sprite_dataset), "validation"), (32, 32), 2, 6)
    result = controllability(model, clips)
    assert result["overall"]["delta_psnr"] > 0.5
    assert result["overall"]["psnr_inferred"] > result["overall"]["psnr_copy"]


@pytest.mark.slow
def test_lam_section_end_to_end(sprite_dataset, tmp_path):
    section = run_lam_section(
        tmp_path / "section", sprite_dataset, budget=0.1, preset="debug", max_steps=3, horizon=3
    )
    assert section["labeled"]["chunks"] >= 1 and 0 < section["labeled"]["fraction"] < 1
    scores = section["probes"]["held_out"]["scores"]
    assert {"lam_code_table", "lam_logistic", "idm", "majority"} <= set(scores)
    assert set(section["controllability"]) == {"latent", "pseudo", "labels"}
    assert (tmp_path / "section" / "rollout_latent.mp4").is_file()
    markdown = lam_markdown(section)
    assert "## World model controllability" in markdown and "| pseudo | held_out |" in markdown
    # A second call reuses every trained model.
    again = run_lam_section(
        tmp_path / "section", sprite_dataset, budget=0.1, preset="debug", max_steps=3, horizon=3
    )
    assert again["training"] == section["training"]

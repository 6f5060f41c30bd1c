"""The Space's bundled assets, all made from a real game so the Space works offline: a short
example gameplay video, a tiny IDM and a tiny policy trained on recordings of Atari Breakout
(real ALE play, walkthrough style: no overlay, labels kept aside), each evaluated, with its card.

    python -m nitrogen_hf.space.assets spaces/        # rebuild (tens of minutes on 2 CPUs)
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

logger = logging.getLogger("nitrogen_hf")

# What the Space bundles from a trained model folder (no checkpoints/, no TensorBoard logs).
KEPT_FILES = (
    "config.json",
    "model.safetensors",
    "training_summary.json",
    "training_config.json",
    "calibration.json",
    "calibration.png",
)


@dataclass
class DemoConfig:
    """Sizes of the demo recordings and models; defaults make the bundled assets."""

    space_dir: Path
    env_id: str = "ALE/Breakout-v5"
    policy: str = "sticky"  # the recorder's human-like random player
    train_episodes: int = 10
    train_seconds: float = 60.0  # cap per training episode (Breakout episodes end sooner)
    validation_fraction: float = 0.2  # of videos: calibration and evaluation
    example_seconds: float = 8.0  # the bundled example: a few seconds, well under 1 MB
    example_seed: int = 123  # a seed the training recordings (seed 1) never use
    seed: int = 1
    # The IDM: small enough to train on CPUs in minutes, large enough to see the paddle move.
    idm_num_frames: int = 4
    idm_frame_size: tuple[int, int] = (84, 64)
    idm_channels: tuple[int, ...] = (16, 32, 64)
    idm_hidden_size: int = 64
    idm_steps: int = 1500
    idm_batch_size: int = 32
    idm_learning_rate: float = 3e-3
    policy_steps: int = 300
    policy_eval_episodes: int = 3
    policy_eval_seconds: float = 20.0
    work_dir: Path | None = None  # recordings and datasets (default: a temporary folder)

    def __post_init__(self) -> None:
        self.space_dir = Path(self.space_dir)


def record_example(config: DemoConfig) -> Path:
    """examples/breakout.mp4 (a walkthrough clip) and breakout_frame.png (its middle frame)."""
    import numpy as np
    from PIL import Image

    from nitrogen_hf.data.video import open_video
    from nitrogen_hf.envs.recorder import RecordConfig, record

    with tempfile.TemporaryDirectory() as tmp:
        record(
            RecordConfig(
                env_id=config.env_id,
                policy=config.policy,
                overlay=False,
                max_seconds=config.example_seconds,
                out=Path(tmp),
                seed=config.example_seed,
                progress=False,
            )
        )
        (video,) = Path(tmp, "videos").glob("*.mp4")
        target = config.space_dir / "examples" / "breakout.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(video, target)
    with open_video(target) as reader:
        frame = reader.get_frames([reader.num_frames // 2])[0].permute(1, 2, 0).numpy()
    Image.fromarray(np.ascontiguousarray(frame)).save(target.with_name("breakout_frame.png"))
    return target


def record_training_data(config: DemoConfig, work: Path) -> Path:
    """Walkthrough recordings with their kept-aside labels, built into a dataset."""
    from nitrogen_hf.data.build import BuildConfig, build_dataset
    from nitrogen_hf.envs.recorder import RecordConfig, record

    record(
        RecordConfig(
            env_id=config.env_id,
            episodes=config.train_episodes,
            policy=config.policy,
            overlay=False,
            max_seconds=config.train_seconds,
            out=work / "recordings",
            seed=config.seed,
            progress=False,
        )
    )
    build_dataset(
        BuildConfig(
            actions=[work / "recordings" / "ground_truth"],
            videos=work / "recordings" / "videos",
            out=work / "dataset",
            validation_fraction=config.validation_fraction,
            progress=False,
        )
    )
    return work / "dataset"


def build_demo_idm(config: DemoConfig, dataset: Path, work: Path) -> Path:
    """Train, calibrate and evaluate the tiny IDM; copy it (with its card) to demo_idm/."""
    from nitrogen_hf.evaluation.idm_report import IDMEvalConfig, evaluate_idm
    from nitrogen_hf.hub.cards import write_model_card
    from nitrogen_hf.training.configs import IDM_PRESETS
    from nitrogen_hf.training.train_idm import train_idm

    debug = IDM_PRESETS["debug"]  # one game, one look: no augmentation, nothing to be robust to
    training = replace(
        debug,
        model={
            "num_frames": config.idm_num_frames,
            "frame_size": config.idm_frame_size,
            "cnn_channels": config.idm_channels,
            "hidden_size": config.idm_hidden_size,
            "stick_bins": 5,  # Atari has no sticks: the fewest bins keep the head small
        },
        train=replace(
            debug.train,
            max_steps=config.idm_steps,
            batch_size=config.idm_batch_size,
            learning_rate=config.idm_learning_rate,
            warmup_steps=min(50, config.idm_steps // 10 + 1),
            checkpoint_every=max(1, config.idm_steps // 3),
            log_every=25,
        ),
    )
    train_idm(training, str(dataset), work / "idm")
    target = _bundle(work / "idm", config.space_dir / "demo_idm")
    evaluate_idm(IDMEvalConfig(model=str(target), data=str(dataset), out=target / "eval"))
    write_model_card(target, model_id=target.name)
    return target


def build_demo_policy(config: DemoConfig, dataset: Path, work: Path) -> Path:
    """Train the tiny policy on the same recordings, play it closed loop; copy to demo_policy/."""
    from nitrogen_hf.evaluation.closed_loop import PolicyEvalConfig, evaluate_policy
    from nitrogen_hf.hub.cards import write_model_card
    from nitrogen_hf.training.configs import POLICY_PRESETS
    from nitrogen_hf.training.train_policy import train_policy

    debug = POLICY_PRESETS["debug"]
    training = replace(
        debug,
        policy_overrides={"action_horizon": 8},
        train=replace(
            debug.train,
            max_steps=config.policy_steps,
            batch_size=16,
            checkpoint_every=config.policy_steps,
        ),
    )
    train_policy(training, [f"truth={dataset}:1"], work / "policy")
    target = _bundle(work / "policy", config.space_dir / "demo_policy")
    evaluate_policy(
        PolicyEvalConfig(
            model=str(target),
            env_id=config.env_id,
            episodes=config.policy_eval_episodes,
            max_seconds=config.policy_eval_seconds,
            out=target / "eval",
            video=False,
        )
    )
    write_model_card(target, model_id=target.name)
    return target


def _bundle(trained: Path, target: Path) -> Path:
    """Copy the files a user of the model needs (not checkpoints or logs) to `target`."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in KEPT_FILES:
        if (trained / name).is_file():
            shutil.copyfile(trained / name, target / name)
    return target


def build_demo_assets(config: DemoConfig) -> dict:
    """Record the example, record training data, train and evaluate both demo models."""
    work = Path(config.work_dir or tempfile.mkdtemp(prefix="nitrogen_demo_"))
    example = record_example(config)
    dataset = record_training_data(config, work)
    idm = build_demo_idm(config, dataset, work)
    policy = build_demo_policy(config, dataset, work)
    return {"example": str(example), "idm": str(idm), "policy": str(policy), "work": str(work)}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if len(sys.argv) != 2:
        sys.exit("usage: python -m nitrogen_hf.space.assets SPACE_DIR")
    print(build_demo_assets(DemoConfig(Path(sys.argv[1]))))

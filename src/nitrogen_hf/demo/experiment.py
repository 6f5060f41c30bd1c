"""`nitrogen-hf demo`: the VPT-style experiment on real Atari games, end to end.

Do IDM pseudo-labels on unlabeled gameplay make a better policy than the overlay-labeled
data alone? Stages (each resumable, see runner.py):

1. record: expert play with an overlay (the small labeled set), expert walkthroughs without
   one (the unlabeled rest, truth kept aside), sticky play for the IDM, an unseen game;
2. IDM: train on the overlay recordings, evaluate on held-out episodes and the unseen game;
3. label: pseudo-label the walkthroughs (with and without filters) and score both against
   the hidden truth;
4. policies: (a) labeled only, (b) labeled + pseudo-labels, (c) labeled + walkthroughs with
   their true labels (the ceiling), same budget;
5. closed loop: each policy plays each game, beside random play and the scripted expert;
6. report: report.md, report.json and plots.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from nitrogen_hf.demo.config import OVERLAY_CORNERS, SCALES, DemoScale
from nitrogen_hf.demo.runner import StageRunner

logger = logging.getLogger("nitrogen_hf")

POLICY_VARIANTS = {
    "a_labeled": ("labeled",),
    "b_labeled_pseudo": ("labeled", "pseudo"),
    "c_labeled_truth": ("labeled", "truth"),
}
SEEDS = {"labeled": 1, "walkthrough": 2, "sticky": 3, "unseen": 4, "eval": 5}


class Demo:
    """Holds the scale and the folder layout; each method is one stage returning JSON."""

    def __init__(self, out: Path, scale: DemoScale, seed: int = 0):
        self.out, self.scale, self.seed = Path(out), scale, seed

    def path(self, *parts: str) -> Path:
        return self.out.joinpath(*parts)

    # --- 1. recordings ---------------------------------------------------------------------
    def record(self) -> dict:
        from nitrogen_hf.envs.overlay import OverlayConfig
        from nitrogen_hf.envs.recorder import RecordConfig, record

        s, summaries = self.scale, {}

        def play(game, folder, policy, episodes, overlay, seed_name):
            config = RecordConfig(
                env_id=f"ALE/{game}-v5",
                episodes=episodes,
                policy=policy,
                overlay=overlay,
                max_seconds=s.episode_seconds,
                out=self.path("rec", folder),
                seed=self.seed * 100 + SEEDS[seed_name],
                overlay_style=OverlayConfig(corner=OVERLAY_CORNERS.get(game, "bottom-right")),
                progress=False,
            )
            summaries[f"{folder}/{game}/{policy}"] = record(config)

        for game in s.policy_games:
            play(game, "overlay", "expert", s.labeled_episodes, True, "labeled")
            play(
                game,
                "walkthrough",
                "expert",
                s.expert_episodes - s.labeled_episodes,
                False,
                "walkthrough",
            )
        for game in s.idm_games:
            play(game, "overlay", "sticky", s.sticky_episodes, True, "sticky")
        play(s.unseen_game, "unseen", "sticky", s.unseen_episodes, True, "unseen")
        return {"recordings": _recording_counts(self.path("rec"))}

    # --- 2. datasets and the IDM -----------------------------------------------------------
    def build_idm_datasets(self) -> dict:
        from nitrogen_hf.data.build import BuildConfig, build_dataset

        idm = build_dataset(
            BuildConfig(
                actions=[self.path("rec", "overlay", "actions")],
                videos=self.path("rec", "overlay", "videos"),
                out=self.path("ds", "idm"),
                validation_fraction=self.scale.holdout,
                progress=False,
            )
        )
        unseen = build_dataset(
            BuildConfig(
                actions=[self.path("rec", "unseen", "actions")],
                videos=self.path("rec", "unseen", "videos"),
                out=self.path("ds", "unseen"),
                progress=False,
            )
        )
        labeled_videos = sorted(
            p for p in self.path("rec", "overlay", "actions").iterdir() if "-expert-" in p.name
        )
        labeled = build_dataset(
            BuildConfig(
                actions=labeled_videos,
                videos=self.path("rec", "overlay", "videos"),
                out=self.path("ds", "labeled"),
                progress=False,
            )
        )
        truth = build_dataset(
            BuildConfig(
                actions=[self.path("rec", "walkthrough", "ground_truth")],
                videos=self.path("rec", "walkthrough", "videos"),
                out=self.path("ds", "truth"),
                progress=False,
            )
        )
        return {
            name: _dataset_size(summary)
            for name, summary in {
                "idm": idm,
                "unseen": unseen,
                "labeled": labeled,
                "truth": truth,
            }.items()
        }

    def train_idm(self) -> dict:
        from nitrogen_hf.training.configs import IDM_PRESETS, preset
        from nitrogen_hf.training.train_idm import train_idm

        s = self.scale
        config = preset(IDM_PRESETS, s.idm_preset)
        config = replace(
            config,
            model={**config.model, "num_frames": s.idm_num_frames},
            train=replace(
                config.train, max_steps=s.idm_steps, max_minutes=s.idm_minutes, seed=self.seed
            ),
        )
        return train_idm(config, str(self.path("ds", "idm")), self.path("models", "idm"))

    def evaluate_idm(self) -> dict:
        from nitrogen_hf.evaluation.idm_report import IDMEvalConfig, evaluate_idm

        results = {}
        for name, data, split in (("held_out", "idm", "validation"), ("unseen", "unseen", "train")):
            metrics = evaluate_idm(
                IDMEvalConfig(
                    model=str(self.path("models", "idm")),
                    data=str(self.path("ds", data)),
                    out=self.path("eval", f"idm_{name}"),
                    split=split,
                    train_split="train",
                )
            )
            results[name] = {
                "macro_f1": metrics["macro_f1"],
                "exact_match": metrics["exact_match"],
                "ece": metrics["ece"],
                "frames": metrics["frames"],
                "per_game": {
                    g: {"macro_f1": r["macro_f1"], "exact_match": r["exact_match"]}
                    for g, r in metrics["models"]["idm"].items()
                    if g != "overall"
                },
                "majority_macro_f1": metrics["models"]["majority"]["overall"]["macro_f1"],
                "majority_exact_match": metrics["models"]["majority"]["overall"]["exact_match"],
                "per_button_f1": {
                    b: s["f1"] for b, s in metrics["models"]["idm"]["overall"]["buttons"].items()
                },
            }
        return results

    # --- 3. pseudo-labels ------------------------------------------------------------------
    def label(self) -> dict:
        from nitrogen_hf.data.build import BuildConfig, build_dataset
        from nitrogen_hf.evaluation.label_quality import load_truth, score_pseudo_labels
        from nitrogen_hf.labeling.filters import FilterConfig

        videos = self.path("rec", "walkthrough", "videos")
        unfiltered = FilterConfig(
            min_confidence=0.0,
            idle_seconds=0.0,
            static_seconds=0.0,
            min_active_fraction=0.0,
            min_chunk_seconds=0.0,
        )
        filtered = FilterConfig(min_confidence=self.scale.label_min_confidence)
        filters = {
            "filtered": filtered if self.scale.label_filters else unfiltered,
            "unfiltered": unfiltered,
        }
        reports = {name: self._label_by_game(name, config) for name, config in filters.items()}
        truth = load_truth(self.path("rec", "walkthrough", "ground_truth"))
        quality = {
            name: score_pseudo_labels(self.path("label", name, "actions"), truth)
            for name in reports
        }
        build_dataset(
            BuildConfig(
                actions=[self.path("label", "filtered", "actions")],
                videos=videos,
                out=self.path("ds", "pseudo"),
                progress=False,
            )
        )
        return {
            "report": {
                k: reports["filtered"].get(k)
                for k in (
                    "hours_in",
                    "hours_kept",
                    "kept_fraction",
                    "hours_dropped",
                    "min_confidence_source",
                    "settings",
                    "frames_per_second",
                )
            },
            "quality": {name: _label_summary(q) for name, q in quality.items()},
        }

    def _label_by_game(self, name: str, filters) -> dict:
        """Label the walkthroughs game by game, as a user labels a folder of one game's videos
        with `--game`: the chunks carry the name that the game-conditioned policies read."""
        from nitrogen_hf.envs.atari import game_name
        from nitrogen_hf.labeling.config import LabelConfig
        from nitrogen_hf.labeling.pipeline import label_videos
        from nitrogen_hf.labeling.report import merge_label_reports

        reports = []
        for env_game in self.scale.policy_games:
            game = game_name(f"ALE/{env_game}-v5")
            config = LabelConfig(
                model=str(self.path("models", "idm")),
                videos=[str(self.path("rec", "walkthrough", "videos", f"{game}-*"))],
                out=self.path("label", name),
                filters=filters,
                game=game,
                progress=False,
            )
            reports.append(label_videos(config))
        return merge_label_reports(reports)

    # --- 4. policies -----------------------------------------------------------------------
    def train_policy(self, variant: str) -> dict:
        from nitrogen_hf.training.configs import POLICY_PRESETS, preset
        from nitrogen_hf.training.train_policy import train_policy

        s = self.scale
        frames = {name: _dataset_frames(self.path("ds", name)) for name in POLICY_VARIANTS[variant]}
        empty = [name for name, count in frames.items() if count == 0]
        if "labeled" in empty:
            raise RuntimeError(f"the labeled dataset {self.path('ds', 'labeled')} is empty")
        sources = [
            f"{name}={self.path('ds', name)}:{count}" for name, count in frames.items() if count
        ]
        config = preset(POLICY_PRESETS, s.policy_preset)
        config = replace(
            config,
            game_conditioning=True,
            policy_overrides={**config.policy_overrides, **s.policy_overrides},
            train=replace(
                config.train,
                max_steps=s.policy_steps,
                max_minutes=s.policy_minutes,
                seed=self.seed,
            ),
        )
        out = self.path("models", f"policy_{variant}")
        return {**train_policy(config, sources, out), "empty_sources": empty}

    # --- 5. closed loop --------------------------------------------------------------------
    def closed_loop(self) -> dict:
        from nitrogen_hf.envs.atari import game_name
        from nitrogen_hf.evaluation.closed_loop import (
            PolicyEvalConfig,
            evaluate_policy,
            mean_with_ci,
            reference_returns,
        )

        s, results = self.scale, {}
        for game in s.policy_games:
            env_id = f"ALE/{game}-v5"
            base = PolicyEvalConfig(
                model="",
                env_id=env_id,
                episodes=s.eval_episodes,
                seed=self.seed * 100 + SEEDS["eval"],
                max_seconds=s.eval_seconds,
                game=game_name(env_id),
            )
            game_results = {
                name: mean_with_ci(reference_returns(env_id, name, base))
                for name in ("random", "expert")
            }
            for variant in POLICY_VARIANTS:
                config = replace(
                    base,
                    model=str(self.path("models", f"policy_{variant}")),
                    references=False,
                    out=self.path("eval", f"policy_{variant}_{game_name(env_id)}"),
                )
                outcome = evaluate_policy(config)
                game_results[variant] = {
                    "mean": outcome["mean_return"],
                    "ci95": outcome["return_ci95"],
                    "returns": outcome["returns"],
                    "video": outcome.get("rollout_video"),
                }
            results[game_name(env_id)] = game_results
        return results


def run_demo(out: Path, scale: str = "small", seed: int = 0, with_lam: bool = False) -> dict:
    """Run (or resume) every stage and write the report; returns report.json's content."""
    from nitrogen_hf.demo.report import write_report

    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose from {sorted(SCALES)}")
    demo, runner = Demo(out, SCALES[scale], seed), StageRunner(out)
    results = {"scale": scale, "seed": seed}
    results["recordings"] = runner.run("record", demo.record)
    results["datasets"] = runner.run("datasets", demo.build_idm_datasets)
    results["idm_training"] = runner.run("train_idm", demo.train_idm)
    results["idm"] = runner.run("evaluate_idm", demo.evaluate_idm)
    results["labels"] = runner.run("label", demo.label)
    results["policy_training"] = {
        variant: runner.run(f"train_policy_{variant}", lambda v=variant: demo.train_policy(v))
        for variant in POLICY_VARIANTS
    }
    results["closed_loop"] = runner.run("closed_loop", demo.closed_loop)
    if with_lam:
        results["lam"] = runner.run("lam", lambda: _lam_section(demo))
    results["stage_seconds"] = runner.timings()
    return write_report(Path(out), results)


def _lam_section(demo: Demo) -> dict:
    from nitrogen_hf.demo.lam_section import run_lam_section

    return run_lam_section(
        demo.path("lam"),
        demo.path("ds", "idm"),
        demo.path("ds", "unseen"),
        preset=demo.scale.lam_preset,
        max_steps=demo.scale.lam_max_steps,
        seed=demo.seed,
    )


def _recording_counts(root: Path) -> dict:
    return {
        folder.name: len(list((folder / "videos").glob("*.mp4")))
        for folder in sorted(root.iterdir())
        if folder.is_dir()
    }


def _dataset_size(summary: dict) -> dict:
    return {
        "chunks": summary.get("chunks"),
        "hours": summary.get("hours"),
        "splits": summary.get("splits"),
    }


def _dataset_frames(folder: Path) -> int:
    """Frames (action rows) in a built dataset's train split: mixtures weight sources by size."""
    import json

    split = json.loads((folder / "build_summary.json").read_text())["splits"].get("train")
    return round(float(split["hours"]) * 3600 * 30) if split else 0


def _label_summary(quality: dict) -> dict:
    return {
        k: quality.get(k)
        for k in ("frames", "macro_f1", "exact_match", "button_precision", "mean_confidence")
    }

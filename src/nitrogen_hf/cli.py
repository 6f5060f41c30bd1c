"""The `nitrogen-hf` command: parses arguments and calls the library (heavy imports inside)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def _add_record(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="play real Atari games (ALE) and write the NitroGen layout")
    p.add_argument("--env", default="ALE/Pong-v5", help="any Gymnasium ALE/<Game>-v5 id")
    p.add_argument("--episodes", type=int, default=1)
    p.add_argument("--policy", choices=("random", "sticky", "expert"), default="sticky")
    p.add_argument(
        "--overlay",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="draw a gamepad overlay (labeled data) or not (walkthrough, labels kept aside)",
    )
    p.add_argument("--fps", type=int, default=30, help="video and action rate; must divide 60")
    p.add_argument("--max-seconds", type=float, default=120.0, help="cap on each episode's length")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--overlay-corner",
        choices=("bottom-right", "bottom-left", "top-right", "top-left"),
        default="bottom-right",
        help="where the controller overlay sits",
    )
    p.set_defaults(func=_run_record)


def _run_record(args: argparse.Namespace) -> int:
    from nitrogen_hf.envs.overlay import OverlayConfig
    from nitrogen_hf.envs.recorder import RecordConfig, record

    config = RecordConfig(
        overlay_style=OverlayConfig(corner=args.overlay_corner),
        env_id=args.env,
        episodes=args.episodes,
        policy=args.policy,
        overlay=args.overlay,
        fps=args.fps,
        max_seconds=args.max_seconds,
        out=args.out,
        seed=args.seed,
    )
    summary = record(config)
    print(json.dumps(summary, indent=2))
    return 0


def _add_inspect(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="summarise NitroGen shards or folders (and their videos)")
    p.add_argument(
        "path", type=Path, help="a .tar.gz shard, an extracted shard, or a folder of either"
    )
    p.add_argument("--videos", type=Path, help="folder of <video_id>.<ext> files to join")
    p.add_argument("--video-map", type=Path, help="CSV or JSON mapping video_id -> file path")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_run_inspect)


def _run_inspect(args: argparse.Namespace) -> int:
    from nitrogen_hf.data.summary import format_summary, summarize

    summary = summarize(args.path, videos_dir=args.videos, video_map=args.video_map)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def _add_build_dataset(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build-dataset", help="NitroGen chunks + local videos -> streamable parquet dataset"
    )
    p.add_argument(
        "--actions",
        type=Path,
        nargs="+",
        required=True,
        help="shards or folders of chunks (ground truth and pseudo-labels alike)",
    )
    p.add_argument("--videos", type=Path, required=True, help="folder of <video_id>.<ext> files")
    p.add_argument("--video-map", type=Path, help="CSV or JSON mapping video_id -> file path")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--validation-fraction",
        type=float,
        default=0.0,
        help="fraction of videos (by id hash) put in the validation split",
    )
    p.add_argument("--rows-per-shard", type=int, default=256, help="chunks per parquet shard")
    p.set_defaults(func=_run_build_dataset)


def _run_build_dataset(args: argparse.Namespace) -> int:
    from nitrogen_hf.data.hub_dataset import BuildConfig, build_dataset

    config = BuildConfig(
        actions=list(args.actions),
        videos=args.videos,
        video_map=args.video_map,
        out=args.out,
        validation_fraction=args.validation_fraction,
        rows_per_shard=args.rows_per_shard,
    )
    summary = build_dataset(config)
    from nitrogen_hf.hub.dataset_card import write_dataset_card

    write_dataset_card(config.out)  # the full card replaces build_dataset's minimal one
    print(json.dumps(summary, indent=2))
    return 0


def _add_train_idm(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-idm", help="train the inverse dynamics model (Accelerate; calibrates at the end)"
    )
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--preset", choices=("debug", "cpu", "gpu"), default="cpu")
    p.add_argument(
        "--videos", type=Path, help="folder of the user's videos (re-points video paths)"
    )
    p.add_argument("--num-frames", type=int, help="window T (2 = the seed's frame t, t+1 model)")
    p.add_argument("--frame-size", type=int, nargs=2, metavar=("H", "W"))
    p.add_argument("--backbone", help="HF vision model name/path as the trunk instead of the CNN")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--num-workers", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="augmented training windows (default: the preset's; on for gpu)",
    )
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in --out")
    p.add_argument(
        "--target-precision", type=float, help="label precision the confidence threshold must reach"
    )
    p.set_defaults(func=_run_train_idm)


def _run_train_idm(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nitrogen_hf.training.train_idm import idm_preset, train_idm

    config = idm_preset(args.preset, args.data, args.out, videos_dir=args.videos)
    config.model = replace(
        config.model,
        **_given(args, num_frames="num_frames", frame_size="frame_size", backbone="backbone"),
    )
    config.train = replace(
        config.train,
        **_given(
            args,
            max_steps="max_steps",
            max_minutes="max_minutes",
            batch_size="batch_size",
            learning_rate="lr",
            num_workers="num_workers",
            seed="seed",
        ),
    )
    config.train.resume = not args.no_resume
    if args.augment is not None:
        config.augment.enabled = args.augment
    if args.target_precision is not None:
        config.target_precision = args.target_precision
    print(json.dumps(train_idm(config), indent=2, default=str))
    return 0


def _add_eval_idm(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-idm", help="score an IDM against ground truth and baselines")
    p.add_argument("--model", required=True, help="IDM folder or Hub id")
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--split", default="validation")
    p.add_argument("--train-split", default="train", help="fits the majority baseline ('' to skip)")
    p.add_argument("--baseline-model", help="a second IDM to compare, e.g. the T=2 model")
    p.add_argument("--videos", type=Path)
    p.add_argument("--max-chunks", type=int)
    p.set_defaults(func=_run_eval_idm)


def _run_eval_idm(args: argparse.Namespace) -> int:
    from nitrogen_hf.evaluation.idm_report import IDMEvalConfig, evaluate_idm

    metrics = evaluate_idm(
        IDMEvalConfig(
            model=args.model,
            data=args.data,
            out=args.out,
            split=args.split,
            train_split=args.train_split or None,
            baseline_model=args.baseline_model,
            videos_dir=args.videos,
            max_chunks=args.max_chunks,
        )
    )
    print((args.out / "metrics.md").read_text())
    print(f"macro_f1 {metrics['macro_f1']}")
    return 0


def _add_label(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "label", help="pseudo-label gameplay videos with an IDM and write NitroGen chunks"
    )
    p.add_argument("--model", required=True, help="IDM folder (train-idm output) or Hub id")
    p.add_argument(
        "--videos", nargs="+", required=True, help="folders (recursive), video files or globs"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--game", help="game name written to every chunk")
    p.add_argument("--engine", choices=("local", "ray"), default="local")
    p.add_argument("--fps", type=float, help="action rate (default: the video's own)")
    f = p.add_argument_group(
        "filters", "defaults and their reasons: nitrogen_hf.labeling.filters.FilterConfig"
    )
    f.add_argument(
        "--min-confidence",
        type=float,
        help="drop stretches below this confidence (default: the IDM's calibrated threshold)",
    )
    f.add_argument("--confidence-window", type=float, help="seconds of confidence averaging")
    f.add_argument(
        "--min-low-confidence-seconds",
        type=float,
        help="shorter unsure stretches are kept (down-weighted by their confidence)",
    )
    f.add_argument("--idle-seconds", type=float, help="no input this long is idle")
    f.add_argument(
        "--static-max-change",
        type=float,
        help="median frame change (0-255 levels) below which the picture is still",
    )
    f.add_argument("--static-seconds", type=float, help="a still picture this long is dropped")
    f.add_argument(
        "--min-active-fraction", type=float, help="chunks need this fraction of frames with input"
    )
    f.add_argument("--min-chunk-seconds", type=float, help="shorter chunks are dropped")
    p.add_argument("--chunk-seconds", type=float, default=20.0)
    p.add_argument(
        "--resize-in-decoder",
        action="store_true",
        help="let torchcodec scale while decoding (can help on large videos; pixels differ "
        "slightly from training's prepare_frames)",
    )
    p.add_argument("--batch-size", type=int, default=64, help="IDM windows per forward pass")
    p.add_argument("--device", default="auto")
    r = p.add_argument_group("ray", "used with --engine ray; see labeling/ray_engine.py")
    r.add_argument("--ray-address", help="cluster address (default: $RAY_ADDRESS, else local)")
    r.add_argument("--workers", type=int, default=2, help="actors, each holding one IDM")
    r.add_argument("--cpus-per-worker", type=float, default=1.0)
    r.add_argument(
        "--gpus-per-worker", type=float, help="default: 1 if the cluster has GPUs, else 0"
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_label)


def _run_label(args: argparse.Namespace) -> int:
    from nitrogen_hf.labeling.config import LabelConfig, RayConfig
    from nitrogen_hf.labeling.filters import FilterConfig
    from nitrogen_hf.labeling.pipeline import label_videos

    filters = FilterConfig(
        **_given(
            args,
            min_confidence="min_confidence",
            confidence_window_seconds="confidence_window",
            min_low_confidence_seconds="min_low_confidence_seconds",
            idle_seconds="idle_seconds",
            static_max_change="static_max_change",
            static_seconds="static_seconds",
            min_active_fraction="min_active_fraction",
            min_chunk_seconds="min_chunk_seconds",
        )
    )
    config = LabelConfig(
        model=args.model,
        videos=args.videos,
        out=args.out,
        game=args.game,
        filters=filters,
        fps=args.fps,
        chunk_seconds=args.chunk_seconds,
        resize_in_decoder=args.resize_in_decoder,
        batch_size=args.batch_size,
        device=args.device,
        engine=args.engine,
        ray=RayConfig(
            address=args.ray_address,
            workers=args.workers,
            cpus_per_worker=args.cpus_per_worker,
            gpus_per_worker=args.gpus_per_worker,
        ),
        progress=not args.no_progress,
    )
    report = label_videos(config)
    summary = {k: v for k, v in report.items() if k not in ("per_video", "settings")}
    print(json.dumps(summary, indent=2))
    return 0


def _add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="draw a video's pseudo-labels over it for a visual check")
    p.add_argument("--video", type=Path, required=True)
    p.add_argument("--labels", type=Path, required=True, help="the `label` job's --out folder")
    p.add_argument("--out", type=Path, required=True, help="e.g. V_labeled.mp4")
    p.add_argument("--scale", type=int, default=1, help="integer upscaling for small videos")
    p.set_defaults(func=_run_render)


def _run_render(args: argparse.Namespace) -> int:
    from nitrogen_hf.labeling.render import RenderConfig, render

    print(json.dumps(render(RenderConfig(args.video, args.labels, args.out, args.scale)), indent=2))
    return 0


def _add_train_policy(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-policy", help="train the SigLIP 2 + DiT policy on a weighted mixture of datasets"
    )
    p.add_argument(
        "--data",
        nargs="+",
        required=True,
        metavar="NAME=PATH[:WEIGHT]",
        help="datasets to mix, e.g. truth=ds/overlay:1 pseudo=ds/pseudo:1",
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--preset", choices=("debug", "cpu", "gpu"), default="cpu")
    p.add_argument(
        "--videos", type=Path, help="folder of the user's videos (re-points video paths)"
    )
    p.add_argument(
        "--base-model", help="policy folder or Hub id to fine-tune (e.g. a converted ng.pt)"
    )
    p.add_argument(
        "--lora-rank", type=int, help="fine-tune --base-model with a LoRA adapter of this rank"
    )
    p.add_argument(
        "--vision-pretrained",
        help="start a fresh policy's tower from these weights, e.g. google/siglip2-base-patch16-256",
    )
    p.add_argument(
        "--game-conditioning", action="store_true", help="learn a game-id token from the data"
    )
    p.add_argument("--max-steps", type=int)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--num-workers", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in --out")
    p.set_defaults(func=_run_train_policy)


def _run_train_policy(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nitrogen_hf.training.train_policy import policy_preset, train_policy

    config = policy_preset(
        args.preset,
        args.data,
        args.out,
        videos_dir=args.videos,
        base_model=args.base_model,
        lora_rank=args.lora_rank,
        game_conditioning=args.game_conditioning,
        vision_pretrained=args.vision_pretrained,
    )
    config.train = replace(
        config.train,
        **_given(
            args,
            max_steps="max_steps",
            max_minutes="max_minutes",
            batch_size="batch_size",
            learning_rate="lr",
            num_workers="num_workers",
            seed="seed",
        ),
    )
    config.train.resume = not args.no_resume
    print(json.dumps(train_policy(config), indent=2, default=str))
    return 0


def _add_eval_policy(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval-policy", help="play a real game with a policy, next to random and the expert"
    )
    p.add_argument("--model", required=True, help="policy folder (or LoRA adapter folder)")
    p.add_argument("--env", default="ALE/Pong-v5")
    p.add_argument("--episodes", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-seconds", type=float, default=60.0, help="cap on each episode's length")
    p.add_argument(
        "--execute-steps", type=int, default=4, help="actions executed per predicted chunk"
    )
    p.add_argument("--game", help="game-id token for game-conditioned policies")
    p.add_argument(
        "--no-references", action="store_true", help="skip the random and expert players"
    )
    p.set_defaults(func=_run_eval_policy)


def _run_eval_policy(args: argparse.Namespace) -> int:
    from nitrogen_hf.evaluation.closed_loop import PolicyEvalConfig, evaluate_policy

    result = evaluate_policy(
        PolicyEvalConfig(
            model=args.model,
            env_id=args.env,
            episodes=args.episodes,
            seed=args.seed,
            out=args.out,
            max_seconds=args.max_seconds,
            execute_steps=args.execute_steps,
            game=args.game,
            references=not args.no_references,
        )
    )
    print(json.dumps(result, indent=2))
    return 0


def _add_convert_nitrogen(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert-nitrogen", help="NVIDIA's released ng.pt -> a save_pretrained policy folder"
    )
    p.add_argument("checkpoint", type=Path, help="path to ng.pt")
    p.add_argument("out", type=Path, help="output folder (config.json + model.safetensors)")
    p.add_argument(
        "--games",
        help="game names for the game-id rows: a .json {name: row} or .txt (one per line)",
    )
    p.add_argument(
        "--vision-config",
        help="HF config name/path of the SigLIP tower when ng.pt names one not cached here",
    )
    p.add_argument(
        "--unsafe-pickle",
        action="store_true",
        help="torch.load with weights_only=False (only for checkpoints you trust)",
    )
    p.set_defaults(func=_run_convert_nitrogen)


def _run_convert_nitrogen(args: argparse.Namespace) -> int:
    from nitrogen_hf.models.policy import convert_nitrogen_checkpoint

    out = convert_nitrogen_checkpoint(
        args.checkpoint,
        args.out,
        game_names=args.games,
        vision_config=args.vision_config,
        weights_only=not args.unsafe_pickle,
    )
    print(f"wrote {out}")
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="the VPT-style experiment on real Atari games, end to end, with a report"
    )
    p.add_argument("--out", type=Path, default=Path("demo_out"))
    p.add_argument(
        "--scale",
        choices=("tiny", "small", "full"),
        default="small",
        help="tiny: minutes (tests); small: ~30 min on 2 CPU cores; full: a GPU",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--with-lam", action="store_true", help="add the latent-action section")
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from nitrogen_hf.demo.experiment import run_demo
    from nitrogen_hf.demo.runner import StageFailed

    try:
        run_demo(args.out, args.scale, args.seed, args.with_lam)
    except StageFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print((args.out / "report.md").read_text())
    return 0


def _add_push(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "push", help="publish a model, dataset or Space folder to the Hugging Face Hub"
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", type=Path, help="IDM or policy folder (save_pretrained output)")
    what.add_argument("--dataset", type=Path, help="build-dataset or label output folder")
    what.add_argument("--space", type=Path, help="Gradio Space folder (e.g. spaces/)")
    p.add_argument("--repo", required=True, help="Hub repo id, e.g. user/nitrogen-idm")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument(
        "--dry-run", action="store_true", help="list the files and sizes; upload nothing"
    )
    p.add_argument(
        "--exclude", nargs="+", default=[], metavar="PATTERN", help="more paths to leave out"
    )
    p.add_argument(
        "--include-checkpoints", action="store_true", help="also upload checkpoints/ (resumable)"
    )
    p.add_argument("--no-card", action="store_true", help="upload README.md as it is")
    p.add_argument("--revision", help="branch to commit to (default: main)")
    p.add_argument("--message", help="commit message")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_run_push)


def _run_push(args: argparse.Namespace) -> int:
    from nitrogen_hf.hub.push import PushConfig, UploadFile, format_plan, push

    kind = next(k for k in ("model", "dataset", "space") if getattr(args, k) is not None)
    config = PushConfig(
        folder=getattr(args, kind),
        repo_id=args.repo,
        repo_type=kind,
        private=args.private,
        dry_run=args.dry_run,
        exclude=tuple(args.exclude),
        include_checkpoints=args.include_checkpoints,
        card=not args.no_card,
        revision=args.revision,
        commit_message=args.message,
    )
    result = push(config)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    files = [UploadFile(f["path"], Path(f["path"]), f["bytes"]) for f in result["files"]]
    print(format_plan(files))
    if result["card"]:
        print(f"card: {result['card']}")
    print(f"excluded: {', '.join(result['excluded_patterns'])}")
    if args.dry_run:
        print(f"dry run: nothing uploaded to {kind} repo {args.repo}")
    else:
        print(f"uploaded to {result['url']} ({result['commit_url']})")
    return 0


def _add_train_lam(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-lam", help="train the latent action model on video alone (no action labels)"
    )
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--preset", choices=("debug", "cpu", "gpu"), default="cpu")
    p.add_argument(
        "--videos", type=Path, help="folder of the user's videos (re-points video paths)"
    )
    p.add_argument("--context-frames", type=int, help="past frames the LAM sees")
    p.add_argument("--codebook-size", type=int, help="number of latent actions (Genie: 8)")
    p.add_argument("--frame-size", type=int, nargs=2, metavar=("H", "W"))
    _add_train_options(p)
    p.set_defaults(func=_run_train_lam)


def _add_train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-steps", type=int)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--num-workers", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in --out")


def _train_overrides(args: argparse.Namespace, train_config):
    from dataclasses import replace

    train_config = replace(
        train_config,
        **_given(
            args,
            max_steps="max_steps",
            max_minutes="max_minutes",
            batch_size="batch_size",
            learning_rate="lr",
            num_workers="num_workers",
            seed="seed",
        ),
    )
    train_config.resume = not args.no_resume
    return train_config


def _run_train_lam(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nitrogen_hf.training.train_lam import lam_preset, train_lam

    config = lam_preset(args.preset, args.data, args.out, videos_dir=args.videos)
    config.model = replace(
        config.model,
        **_given(
            args,
            context_frames="context_frames",
            codebook_size="codebook_size",
            frame_size="frame_size",
        ),
    )
    config.train = _train_overrides(args, config.train)
    print(json.dumps(train_lam(config), indent=2, default=str))
    return 0


def _add_train_world_model(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-world-model",
        help="train an action-conditioned world model (latent, pseudo-label or true actions)",
    )
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--actions",
        choices=("latent", "gamepad"),
        default="latent",
        help="latent: codes of --lam (video only); gamepad: the labels, or --idm's pseudo-labels",
    )
    p.add_argument("--lam", help="LAM folder (train-lam output), needed for --actions latent")
    p.add_argument("--idm", help="IDM folder: condition on its pseudo-labels, not the data's")
    p.add_argument("--preset", choices=("debug", "cpu", "gpu"), default="cpu")
    p.add_argument("--videos", type=Path)
    _add_train_options(p)
    p.set_defaults(func=_run_train_world_model)


def _run_train_world_model(args: argparse.Namespace) -> int:
    from nitrogen_hf.training.train_lam import train_world_model, world_model_preset

    config = world_model_preset(
        args.preset,
        args.data,
        args.out,
        action_type=args.actions,
        lam=args.lam,
        idm=args.idm,
        videos_dir=args.videos,
    )
    config.train = _train_overrides(args, config.train)
    print(json.dumps(train_world_model(config), indent=2, default=str))
    return 0


def _add_eval_lam(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval-lam",
        help="probe latent actions with a small labeled budget; world model controllability",
    )
    p.add_argument("--lam", required=True, help="LAM folder (train-lam output)")
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--split", default="validation", help="split to score")
    p.add_argument(
        "--budget", type=float, default=0.05, help="fraction of train frames whose labels to use"
    )
    p.add_argument("--idm", help="an IDM to score next to the probes")
    p.add_argument("--world-model", help="world model folder: delta-PSNR and a rollout video")
    p.add_argument("--horizon", type=int, default=8, help="autoregressive rollout steps")
    p.add_argument("--max-chunks", type=int)
    p.set_defaults(func=_run_eval_lam)


def _run_eval_lam(args: argparse.Namespace) -> int:
    from nitrogen_hf.demo.lam_section import evaluate_lam, lam_markdown

    metrics = evaluate_lam(
        args.lam,
        args.data,
        args.out,
        split=args.split,
        budget=args.budget,
        idm_dir=args.idm,
        world_model_dir=args.world_model,
        horizon=args.horizon,
        max_eval_chunks=args.max_chunks,
    )
    print(lam_markdown(metrics))
    return 0


def _given(args: argparse.Namespace, **names: str) -> dict:
    """{field: value} for the options the user actually gave (None = keep the preset's)."""
    values = {field: getattr(args, option) for field, option in names.items()}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nitrogen-hf",
        description="NitroGen data, inverse dynamics pseudo-labeling and vision-action policies.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_record,
        _add_inspect,
        _add_build_dataset,
        _add_train_idm,
        _add_eval_idm,
        _add_train_policy,
        _add_eval_policy,
        _add_convert_nitrogen,
        _add_demo,
        _add_label,
        _add_render,
        _add_push,
        _add_train_lam,
        _add_train_world_model,
        _add_eval_lam,
    ):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:  # per-checkpoint chatter from Accelerate
        logging.getLogger("accelerate").setLevel(logging.WARNING)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

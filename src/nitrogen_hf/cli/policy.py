"""`train-policy`, `eval-policy`, `convert-nitrogen`: the vision-action policy."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nitrogen_hf.cli.common import add_train_options, given, train_overrides
from nitrogen_hf.training.configs import POLICY_PRESETS


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
    p.add_argument("--out", type=Path, required=True, help="model folder (resumes from it)")
    p.add_argument(
        "--base-model", help="policy folder or Hub id to fine-tune (e.g. a converted ng.pt)"
    )
    p.add_argument(
        "--lora-rank", type=int, help="fine-tune --base-model with a LoRA adapter of this rank"
    )
    p.add_argument(
        "--lora-alpha", type=float, help="LoRA scaling numerator (default: 2 x --lora-rank)"
    )
    p.add_argument(
        "--lora-train",
        nargs="+",
        default=(),
        choices=("action_encoder", "action_decoder", "game_embedding", "position_embedding"),
        help="modules trained in full beside the adapter (new games' rows are added anyway)",
    )
    p.add_argument(
        "--vision-pretrained",
        help="start a fresh policy's tower from these weights, e.g. google/siglip2-base-patch16-256",
    )
    p.add_argument(
        "--game-conditioning", action="store_true", help="learn a game-id token from the data"
    )
    add_train_options(p, POLICY_PRESETS)
    p.set_defaults(func=_run_train_policy)


def _run_train_policy(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nitrogen_hf.training.configs import preset
    from nitrogen_hf.training.train_policy import train_policy

    config = replace(
        preset(POLICY_PRESETS, args.preset),
        lora_modules_to_save=tuple(args.lora_train),
        game_conditioning=args.game_conditioning,
        **given(
            args,
            base_model="base_model",
            lora_rank="lora_rank",
            lora_alpha="lora_alpha",
            vision_pretrained="vision_pretrained",
        ),
    )
    config = train_overrides(args, config)
    summary = train_policy(config, args.data, args.out, args.videos)
    print(json.dumps(summary, indent=2, default=str))
    return 0


def _add_eval_policy(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval-policy", help="play a real game with a policy, next to random and the expert"
    )
    p.add_argument("--model", required=True, help="policy folder (or LoRA adapter folder)")
    p.add_argument("--env", default="ALE/Pong-v5", help="the game, e.g. ALE/Breakout-v5")
    p.add_argument("--episodes", type=int, default=5, help="evaluation episodes per player")
    p.add_argument("--seed", type=int, default=0, help="episode seeds derive from it")
    p.add_argument(
        "--out", type=Path, required=True, help="folder for results.json and rollout.mp4"
    )
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


COMMANDS = (
    _add_train_policy,
    _add_eval_policy,
    _add_convert_nitrogen,
)

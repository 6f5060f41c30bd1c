"""`push`: models, datasets and the Space to the Hugging Face Hub."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


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


COMMANDS = (_add_push,)

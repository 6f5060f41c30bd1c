"""The `nitrogen-hf` command: parses arguments and calls the library (heavy imports inside,
so `--help` and `inspect` start fast). One module per stage of the pipeline."""

from __future__ import annotations

import argparse
import logging

from nitrogen_hf.cli import data, hub, idm, labeling, lam, policy

# In pipeline order: data, IDM, labeling, policy, latent actions, then the demo and the Hub.
COMMAND_GROUPS = (data, idm, labeling, policy, lam, hub)


def _version() -> str:
    import nitrogen_hf

    return nitrogen_hf.__version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nitrogen-hf",
        description="NitroGen data, inverse dynamics pseudo-labeling and vision-action policies.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        for add in group.COMMANDS:
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

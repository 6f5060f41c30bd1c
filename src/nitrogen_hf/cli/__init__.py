"""The `nitrogen-hf` command: parses arguments and calls the library (heavy imports inside,
so `--help` and `inspect` start fast). One module per stage of the pipeline."""

from __future__ import annotations

import argparse
import logging
import sys

from nitrogen_hf.cli import data, demo, hub, idm, labeling, lam, policy

# In pipeline order: data, IDM, labeling, policy, latent actions, then the demo and the Hub.
COMMAND_GROUPS = (data, idm, labeling, policy, lam, demo, hub)
# What a wrong input or request raises (a missing file, a bad value, a corrupt video, a missing
# optional package): one line and exit code 2. Anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, OSError, RuntimeError, ImportError)
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def _version() -> str:
    import nitrogen_hf

    return nitrogen_hf.__version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nitrogen-hf",
        description="NitroGen data, inverse dynamics pseudo-labeling and vision-action policies.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
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
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"nitrogen-hf {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"nitrogen-hf {args.command}: {one_line(error)}", file=sys.stderr)
        return EXIT_USER_ERROR


def one_line(error: BaseException) -> str:
    """The error's message on one line (OS errors keep their file name)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, OSError | ValueError) else f"{type(error).__name__}: {text}"

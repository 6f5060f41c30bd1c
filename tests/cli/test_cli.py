"""The command line as a user meets it: help for every option, a version, sensible defaults."""

from __future__ import annotations

import argparse

import pytest

from nitrogen_hf.cli import build_parser, main

from helpers import make_sprite_dataset


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_option_has_help(command):
    missing = [
        a.option_strings or a.dest
        for a in subcommands()[command]._actions
        if a.help is None and a.dest != "help"
    ]
    assert missing == []


def test_version(capsys):
    import nitrogen_hf

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"nitrogen-hf {nitrogen_hf.__version__}"


@pytest.mark.slow
def test_eval_idm_scores_the_only_split_and_says_which(tmp_path, capsys):
    """A dataset built from held-out episodes alone has only a train split."""
    from nitrogen_hf.data.build import BuildConfig, build_dataset

    sprite = make_sprite_dataset(tmp_path / "sprite")
    only = tmp_path / "held_out"
    build_dataset(
        BuildConfig(actions=[sprite.parent / "actions"], videos=sprite.parent / "videos", out=only)
    )
    assert main(["train-idm", "--data", str(sprite), "--out", str(tmp_path / "idm"),
                 "--preset", "debug"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["eval-idm", "--model", str(tmp_path / "idm"), "--data", str(only),
                 "--out", str(tmp_path / "eval")]) == 0  # fmt: skip
    assert "split train;" in capsys.readouterr().out
    assert main(["eval-idm", "--model", str(tmp_path / "idm"), "--data", str(only),
                 "--out", str(tmp_path / "eval"), "--split", "validation"]) == 2  # fmt: skip
    assert "no 'validation' split (found ['train'])" in capsys.readouterr().err

import json

import pytest

from nitrogen_hf.cli import main
from nitrogen_hf.data.hub_dataset import load_chunk_dataset
from nitrogen_hf.demo.runner import STATE_FILE, StageFailed, StageRunner

TIMING_KEYS = ("seconds", "per_second", "samples_per_second", "frames_per_second")


def comparable(value, out: str):
    """A report with its timings dropped and its own folder written as <out>."""
    if isinstance(value, dict):
        return {
            k: comparable(v, out)
            for k, v in value.items()
            if not any(k.endswith(t) for t in TIMING_KEYS) and k != "stage_seconds"
        }
    if isinstance(value, list):
        return [comparable(v, out) for v in value]
    return value.replace(out, "<out>") if isinstance(value, str) else value


@pytest.mark.slow
def test_tiny_demo_runs_end_to_end_resumes_and_repeats_itself(tmp_path, capsys):
    """Every stage (the latent-action section too) runs, a re-run resumes, and a second run in
    another folder gives the same report.json: seeded, step budgets, no luck involved."""
    out = tmp_path / "demo"
    assert main(["demo", "--scale", "tiny", "--out", str(out), "--with-lam"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["closed_loop"]["freeway"]) == {
        "random",
        "expert",
        "a_labeled",
        "b_labeled_pseudo",
        "c_labeled_truth",
    }
    assert (
        report["idm"]["held_out"]["frames"] > 0
        and report["labels"]["quality"]["unfiltered"]["frames"] > 0
    )
    pseudo = load_chunk_dataset(str(out / "ds" / "pseudo"), "train")
    assert set(pseudo["game"]) == {"freeway"}  # labeled with the game's name
    assert report["policy_training"]["b_labeled_pseudo"]["empty_sources"] == []
    assert report["lam"]["probes"] and (out / "lam" / "lam_section.json").is_file()
    assert (
        report["closed_loop"]["freeway"]["expert"]["mean"]
        > report["closed_loop"]["freeway"]["random"]["mean"]
    )
    text = (out / "report.md").read_text()
    for heading in (
        "## Inverse dynamics model",
        "## Pseudo-labels",
        "## Policies in closed loop",
        "## Time per stage",
    ):
        assert heading in text
    assert (out / "policy_scores.png").stat().st_size > 1000 and (
        out / "label_quality.png"
    ).is_file()
    assert "| (b) labeled + pseudo-labels |" in capsys.readouterr().out
    # A re-run finds every stage done and only rewrites the report.
    state = json.loads((out / STATE_FILE).read_text())
    assert main(["demo", "--scale", "tiny", "--out", str(out), "--with-lam"]) == 0
    assert json.loads((out / STATE_FILE).read_text()) == state
    again = tmp_path / "again"
    assert main(["demo", "--scale", "tiny", "--out", str(again), "--with-lam"]) == 0
    second = json.loads((again / "report.json").read_text())
    assert comparable(second, str(again)) == comparable(report, str(out))


def test_a_failing_stage_stops_with_a_clear_message_and_keeps_finished_ones(tmp_path):
    runner = StageRunner(tmp_path)
    assert runner.run("first", lambda: {"value": 1}) == {"value": 1}

    def broken():
        raise ValueError("no such game")

    with pytest.raises(
        StageFailed, match="stage 'second' failed: ValueError: no such game"
    ) as error:
        runner.run("second", broken)
    assert "re-run" in str(error.value)
    again = StageRunner(tmp_path)
    assert again.run("first", lambda: {"value": 2}) == {"value": 1}  # kept, not redone
    assert json.loads((tmp_path / STATE_FILE).read_text())["second"]["status"] == "failed"
    assert again.run("second", lambda: {"fixed": True}) == {"fixed": True}

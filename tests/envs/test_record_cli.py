import json

import pytest

from nitrogen_hf.cli import main
from nitrogen_hf.data.nitrogen_reader import iter_chunks


def test_record_command_writes_the_layout(tmp_path, capsys):
    argv = ["record", "--env", "ALE/Breakout-v5", "--episodes", "2", "--policy", "expert",
            "--fps", "15", "--max-seconds", "1", "--out", str(tmp_path), "--seed", "3"]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [r["video_id"] for r in summary["recorded"]] == [
        "breakout-expert-s3-e000",
        "breakout-expert-s3-e001",
    ]
    chunks = list(iter_chunks(tmp_path / "actions"))
    assert [c.num_frames for c in chunks] == [15, 15]
    assert {c.metadata.fps for c in chunks} == {15.0}
    assert (tmp_path / "videos" / "breakout-expert-s3-e001.mp4").is_file()
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == [
        r["video_id"] for r in summary["recorded"]
    ]


def test_no_overlay_flag_records_walkthroughs(tmp_path, capsys):
    argv = ["record", "--env", "ALE/Pong-v5", "--policy", "random", "--no-overlay",
            "--max-seconds", "0.5", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    assert (
        json.loads(capsys.readouterr().out)["recorded"][0]["video_id"] == "pong-random-s0-e000-wt"
    )
    assert [c.metadata.extra["label_source"] for c in iter_chunks(tmp_path / "ground_truth")] == [
        "ground_truth"
    ]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--fps", "25"], "must divide 60"),
        (["--env", "ALE/MsPacman-v5", "--policy", "expert"], "no expert policy"),
    ],
)
def test_record_command_errors_are_clear(tmp_path, flags, message, capsys):
    assert main(["record", "--out", str(tmp_path), *flags]) == 2
    assert message in capsys.readouterr().err


def test_record_help_lists_every_game(capsys):
    with pytest.raises(SystemExit):
        main(["record", "--help"])
    text = capsys.readouterr().out
    assert "ALE/<Game>-v5" in text and "vizdoom/deathmatch" in text and "crafter/default" in text


def test_record_command_records_doom_at_its_own_rate(tmp_path, capsys):
    argv = ["record", "--env", "vizdoom/basic", "--policy", "expert", "--max-seconds", "0.5",
            "--probe-every", "0", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    (recorded,) = json.loads(capsys.readouterr().out)["recorded"]
    assert recorded["video_id"] == "vizdoom_basic-expert-s0-e000"
    (chunk,) = list(iter_chunks(tmp_path / "actions"))
    assert chunk.metadata.fps == 35.0 and chunk.identifiable is None  # probes off
    capsys.readouterr()
    assert main(["record", "--env", "vizdoom/nope", "--out", str(tmp_path)]) == 2
    assert "scenario of ['basic'" in capsys.readouterr().err

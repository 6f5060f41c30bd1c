"""The Space's backend without a browser: input checks, and labeling the bundled example with
the bundled demo IDM (offline)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nitrogen_hf.space.backend import (
    SpaceConfig,
    SpaceInputError,
    check_video,
    label_clip,
    policy_chunk,
    resolve_checkpoint,
    video_id_of,
)

SPACE_DIR = Path(__file__).resolve().parents[2] / "spaces"
EXAMPLE = SPACE_DIR / "examples" / "breakout.mp4"


@pytest.fixture
def config(tmp_path) -> SpaceConfig:
    return SpaceConfig(SPACE_DIR, work_dir=tmp_path)


def test_the_example_is_a_short_real_recording(config):
    probe = check_video(EXAMPLE, config)
    assert (probe.width, probe.height, probe.fps) == (160, 210, 30.0)
    assert 2 <= probe.seconds <= 10 and EXAMPLE.stat().st_size < 1_000_000


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "is not a video file"),
        ("fake.mp4", b"this is not a video", "cannot be read as a video"),
        ("empty.mp4", b"", "cannot be read as a video"),
    ],
)
def test_bad_uploads_get_a_clear_message(tmp_path, config, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SpaceInputError, match=message):
        check_video(path, config)


def test_nothing_uploaded_and_too_long_are_explained(tmp_path):
    with pytest.raises(SpaceInputError, match="Upload a gameplay video"):
        check_video(None, SpaceConfig(SPACE_DIR))
    with pytest.raises(SpaceInputError, match=r"lasts 8 s; this Space labels at most 5 s"):
        check_video(EXAMPLE, SpaceConfig(SPACE_DIR, max_video_seconds=5))
    with pytest.raises(SpaceInputError, match="takes at most 0 MB"):
        check_video(EXAMPLE, SpaceConfig(SPACE_DIR, max_upload_mb=0.001))


def test_max_seconds_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("NITROGEN_SPACE_MAX_SECONDS", "30")
    assert SpaceConfig.from_env(SPACE_DIR).max_video_seconds == 30.0


def test_checkpoints_resolve_to_the_demo_a_folder_or_a_hub_id(tmp_path):
    assert resolve_checkpoint("", SPACE_DIR / "demo_idm", "idm") == str(SPACE_DIR / "demo_idm")
    assert resolve_checkpoint(" user/my-idm ", SPACE_DIR / "demo_idm", "idm") == "user/my-idm"
    with pytest.raises(SpaceInputError, match="no config.json"):
        resolve_checkpoint(str(tmp_path), SPACE_DIR / "demo_idm", "idm")
    with pytest.raises(SpaceInputError, match="neither a folder here nor a Hub id"):
        resolve_checkpoint("not-a-thing", SPACE_DIR / "demo_idm", "idm")
    with pytest.raises(SpaceInputError, match="bundled demo"):
        resolve_checkpoint("", tmp_path / "missing", "idm")


def test_video_ids_are_file_name_safe():
    assert video_id_of(Path("/tmp/gradio/My Run (1).mp4")) == "My_Run_1"
    assert video_id_of(Path("....mp4")) == "video"


def test_labeling_the_example_with_the_demo_idm(config):
    steps = []
    (row,) = config.label_examples()
    assert row == [str(EXAMPLE), "", False, config.example_min_confidence]
    out = label_clip(EXAMPLE, "", row[3], config, lambda f, message: steps.append(f))
    assert steps[0] == 0.0 and steps[-1] == 1.0 and steps == sorted(steps)
    assert out.video.stat().st_size > 0 and out.timeline.read_bytes()[:4] == b"\x89PNG"
    # The segments tile the whole clip: kept and dropped runs, in order, end to end.
    assert out.segments[0][0] == 0.0 and out.segments[-1][1] == pytest.approx(8.0)
    assert all(a[1] == b[0] for a, b in zip(out.segments[:-1], out.segments[1:], strict=True))
    assert out.segments[-1][3:5] == ["dropped", "end_of_video"]
    kept = sum(row[2] for row in out.segments if row[3] == "kept")
    assert kept == pytest.approx(out.report["hours_kept"] * 3600, abs=0.05)
    with zipfile.ZipFile(out.labels_zip) as archive:
        names = archive.namelist()
    assert "label_report.json" in names
    chunks = out.report["chunks_written"]
    assert chunks >= 1 and kept > 4.0  # the demo IDM labels most of the example at 0.5
    assert sum(n.endswith("actions_processed.parquet") for n in names) == chunks
    assert "**breakout.mp4**: 8.0 s, 240 frames at 30 fps, 160x210" in out.summary
    assert "Confidence threshold 0.50 (flag)" in out.summary


def test_an_unloadable_checkpoint_is_explained(config, tmp_path):
    (tmp_path / "idm").mkdir()
    (tmp_path / "idm" / "config.json").write_text("not json")
    with pytest.raises(SpaceInputError, match="cannot load the IDM"):
        label_clip(EXAMPLE, str(tmp_path / "idm"), None, config)


def test_the_demo_policy_predicts_a_chunk_for_the_example_frame(config, tmp_path):
    frame = np.asarray(Image.open(SPACE_DIR / "examples" / "breakout_frame.png").convert("RGB"))
    rows, plot, summary = policy_chunk(frame, "", None, config, work=tmp_path)
    assert len(rows) == 8 and [row[0] for row in rows] == list(range(8))  # horizon 8
    assert all(len(row) == 6 and -1 <= min(row[2:]) <= max(row[2:]) <= 1 for row in rows)
    assert plot.read_bytes()[:4] == b"\x89PNG" and "predicted 8 steps" in summary
    with pytest.raises(SpaceInputError, match="RGB image"):
        policy_chunk(np.zeros((4, 4)), "", None, config)

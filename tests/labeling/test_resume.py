"""A labeling job killed with SIGKILL part-way resumes to exactly the uninterrupted result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nitrogen_hf.data.video_writer import write_mp4

from helpers import sprite_game

NUM_VIDEOS = 6


def label_command(model: Path, videos: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "nitrogen_hf.cli", "label", "--model", str(model),
        "--videos", str(videos), "--out", str(out), "--chunk-seconds", "2",
        "--min-chunk-seconds", "0.5", "--no-progress",
    ]  # fmt: skip


def run_until_some_videos_are_done(command: list[str], done_dir: Path) -> int:
    """Start the job, SIGKILL it as soon as one video's marker exists; returns markers then."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if done_dir.is_dir() and any(done_dir.glob("*.json")):
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
    return len(list(done_dir.glob("*.json")))


@pytest.mark.slow
def test_a_killed_job_resumes_without_duplicate_or_missing_chunks(tiny_idm, tmp_path, read_chunks):
    videos = tmp_path / "videos"
    for i in range(NUM_VIDEOS):  # each takes a moment, so the kill lands mid-job
        write_mp4(videos / f"v{i}.mp4", sprite_game(240, seed=20 + i)[0], fps=30)
    reference = tmp_path / "reference"
    assert (
        subprocess.run(label_command(tiny_idm, videos, reference), capture_output=True).returncode
        == 0
    )

    out = tmp_path / "killed"
    done_at_kill = run_until_some_videos_are_done(
        label_command(tiny_idm, videos, out), out / "labeled"
    )
    assert 1 <= done_at_kill < NUM_VIDEOS
    result = subprocess.run(label_command(tiny_idm, videos, out), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]

    assert read_chunks(out) == read_chunks(reference)  # same chunk set, same labels
    assert sorted(p.name for p in (out / "labeled").glob("*.json")) == [
        f"v{i}.json" for i in range(NUM_VIDEOS)
    ]
    leftovers = [p for p in (out / "actions").rglob(".*")] + list((out / "labeled").glob(".*"))
    assert leftovers == []  # staging copies of the killed write were cleaned up
    report = json.loads((out / "label_report.json").read_text())
    assert report["videos"]["already_done"] == done_at_kill
    assert report["videos"]["labeled_now"] == NUM_VIDEOS - done_at_kill
    expected = json.loads((reference / "label_report.json").read_text())
    assert report["hours_kept"] == expected["hours_kept"]
    assert report["hours_dropped"] == expected["hours_dropped"]

"""Record short real episodes and read them back through the NitroGen reader."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from nitrogen_hf.actions import ATARI_BUTTONS, BUTTONS, AtariActionMap
from nitrogen_hf.data.nitrogen_reader import iter_chunks
from nitrogen_hf.data.video import open_video
from nitrogen_hf.envs.atari import AtariBackend, make_env
from nitrogen_hf.envs.recorder import RecordConfig, chunk_spans, record

FIELDS = {
    "uuid", "chunk_id", "chunk_size", "game", "controller_type", "bbox_game_area",
    "original_video", "label_source", "env_id", "policy",
}  # fmt: skip
VIDEO_FIELDS = {
    "video_id", "source", "url", "resolution", "start_time", "end_time", "duration",
    "start_frame", "end_frame", "fps",
}  # fmt: skip


def _config(out: Path, **overrides) -> RecordConfig:
    """A 3 s episode in chunks of 1.2 s (36 rows at 30 fps): two full chunks and a short one."""
    values = dict(
        env_id="ALE/Pong-v5",
        policy="sticky",
        max_seconds=3.0,
        chunk_seconds=1.2,
        out=out,
        progress=False,
    )
    return RecordConfig(**{**values, **overrides})


def _replay(env_id: str, env_seed: int, actions: list[int]) -> tuple[np.ndarray, float]:
    """Observations before each action (N, H, W, 3) and the return, played again from the seed."""
    env = make_env(env_id, 30)
    observation, _ = env.reset(seed=env_seed)
    frames, total = [], 0.0
    for action in actions:
        frames.append(observation)
        observation, reward, *_ = env.step(action)
        total += reward
    env.close()
    return np.stack(frames), total


def _decode(path: Path) -> np.ndarray:
    with open_video(path) as video:
        return video.get_frames(range(video.num_frames)).permute(0, 2, 3, 1).numpy()


def _closer_fraction(frames: np.ndarray, right: np.ndarray, wrong: np.ndarray) -> float:
    """Share of frames nearer (L1) to `right` than to `wrong`, among frames where those differ.

    Lossy H.264 moves every pixel a little, so a mean error alone cannot tell an exact match
    from a one-step shift; the nearer candidate can.
    """
    frames, right, wrong = (a.astype(np.int32) for a in (frames, right, wrong))
    differ = (right != wrong).any(axis=(1, 2, 3))
    assert differ.sum() >= 10, "too few frames to compare"
    near = np.abs(frames - right).sum(axis=(1, 2, 3)) < np.abs(frames - wrong).sum(axis=(1, 2, 3))
    return float(near[differ].mean())


def _executed_actions(chunks, meanings) -> list[int]:
    action_map = AtariActionMap(meanings)
    return [action_map.from_buttons(row) for chunk in chunks for row in chunk.actions.buttons]


@pytest.fixture(scope="module")
def overlay_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("overlay")
    summary = record(_config(out))
    return out, summary


@pytest.fixture(scope="module")
def walkthrough_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("walkthrough")
    summary = record(_config(out, overlay=False, policy="random"))
    return out, summary


def test_chunks_read_back_with_every_metadata_field(overlay_run):
    out, summary = overlay_run
    chunks = list(iter_chunks(out / "actions"))
    assert [c.metadata.chunk_size for c in chunks] == [36, 36, 18]
    assert summary["recorded"][0]["frames"] == 90
    for index, chunk in enumerate(chunks):
        raw = json.loads((out / "actions" / chunk.name / "metadata.json").read_text())
        assert FIELDS | {"bbox_controller_overlay"} <= set(raw)
        assert VIDEO_FIELDS <= set(raw["original_video"])
        meta = chunk.metadata
        assert meta.uuid == f"pong-sticky-s0-e000_chunk_{index:04d}_actions"
        assert meta.chunk_id == f"{index:04d}" and meta.game == "pong"
        assert meta.controller_type == "atari_joystick"
        assert meta.extra == {
            "label_source": "overlay",
            "env_id": "ALE/Pong-v5",
            "policy": "sticky",
            "action_space": {"dpad_left": "LEFT", "dpad_right": "RIGHT", "south": "FIRE"},
        }
        video = meta.original_video
        assert video.source == "ale" and video.url.startswith("ale://Pong-v5?seed=")
        assert video.resolution == (210, 160) and video.fps == 30
        assert video.start_frame == 36 * index
        assert video.end_frame == video.start_frame + meta.chunk_size - 1
        assert video.start_time == pytest.approx(video.start_frame / 30)
        assert video.duration == pytest.approx(meta.chunk_size / 30)
        assert meta.bbox_game_area == {"xtl": 0.0, "ytl": 0.0, "xbr": 1.0, "ybr": 1.0}


def test_only_atari_buttons_are_observed(overlay_run):
    out, _ = overlay_run
    chunk = next(iter_chunks(out / "actions"))
    observed = {
        name
        for name, seen in zip(BUTTONS, chunk.actions.observed[: len(BUTTONS)], strict=True)
        if seen
    }
    assert observed == set(ATARI_BUTTONS)
    assert not chunk.actions.observed[len(BUTTONS) :].any()  # no sticks


def test_video_frames_match_rows_and_replayed_actions(overlay_run):
    out, _ = overlay_run
    entry = json.loads((out / "recording.json").read_text())["videos"]["pong-sticky-s0-e000"]
    chunks = list(iter_chunks(out / "actions"))
    frames = _decode(out / entry["video"])
    assert len(frames) == sum(c.num_frames for c in chunks) == entry["frames"]
    actions = _executed_actions(chunks, make_env("ALE/Pong-v5", 30).unwrapped.get_action_meanings())
    replayed, total = _replay("ALE/Pong-v5", entry["env_seed"], actions)
    late, _ = _replay("ALE/Pong-v5", entry["env_seed"], [0, *actions[:-1]])
    assert total == entry["return"]
    x, y, w, h = entry["bbox_controller_overlay"]
    for video in (frames, replayed, late):
        video[:, y : y + h, x : x + w] = 0  # compare the game, not the overlay
    assert np.abs(frames.astype(int) - replayed.astype(int)).mean() < 3.0  # lossy H.264 only
    assert _closer_fraction(frames, replayed, late) > 0.9


def test_overlay_shows_the_pressed_buttons(overlay_run):
    out, _ = overlay_run
    entry = json.loads((out / "recording.json").read_text())["videos"]["pong-sticky-s0-e000"]
    x, y, w, h = entry["bbox_controller_overlay"]
    frames = _decode(out / entry["video"])
    chunks = list(iter_chunks(out / "actions"))
    buttons = np.concatenate([c.actions.buttons for c in chunks])
    panels = frames[:, y : y + h, x : x + w].astype(int)
    states = {tuple(b) for b in buttons}
    assert len(states) > 1
    # Frames showing the same buttons look alike; frames showing different ones do not.
    first = {state: panels[(buttons == state).all(1)].mean(0) for state in states}
    distances = [
        np.abs(a - b).mean()
        for i, a in enumerate(first.values())
        for b in list(first.values())[i + 1 :]
    ]
    assert min(distances) > 2.0


def test_walkthrough_goes_to_ground_truth_with_untouched_frames(walkthrough_run):
    out, _ = walkthrough_run
    assert not (out / "actions").exists()
    chunks = list(iter_chunks(out / "ground_truth"))
    assert chunks and all(c.video_id == "pong-random-s0-e000-wt" for c in chunks)
    assert all(c.metadata.extra["label_source"] == "ground_truth" for c in chunks)
    assert all(c.metadata.bbox_controller_overlay is None for c in chunks)
    entry = json.loads((out / "recording.json").read_text())["videos"]["pong-random-s0-e000-wt"]
    assert entry["overlay"] is False and entry["label_source"] == "ground_truth"
    frames = _decode(out / entry["video"])
    actions = _executed_actions(chunks, make_env("ALE/Pong-v5", 30).unwrapped.get_action_meanings())
    replayed, _ = _replay("ALE/Pong-v5", entry["env_seed"], actions)
    assert np.abs(frames.astype(int) - replayed.astype(int)).mean(axis=(1, 2, 3)).max() < 3.0
    # Frame t is the observation before action t: the observation after it fits worse.
    assert _closer_fraction(frames[:-1], replayed[:-1], replayed[1:]) > 0.9


def test_resume_skips_finished_episodes(tmp_path):
    first = record(_config(tmp_path, max_seconds=1.0))
    video = tmp_path / "videos" / "pong-sticky-s0-e000.mp4"
    stamp = video.stat().st_mtime_ns
    second = record(_config(tmp_path, max_seconds=1.0, episodes=2))
    assert first["skipped"] == [] and second["skipped"] == ["pong-sticky-s0-e000"]
    assert [r["video_id"] for r in second["recorded"]] == ["pong-sticky-s0-e001"]
    assert video.stat().st_mtime_ns == stamp
    assert sorted(json.loads((tmp_path / "recording.json").read_text())["videos"]) == [
        "pong-sticky-s0-e000",
        "pong-sticky-s0-e001",
    ]


def test_missing_files_are_recorded_again_and_identically(tmp_path):
    record(_config(tmp_path, max_seconds=1.0))
    video = tmp_path / "videos" / "pong-sticky-s0-e000.mp4"
    before = [c.actions.buttons for c in iter_chunks(tmp_path / "actions")]
    os.remove(video)
    again = record(_config(tmp_path, max_seconds=1.0))
    assert again["skipped"] == [] and video.exists()
    after = [c.actions.buttons for c in iter_chunks(tmp_path / "actions")]
    assert all((a == b).all() for a, b in zip(before, after, strict=True))
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


def test_changed_settings_for_a_recorded_episode_fail(tmp_path):
    record(_config(tmp_path, max_seconds=1.0))
    with pytest.raises(
        ValueError, match=r"recording\.json.*max_seconds: recorded 1\.0, asked 2\.0"
    ):
        record(_config(tmp_path, max_seconds=2.0))


def test_runs_of_several_games_share_one_folder(tmp_path):
    record(_config(tmp_path, max_seconds=1.0))
    record(_config(tmp_path, env_id="ALE/Breakout-v5", policy="expert", max_seconds=1.0))
    videos = json.loads((tmp_path / "recording.json").read_text())["videos"]
    assert sorted(videos) == ["breakout-expert-s0-e000", "pong-sticky-s0-e000"]
    assert {c.metadata.game for c in iter_chunks(tmp_path / "actions")} == {"pong", "breakout"}


@pytest.mark.parametrize("env_id", ["ALE/MsPacman-v5", "ALE/Freeway-v5"])
def test_games_without_expert_record_with_sticky(tmp_path, env_id):
    summary = record(_config(tmp_path, env_id=env_id, max_seconds=1.0, chunk_seconds=20.0))
    chunks = list(iter_chunks(tmp_path / "actions"))
    assert len(chunks) == 1 and chunks[0].num_frames == summary["recorded"][0]["frames"] == 30
    assert chunks[0].actions.buttons.any()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fps": 25}, r"fps=25 must divide 60"),
        (
            {"env_id": "ALE/MsPacman-v5", "policy": "expert"},
            r"no expert policy for game 'ms_pacman'.*'pong'",
        ),
        ({"env_id": "Pong-v4"}, r"expected 'ALE/<Game>-v5', 'vizdoom/<scenario>'"),
        ({"env_id": "ALE/Pong-v4"}, r"expected a Gymnasium ALE id"),
        ({"env_id": "vizdoom/e1m9"}, r"'vizdoom/e1m9'.*scenario of \['basic'"),
        ({"env_id": "crafter/huge"}, r"'crafter/huge'.*variant of \['default'"),
        ({"env_id": "vizdoom/basic", "fps": 30}, r"fps=30 must divide Doom's 35"),
        ({"policy": "greedy"}, r"expected one of \('random', 'sticky', 'expert'\)"),
        ({"max_seconds": 0.0}, r"at least one frame"),
    ],
)
def test_bad_settings_fail_before_recording(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        _config(tmp_path, **overrides)
    assert not any(tmp_path.iterdir())


def test_unknown_game_names_the_env(tmp_path):
    with pytest.raises(ValueError, match="ALE/NoSuchGame-v5"):
        record(_config(tmp_path, env_id="ALE/NoSuchGame-v5"))


def test_chunk_spans_keep_the_short_tail():
    assert chunk_spans(1250, 600) == [(0, 600), (600, 600), (1200, 50)]
    assert chunk_spans(600, 600) == [(0, 600)]
    assert chunk_spans(1, 600) == [(0, 1)]


class _CrashingPolicy:
    """Plays NOOP, then fails mid-episode like an interrupted run."""

    def reset(self) -> None:
        self.steps = 0

    def act(self, observation, ram, rng) -> int:
        self.steps += 1
        if self.steps > 20:
            raise KeyboardInterrupt
        return 0


def test_interrupted_episode_leaves_no_partial_output(tmp_path, monkeypatch):
    monkeypatch.setattr(AtariBackend, "player", lambda *args: _CrashingPolicy())
    with pytest.raises(KeyboardInterrupt):
        record(_config(tmp_path, max_seconds=2.0))
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != ".recording.json.lock"]
    assert leftovers == []

"""Record a few seconds of ViZDoom and Crafter and read them back through the reader."""

import json

import numpy as np
import pytest

from nitrogen_hf.actions import ACTION_NAMES, STICK_AXES
from nitrogen_hf.data.nitrogen_reader import iter_chunks
from nitrogen_hf.data.video import open_video
from nitrogen_hf.envs.backend import backend_for
from nitrogen_hf.envs.probes import ProbeConfig
from nitrogen_hf.envs.recorder import RecordConfig, record

GAMES = {  # env id -> (player, seconds, frames per second, game)
    "vizdoom/deathmatch": ("sticky", 2.0, 35, "vizdoom_deathmatch"),
    "crafter/default": ("expert", 3.0, 10, "crafter"),
}


def _decode(path) -> np.ndarray:
    with open_video(path) as video:
        return video.get_frames(range(video.num_frames)).permute(0, 2, 3, 1).numpy()


def _replay(env_id: str, env_seed: int, actions: list) -> list[np.ndarray]:
    """Observations before each action, played again from the seed."""
    backend = backend_for(env_id)
    env = backend.make(backend.default_fps)
    observation, frames = env.reset(env_seed), []
    for action in actions:
        frames.append(observation)
        observation = env.step(action).observation
    env.close()
    return frames


@pytest.fixture(scope="module", params=sorted(GAMES))
def recording(request, tmp_path_factory):
    env_id = request.param
    policy, seconds, _, _ = GAMES[env_id]
    out = tmp_path_factory.mktemp(env_id.replace("/", "_"))
    config = RecordConfig(
        env_id=env_id, policy=policy, max_seconds=seconds, chunk_seconds=1.0, out=out,
        probe_every_s=0.5, progress=False,
    )  # fmt: skip
    summary = record(config)
    entry = next(iter(json.loads((out / "recording.json").read_text())["videos"].values()))
    return env_id, out, summary, entry


def test_chunks_read_back_with_game_metadata_and_the_true_action_space(recording):
    env_id, out, summary, entry = recording
    _, seconds, fps, game = GAMES[env_id]
    chunks = list(iter_chunks(out / "actions"))
    assert sum(c.num_frames for c in chunks) == entry["frames"] == round(seconds * fps)
    assert [c.num_frames for c in chunks][0] == fps  # 1 s chunks
    backend = backend_for(env_id)
    env = backend.make(fps)
    for chunk in chunks:
        meta = chunk.metadata
        assert meta.game == game and meta.fps == fps and meta.controller_type == "xboxone"
        assert meta.original_video.source == env_id.split("/")[0]
        assert meta.original_video.url.startswith(f"{env_id.split('/')[0]}://")
        assert meta.extra["action_space"] == backend.action_space(env)
        np.testing.assert_array_equal(chunk.actions.observed, env.controls.observed)
    env.close()
    with open_video(out / entry["video"]) as video:
        assert video.num_frames == entry["frames"] and video.fps == fps


def test_probed_frames_carry_identifiable_masks_over_the_games_dims(recording):
    env_id, out, _, entry = recording
    _, _, fps, _ = GAMES[env_id]
    masks = np.concatenate([c.identifiable for c in iter_chunks(out / "actions")])
    probed = np.flatnonzero((masks >= 0).all(axis=1))
    every = ProbeConfig(every_s=0.5).interval(fps)
    assert len(masks) == entry["frames"] and probed.tolist() == list(range(0, len(masks), every))
    assert entry["probed_frames"] == len(probed)
    expressible = backend_for(env_id).make(fps).controls.expressible
    assert not masks[probed][:, ~expressible].any()  # dims the game lacks never count
    assert masks[probed].any()  # something the player does shows on screen


def test_video_frames_match_a_replay_of_the_written_actions(recording):
    env_id, out, _, entry = recording
    chunks = list(iter_chunks(out / "actions"))
    env = backend_for(env_id).make(GAMES[env_id][2])
    actions = [
        env.controls.from_pad(b, s)
        for c in chunks
        for b, s in zip(c.actions.buttons, c.actions.sticks, strict=True)
    ]  # the executed values written, mapped back to the game's actions
    env.close()
    replayed = np.stack(_replay(env_id, entry["env_seed"], actions))
    frames = _decode(out / entry["video"])
    x, y, w, h = entry["bbox_controller_overlay"]
    frames[:, y : y + h, x : x + w] = replayed[:, y : y + h, x : x + w] = 0
    frames, replayed = frames.astype(int), replayed.astype(int)
    assert np.abs(frames - replayed).mean() < 8.0  # lossy H.264 only (Crafter is all texture)
    # Each frame is nearer its own replayed frame than the next one, where those differ.
    right = np.abs(frames[:-1] - replayed[:-1]).mean(axis=(1, 2, 3))
    shifted = np.abs(frames[:-1] - replayed[1:]).mean(axis=(1, 2, 3))
    differ = (replayed[:-1] != replayed[1:]).any(axis=(1, 2, 3))
    assert differ.sum() >= 10 and (right < shifted)[differ].mean() > 0.9


def test_doom_sticks_are_analog_and_the_overlay_shows_them(recording):
    env_id, out, _, entry = recording
    if not env_id.startswith("vizdoom/"):
        pytest.skip("Crafter has no sticks")
    chunks = list(iter_chunks(out / "actions"))
    sticks = np.concatenate([c.actions.sticks for c in chunks])
    assert len(np.unique(np.round(sticks[:, STICK_AXES.index("j_right.x")], 3))) > 3
    assert np.abs(sticks).max() <= 1.0 and (np.abs(sticks) > 0.3).any()
    x, y, w, h = entry["bbox_controller_overlay"]
    panels = _decode(out / entry["video"])[:, y : y + h, x : x + w].astype(int)
    turn = sticks[:, STICK_AXES.index("j_right.x")]
    left, right = panels[turn < -0.5].mean(0), panels[turn > 0.5].mean(0)
    assert np.abs(left - right).mean() > 1.0  # the right knob sits elsewhere


def test_walkthroughs_have_no_overlay_and_go_to_ground_truth(tmp_path):
    summary = record(
        RecordConfig(env_id="crafter/default", policy="random", overlay=False, max_seconds=0.5,
                     out=tmp_path, progress=False)
    )  # fmt: skip
    (chunk,) = list(iter_chunks(tmp_path / "ground_truth"))
    assert chunk.video_id == "crafter-random-s0-e000-wt" and summary["recorded"][0]["frames"] == 5
    assert chunk.metadata.bbox_controller_overlay is None
    assert not (tmp_path / "actions").exists()
    assert {ACTION_NAMES[d] for d in np.flatnonzero(chunk.actions.observed)} >= {"dpad_up", "south"}

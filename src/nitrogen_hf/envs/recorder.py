"""Play real games and write them in the NitroGen layout (`nitrogen-hf record`).

Any backend of `envs.backend` records the same way (Atari, ViZDoom, Crafter). Frame t of a
video is the observation *before* action t, and action row t is what the player pressed on
seeing it (as executed: sticks after the dead zone and the engine's rounding), so action t
causes the change from frame t to t + 1. With the overlay on, frame t also shows action t's
buttons and stick positions, as a streamer's controller overlay does. Sampled frames are
probed for identifiability (`envs.probes`) and carry an `identifiable` column.

Output folder:
    videos/<video_id>.mp4            H.264 at the game's native frame size
    actions/<video_id>/...           overlay videos: labeled chunks, NitroGen-style
    ground_truth/<video_id>/...      walkthrough videos (no overlay): labels kept aside
    recording.json                   one entry per video; the resume marker
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nitrogen_hf.actions import GamepadActions
from nitrogen_hf.data.nitrogen_writer import ChunkToWrite, chunk_metadata, write_video_chunks
from nitrogen_hf.envs import manifest
from nitrogen_hf.envs.backend import Backend, GameEnv, backend_for
from nitrogen_hf.envs.overlay import GamepadOverlay, OverlayConfig
from nitrogen_hf.envs.policies import Policy
from nitrogen_hf.envs.probes import ProbeConfig, episode_masks

logger = logging.getLogger(__name__)

WALKTHROUGH_MARKER = "-wt"  # video ids of overlay-free videos end with it


@dataclass
class RecordConfig:
    """One `record` run: which game, who plays, how many episodes, where to write."""

    env_id: str = "ALE/Pong-v5"  # ALE/<Game>-v5, vizdoom/<scenario> or crafter/<variant>
    episodes: int = 1
    policy: str = "sticky"  # random | sticky | expert
    overlay: bool = True  # draw the gamepad (labeled data) or not (walkthrough)
    fps: int | None = None  # video and action rate; None = the game's (Atari 30, Doom 35)
    max_seconds: float = 120.0  # cap on each episode's length
    out: Path = Path("recordings")
    seed: int = 0  # env and policy seeds of every episode derive from it
    chunk_seconds: float = 20.0  # NitroGen chunk length: 600 rows at 30 fps
    crf: int = 18  # H.264 quality: visually lossless
    progress: bool = True  # a tqdm bar per episode
    overlay_style: OverlayConfig = field(default_factory=OverlayConfig)
    probe_every_s: float | None = None  # identifiability probes; None = the game's, 0 = off

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        backend = self.backend
        self.fps = backend.default_fps if self.fps is None else self.fps
        backend.check_fps(self.fps)
        backend.check_player(self.policy)
        if self.probe_every_s is not None and self.probe_every_s < 0:
            raise ValueError(f"probe_every_s ({self.probe_every_s}) must be >= 0 (0: no probes)")
        if self.episodes < 0 or self.seed < 0:
            raise ValueError(f"episodes ({self.episodes}) and seed ({self.seed}) must be >= 0")
        if self.max_seconds * self.fps < 1 or self.chunk_seconds * self.fps < 1:
            raise ValueError(
                f"max_seconds ({self.max_seconds}) and chunk_seconds ({self.chunk_seconds}) "
                f"must each last at least one frame at {self.fps} fps"
            )

    @property
    def backend(self) -> Backend:
        return backend_for(self.env_id)

    @property
    def probe(self) -> ProbeConfig:
        default = self.backend.probe
        if self.probe_every_s is None:
            return default
        return ProbeConfig(every_s=self.probe_every_s, horizon=default.horizon)

    @property
    def max_frames(self) -> int:
        return int(round(self.max_seconds * self.fps))

    @property
    def chunk_frames(self) -> int:
        return int(round(self.chunk_seconds * self.fps))

    @property
    def label_folder(self) -> str:
        return "actions" if self.overlay else "ground_truth"


@dataclass
class EpisodeResult:
    """What was played: the executed env actions (one per recorded frame) and the score."""

    actions: list[Any]  # the game's own actions (indices, or engine-value tuples)
    total_return: float
    terminated: bool  # the game ended (as opposed to the time cap or the env's limit)
    snapshots: dict[int, Any] = field(default_factory=dict)  # frame -> state, for probing


def video_id_for(game: str, policy: str, seed: int, episode: int, overlay: bool) -> str:
    """Readable, unique per (game, policy, seed, episode, overlay): 'pong-sticky-s0-e000'."""
    marker = "" if overlay else WALKTHROUGH_MARKER
    return f"{game}-{policy}-s{seed}-e{episode:03d}{marker}"


def episode_seeds(seed: int, episode: int) -> tuple[int, np.random.Generator]:
    """(env seed, policy rng) of one episode, both derived from the run seed and the index."""
    sequence = np.random.SeedSequence([seed, episode])
    env_seed = int(sequence.generate_state(1)[0])
    return env_seed, np.random.default_rng(sequence.spawn(1)[0])


def play_episode(
    env: GameEnv,
    policy: Policy,
    env_seed: int,
    rng: np.random.Generator,
    max_frames: int,
    on_frame: Callable[[np.ndarray, Any], None] | None = None,
    progress: str | None = None,
    snapshot_every: int = 0,
) -> EpisodeResult:
    """Play until the game ends or `max_frames`; `on_frame(observation, action)` sees each frame.

    Every `snapshot_every`-th frame (0: none) the state before its action is kept for
    probing. `progress` names a tqdm bar (None: no bar).
    """
    from tqdm.auto import tqdm

    observation = env.reset(env_seed)
    policy.reset()
    result = EpisodeResult([], 0.0, False)
    with tqdm(
        total=max_frames, desc=progress, unit="frame", disable=progress is None, leave=False
    ) as bar:
        while len(result.actions) < max_frames:
            if snapshot_every and len(result.actions) % snapshot_every == 0:
                result.snapshots[len(result.actions)] = env.snapshot()
            action = policy.act(observation, env.info(), rng)
            if on_frame is not None:
                on_frame(observation, action)
            result.actions.append(action)
            step = env.step(action)
            observation, result.total_return = step.observation, result.total_return + step.reward
            bar.update()
            if step.terminated or step.truncated:
                result.terminated = step.terminated
                break
    return result


def episode_chunks(
    config: RecordConfig, video_id: str, env_seed: int, resolution: tuple[int, int],
    box: tuple[int, int, int, int] | None, actions: GamepadActions,
    identifiable: np.ndarray | None, action_space: dict[str, str],
) -> list[ChunkToWrite]:  # fmt: skip
    """The episode's chunks with every field of the format; `action_space` (gamepad dim ->
    game control) says what the controller really drives."""
    backend, fps = config.backend, config.fps
    extra = {
        "label_source": "overlay" if config.overlay else "ground_truth",
        "env_id": config.env_id,
        "policy": config.policy,
        "action_space": action_space,
    }
    chunks = []
    for index, (start, size) in enumerate(chunk_spans(len(actions), config.chunk_frames)):
        rows = slice(start, start + size)
        meta = chunk_metadata(
            video_id, index, start, start + size, fps,
            resolution=resolution, source=backend.source, game=backend.game,
            controller_type=backend.controller_type, url=backend.url(env_seed, fps),
            overlay_box=box, extra=extra,
        )  # fmt: skip
        masks = None if identifiable is None else identifiable[rows]
        chunks.append(ChunkToWrite(meta, actions[rows], identifiable=masks))
    return chunks


def record_episode(
    env: GameEnv, config: RecordConfig, episode: int, overlay: GamepadOverlay | None
) -> dict[str, Any]:
    """Record one episode (video, then probes, then chunks) and return its recording.json entry."""
    from nitrogen_hf.data.video_writer import Mp4Writer

    backend, probe = config.backend, config.probe
    video_id = video_id_for(backend.game, config.policy, config.seed, episode, config.overlay)
    env_seed, rng = episode_seeds(config.seed, episode)
    policy = backend.player(config.policy, env, config.fps)
    draw = _frame_drawer(overlay, env.controls)
    height, width = env.frame_shape
    video_path = config.out / "videos" / f"{video_id}.mp4"
    with Mp4Writer(video_path, config.fps, width, height, crf=config.crf) as writer:
        result = play_episode(
            env, policy, env_seed, rng, config.max_frames,
            on_frame=lambda observation, action: writer.write(draw(observation, action)),
            progress=video_id if config.progress else None,
            snapshot_every=probe.interval(config.fps),
        )  # fmt: skip
    identifiable = None
    if result.snapshots:
        identifiable = episode_masks(env, result.snapshots, result.actions, probe.horizon)
    box = overlay.box if overlay is not None else None
    frames = len(result.actions)
    actions = env.controls.to_gamepad(result.actions)
    chunks = episode_chunks(
        config, video_id, env_seed, (height, width), box, actions, identifiable,
        backend.action_space(env),
    )  # fmt: skip
    root = config.out / config.label_folder
    paths = [root / name for name in write_video_chunks(root, video_id, chunks)]
    return {
        **_settings(config, episode),
        "video_id": video_id,
        "game": backend.game,
        "env_seed": env_seed,
        "return": result.total_return,
        "frames": frames,
        "seconds": frames / config.fps,
        "terminated": result.terminated,
        "truncated": not result.terminated,  # cut by max_seconds or the env's own time limit
        "video": video_path.relative_to(config.out).as_posix(),
        "label_source": chunks[0].metadata.extra["label_source"],
        "chunks": [p.relative_to(config.out).as_posix() for p in paths],
        "bbox_controller_overlay": list(box) if box else None,
        "probed_frames": len(result.snapshots),
    }


def chunk_spans(num_frames: int, chunk_frames: int) -> list[tuple[int, int]]:
    """(start, size) of consecutive chunks; the last one keeps its true, shorter size."""
    return [
        (start, min(chunk_frames, num_frames - start))
        for start in range(0, num_frames, chunk_frames)
    ]


def _frame_drawer(
    overlay: GamepadOverlay | None, controls: Any
) -> Callable[[np.ndarray, Any], np.ndarray]:
    """The video frame for (observation, action): with the executed pad drawn, or as is."""
    if overlay is None:
        return lambda observation, action: observation
    return lambda observation, action: overlay.draw(observation, *controls.to_pad(action))


def record(config: RecordConfig) -> dict[str, Any]:
    """Record `config.episodes` episodes, skipping those already complete in `config.out`."""
    env = config.backend.make(config.fps)
    height, width = env.frame_shape
    overlay = GamepadOverlay(height, width, config.overlay_style) if config.overlay else None
    game = config.backend.game
    recorded, skipped, started = [], [], time.perf_counter()
    try:
        for episode in range(config.episodes):
            video_id = video_id_for(game, config.policy, config.seed, episode, config.overlay)
            entry = manifest.load_manifest(config.out).get(video_id)
            if manifest.is_complete(config.out, entry, _settings(config, episode)):
                skipped.append(video_id)
                continue
            entry = record_episode(env, config, episode, overlay)
            manifest.add_entry(config.out, entry)
            recorded.append({k: entry[k] for k in ("video_id", "return", "frames", "terminated")})
            logger.info(
                "%s: return %.1f over %d frames", video_id, entry["return"], entry["frames"]
            )
    finally:
        env.close()
    seconds = time.perf_counter() - started
    frames = sum(r["frames"] for r in recorded)
    return {
        "out": str(config.out),
        "env_id": config.env_id,
        "policy": config.policy,
        "overlay": config.overlay,
        "recorded": recorded,
        "skipped": skipped,
        "frames_recorded": frames,
        "wall_seconds": round(seconds, 3),
        "frames_per_second": round(frames / seconds, 1) if frames else None,
    }


def _settings(config: RecordConfig, episode: int) -> dict[str, Any]:
    """The fields of an entry that must match for a re-run to reuse it."""
    return {
        "env_id": config.env_id,
        "policy": config.policy,
        "seed": config.seed,
        "episode": episode,
        "overlay": config.overlay,
        "fps": config.fps,
        "max_seconds": config.max_seconds,
    }

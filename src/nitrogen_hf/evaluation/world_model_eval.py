"""Controllability of a world model (Genie's delta-PSNR) and side-by-side rollout videos.

Clips of real frames are rolled out autoregressively from their first C frames, once with
the actions inferred for the clip (latent codes from the LAM, or the true gamepad labels)
and once with random actions. If the actions steer the model, the inferred ones reproduce
the clip better: delta-PSNR = PSNR(inferred, real) - PSNR(random, real) > 0.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nitrogen_hf.actions import GamepadActions
from nitrogen_hf.data.nitrogen_reader import ChunkError
from nitrogen_hf.data.windows import ReaderCache, WindowConfig, load_chunk_frames

logger = logging.getLogger("nitrogen_hf")


@dataclass
class RolloutClips:
    """M clips of C context frames followed by S frames to generate."""

    frames: torch.Tensor  # (M, C+S, 3, H, W) uint8
    actions: torch.Tensor  # (M, S, 25) true model vectors of the S transitions (x observed)
    games: np.ndarray  # (M,) str

    def __len__(self) -> int:
        return len(self.frames)


def psnr(generated: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of 0-255 images over their last three dims: (..., 3, H, W) -> (...)."""
    return psnr_of_mse(squared_error(generated, real))


def squared_error(generated: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean squared error of 0-255 images over their last three dims."""
    return ((generated.float() - real.float()) ** 2).mean(dim=(-3, -2, -1))


def psnr_of_mse(mse: torch.Tensor) -> torch.Tensor:
    return 10.0 * torch.log10(255.0**2 / mse.clamp_min(1e-3))


def clip_starts(num_frames: int, length: int, per_chunk: int) -> list[int]:
    """Up to `per_chunk` evenly spaced, non-overlapping clip starts in a chunk."""
    count = min(per_chunk, num_frames // length)
    if count == 0:
        return []
    return np.linspace(0, num_frames - length, count).round().astype(int).tolist()


def collect_clips(
    rows,
    frame_size: tuple[int, int],
    context: int,
    steps: int,
    per_chunk: int = 4,
    max_chunks: int | None = None,
    backend: str = "auto",
) -> RolloutClips:
    """Clips of `context + steps` frames cut from labeled chunk rows."""
    length = context + steps
    config = WindowConfig(frame_size=tuple(frame_size), backend=backend, shuffle=False)
    readers, skipped, chunks = ReaderCache(backend), Counter(), 0
    frames, actions, games = [], [], []
    for row in rows:
        if max_chunks is not None and chunks >= max_chunks:
            break
        starts = clip_starts(row["num_frames"], length, per_chunk)
        if not starts:
            continue
        steps_needed = np.unique(np.concatenate([np.arange(s, s + length) for s in starts]))
        try:
            _, decoded = load_chunk_frames(row, steps_needed, readers, config)
        except ChunkError as error:
            skipped[error.kind] += 1
            logger.warning("skipped chunk %s: %s", row["uuid"], error)
            continue
        truth = GamepadActions(
            np.asarray(row["buttons"]), np.asarray(row["sticks"]), np.asarray(row["observed"])
        )
        vectors = torch.from_numpy(truth.to_vector() * truth.observed)
        position = {int(s): i for i, s in enumerate(steps_needed)}
        for s in starts:
            frames.append(decoded[position[s] : position[s] + length])
            actions.append(vectors[s + context - 1 : s + length - 1])
            games.append(row["game"] or "unknown")
        chunks += 1
    readers.close()
    if not frames:
        raise RuntimeError(f"no clip of {length} frames could be cut (skipped: {dict(skipped)})")
    return RolloutClips(torch.stack(frames), torch.stack(actions), np.array(games, dtype=object))


def inferred_actions(world_model, clips: RolloutClips, lam=None) -> torch.Tensor:
    """The actions of each clip: (M, S) LAM codes for a latent model, else the (M, S, 25) true
    labels (what a player would press, whatever labels the model was trained on)."""
    if world_model.config.action_type != "latent":
        return clips.actions
    if lam is None:
        raise ValueError("a latent-action world model needs the LAM to infer its actions")
    if lam.config.context_frames > world_model.config.context_frames:
        raise ValueError(
            f"LAM context {lam.config.context_frames} > world model context "
            f"{world_model.config.context_frames}: some transitions would have no code"
        )
    steps = clips.frames.shape[1] - world_model.config.context_frames
    return torch.stack([lam.encode_clip(clip).codes[-steps:] for clip in clips.frames])


def random_actions(world_model, actions: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Uniform random codes (Genie), or for gamepad models the labels of other clips (random
    vectors would be out of distribution: the labels' marginal is kept, the pairing broken)."""
    generator = torch.Generator().manual_seed(seed)
    if world_model.config.action_type == "latent":
        return torch.randint(
            world_model.config.num_latent_actions, actions.shape, generator=generator
        )
    return actions[torch.randperm(len(actions), generator=generator)]


def rollouts(world_model, clips: RolloutClips, actions: torch.Tensor, batch_size: int = 32):
    """(M, S, 3, H, W) uint8 generated from each clip's first C frames."""
    c = world_model.config.context_frames
    world_model.eval()
    return torch.cat(
        [
            world_model.rollout(clips.frames[i : i + batch_size, :c], actions[i : i + batch_size])
            for i in range(0, len(clips), batch_size)
        ]
    )


def controllability(world_model, clips: RolloutClips, lam=None, seed: int = 0) -> dict:
    """Per-step and mean PSNR of rollouts with inferred vs random actions, their difference
    (delta-PSNR), and the copy-last-frame baseline; overall and per game."""
    c = world_model.config.context_frames
    real = clips.frames[:, c:]
    inferred = inferred_actions(world_model, clips, lam)
    generated = {
        "inferred": rollouts(world_model, clips, inferred),
        "random": rollouts(world_model, clips, random_actions(world_model, inferred, seed)),
        "copy": clips.frames[:, c - 1 : c].expand_as(real),
    }
    errors = {name: squared_error(frames, real) for name, frames in generated.items()}  # (M, S)
    result = {"overall": _summarise(errors, slice(None)), "clips": len(clips)}
    for game in sorted(set(clips.games.tolist())):
        result[str(game)] = _summarise(errors, torch.from_numpy(clips.games == game))
    result["steps"] = real.shape[1]
    return result


def _summarise(errors: dict[str, torch.Tensor], rows) -> dict:
    """PSNR per step of the clips' mean squared error: a mean of per-clip PSNRs would let
    clips where nothing moves (unbounded PSNR) drown out the rest."""
    per_step = {name: psnr_of_mse(e[rows].mean(0)) for name, e in errors.items()}
    delta = per_step["inferred"] - per_step["random"]
    return {
        "psnr_inferred": float(per_step["inferred"].mean()),
        "psnr_random": float(per_step["random"].mean()),
        "psnr_copy": float(per_step["copy"].mean()),
        "delta_psnr": float(delta.mean()),
        "delta_psnr_last_step": float(delta[-1]),
        "delta_psnr_per_step": [round(float(d), 3) for d in delta],
    }


def write_rollout_video(
    path: str | Path,
    real: torch.Tensor,
    generated: list[torch.Tensor],
    fps: int = 10,
    scale: int = 3,
) -> Path:
    """mp4 of one clip, panels side by side: real | each generated rollout.

    real: (C+S, 3, H, W) uint8; generated: rollouts (S, 3, H, W) uint8, shown after the C real
    context frames (which every panel shares). The video has C+S frames.
    """
    from nitrogen_hf.data.video_writer import write_mp4

    c = len(real) - len(generated[0])
    panels = [real] + [torch.cat([real[:c], g]) for g in generated]
    gap = torch.full((len(real), 3, real.shape[-2], 2), 255, dtype=torch.uint8)
    strip = torch.cat([p if i == 0 else torch.cat([gap, p], -1) for i, p in enumerate(panels)], -1)
    strip = strip.repeat_interleave(scale, -2).repeat_interleave(scale, -1)
    frames = strip.permute(0, 2, 3, 1).numpy()
    return write_mp4(path, _even(frames), fps=fps)


def _even(frames: np.ndarray) -> np.ndarray:
    """Crop to even height and width (H.264 yuv420p)."""
    h, w = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    return np.ascontiguousarray(frames[:, :h, :w])


def rollout_video(
    world_model, clips: RolloutClips, path: str | Path, lam=None, index: int = 0, seed: int = 0
) -> Path:
    """Video of clip `index`: real | rollout with inferred actions | rollout with random ones."""
    inferred = inferred_actions(world_model, clips, lam)
    random = random_actions(world_model, inferred, seed)
    one = slice(index, index + 1)
    clip = RolloutClips(clips.frames[one], clips.actions[one], clips.games[one])
    panels = [rollouts(world_model, clip, actions[one])[0] for actions in (inferred, random)]
    return write_rollout_video(path, clip.frames[0], panels)

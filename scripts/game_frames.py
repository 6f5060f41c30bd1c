"""Save one frame of each recorded game with its controller overlay, for the README.

The scripted expert plays a few seconds (in ViZDoom, on until a monster is in view); that
frame is drawn with the gamepad state it executes (sticks included) and saved, upscaled 2x
(nearest), as PNG:

    python scripts/game_frames.py --out scripts/results/frames
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from nitrogen_hf.envs.backend import backend_for
from nitrogen_hf.envs.overlay import GamepadOverlay

GAMES = {"vizdoom/deathmatch": 120, "vizdoom/freedoom2_map01": 200, "crafter/default": 60}
MAX_FRAMES = 3000  # give up waiting for a monster after this many frames
MIN_MONSTER_AREA = 200  # pixels of the 160x120 frame: near enough to see


def _monster_in_view(info) -> bool:
    labels = getattr(info, "labels", None)
    return labels is None or any(
        label.object_category == "Monster" and label.width * label.height >= MIN_MONSTER_AREA
        for label in labels
    )


def game_frame(env_id: str, frames: int, seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8: the frame after at least `frames` expert steps, overlay drawn."""
    backend = backend_for(env_id)
    env = backend.make(backend.default_fps)
    player = backend.player("expert", env, backend.default_fps)
    rng, observation = np.random.default_rng(seed), env.reset(seed)
    for t in range(MAX_FRAMES):
        if t >= frames and _monster_in_view(env.info()):
            break
        action = player.act(observation, env.info(), rng)
        observation = env.step(action).observation
    action = player.act(observation, env.info(), rng)
    overlay = GamepadOverlay(*env.frame_shape)
    env.close()
    return overlay.draw(observation, *env.controls.to_pad(action))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("scripts/results/frames"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for env_id, frames in GAMES.items():
        image = Image.fromarray(game_frame(env_id, frames))
        image = image.resize((image.width * 2, image.height * 2), Image.NEAREST)
        path = args.out / f"{env_id.replace('/', '_')}.png"
        image.save(path, optimize=True)
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()

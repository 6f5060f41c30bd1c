"""Gymnasium ALE environments for recording: naming, frame rate, deterministic actions."""

from __future__ import annotations

import re
from typing import Any

# The Atari 2600 renders 60 frames per second (NTSC); recordings sample every k-th frame.
ALE_FRAME_RATE = 60
CONTROLLER_TYPE = "atari_joystick"
_ENV_ID = re.compile(r"^ALE/(?P<rom>[A-Za-z0-9]+)-v5$")


def frameskip_for(fps: int) -> int:
    """ALE frames per recorded frame; `fps` must divide 60 so each step is a whole frame count."""
    if not isinstance(fps, int) or fps <= 0 or ALE_FRAME_RATE % fps:
        divisors = [d for d in range(1, ALE_FRAME_RATE + 1) if ALE_FRAME_RATE % d == 0]
        raise ValueError(f"fps={fps!r} must divide {ALE_FRAME_RATE}; use one of {divisors}")
    return ALE_FRAME_RATE // fps


def rom_name(env_id: str) -> str:
    """'ALE/MsPacman-v5' -> 'MsPacman'; only v5 ids, whose defaults the recorder relies on."""
    match = _ENV_ID.match(env_id)
    if match is None:
        raise ValueError(f"env id {env_id!r}: expected a Gymnasium ALE id like 'ALE/Pong-v5'")
    return match["rom"]


def game_name(env_id: str) -> str:
    """Snake-case game name for metadata and video ids: 'ALE/MsPacman-v5' -> 'ms_pacman'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", rom_name(env_id)).lower()


def make_env(env_id: str, fps: int) -> Any:
    """An ALE env stepping `60 // fps` frames per action, with the minimal action set.

    ALE v5 repeats the previous action with probability 0.25 ("sticky actions"); that is
    turned off here so the action written to the parquet is the one the emulator executed.
    """
    import ale_py
    import gymnasium as gym

    rom_name(env_id)
    gym.register_envs(ale_py)
    try:
        return gym.make(env_id, frameskip=frameskip_for(fps), repeat_action_probability=0.0)
    except gym.error.Error as error:
        raise ValueError(f"env id {env_id!r}: Gymnasium cannot make it ({error})") from error

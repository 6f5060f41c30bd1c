"""Crafter, a top-down open world of survival and crafting, as a recordable game.

Env ids are `crafter/<variant>` for the variants in VARIANTS. Crafter advances one step per
action with no clock of its own; a recording shows one step per frame at the chosen fps
(10 by default: brisk but readable, twice the pace of Crafter's own viewer). A snapshot is
a deep copy of the world, so rollouts never touch the live game.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nitrogen_hf.actions import CRAFTER_BUTTONS, CrafterActionMap
from nitrogen_hf.envs.backend import Step
from nitrogen_hf.envs.catalog import VARIANTS, CrafterVariant
from nitrogen_hf.envs.probes import ProbeConfig

CONTROLLER_TYPE = "xboxone"
MAX_FPS = 60


def variant_name(env_id: str) -> str:
    """'crafter/default' -> 'default'; unknown variants name the known ones."""
    name = env_id.removeprefix("crafter/")
    if not env_id.startswith("crafter/") or name not in VARIANTS:
        raise ValueError(
            f"env id {env_id!r}: expected 'crafter/<variant>' with a variant of {sorted(VARIANTS)}"
        )
    return name


@dataclass
class CrafterView:
    """What the scripted player reads: the world map, the player and its inventory.

    Crafter keeps these on private attributes of its env; they are read here only.
    """

    materials: np.ndarray  # (area, area) str material names, indexed [x, y]
    objects: dict[tuple[int, int], str]  # position -> class name (Cow, Zombie, Plant, ...)
    position: tuple[int, int]
    facing: tuple[int, int]
    inventory: dict[str, int]
    achievements: dict[str, int]  # unlock counts
    sleeping: bool
    daylight: float


def read_view(env: Any) -> CrafterView:
    world, player = env._world, env._player
    names = np.array([world._mat_names.get(i) or "none" for i in range(len(world._mat_names))])
    objects = {
        (int(o.pos[0]), int(o.pos[1])): type(o).__name__ for o in world.objects if o is not player
    }
    return CrafterView(
        names[world._mat_map],
        objects,
        (int(player.pos[0]), int(player.pos[1])),
        (int(player.facing[0]), int(player.facing[1])),
        dict(player.inventory),
        dict(player.achievements),
        bool(player.sleeping),
        float(world.daylight),
    )


class CrafterGame:
    """One Crafter world as a `GameEnv`; actions index CRAFTER_ACTIONS."""

    def __init__(self, variant: CrafterVariant):
        self.variant = variant
        self.controls = CrafterActionMap()
        self.frame_shape = (variant.size, variant.size)
        self.env: Any = None

    def reset(self, seed: int) -> np.ndarray:
        try:
            import crafter
        except ImportError as error:
            raise ImportError("Crafter is not installed: pip install crafter") from error
        v = self.variant
        self.env = crafter.Env(
            area=(v.area, v.area), view=(v.view, v.view), size=(v.size, v.size),
            length=v.length, seed=seed,
        )  # fmt: skip
        return self.env.reset()

    def step(self, action: int) -> Step:
        observation, reward, done, _ = self.env.step(int(action))
        dead = self.env._player.health <= 0
        return Step(observation, float(reward), bool(dead), bool(done and not dead))

    def info(self) -> CrafterView:
        return read_view(self.env)

    def snapshot(self) -> Any:
        return self._copy(self.env)

    def rollout(self, snapshot: Any, actions: Sequence[int]) -> list[np.ndarray]:
        env, frames = self._copy(snapshot), []
        for action in actions:
            observation, _, done, _ = env.step(int(action))
            frames.append(observation)
            if done:
                break
        return frames

    @staticmethod
    def _copy(env: Any) -> Any:
        """A deep copy sharing the (read-only) texture cache."""
        return copy.deepcopy(env, {id(env._textures): env._textures})

    def close(self) -> None:
        self.env = None


@dataclass(frozen=True)
class CrafterBackend:
    """`crafter/<variant>`: movement on the d-pad, do / place / make on buttons."""

    env_id: str
    game: str = "crafter"
    source: str = "crafter"
    controller_type: str = CONTROLLER_TYPE
    default_fps: int = 10
    # A step's effect shows in the next frame: compare two; every 2 s (16 rollouts each).
    probe: ProbeConfig = ProbeConfig(every_s=2.0, horizon=2)

    def __post_init__(self) -> None:
        variant_name(self.env_id)

    @property
    def variant(self) -> CrafterVariant:
        return VARIANTS[variant_name(self.env_id)]

    def check_fps(self, fps: int) -> None:
        if not isinstance(fps, int) or not 1 <= fps <= MAX_FPS:
            raise ValueError(f"fps={fps!r}: Crafter records at any whole rate in 1..{MAX_FPS}")

    def check_player(self, name: str) -> None:
        from nitrogen_hf.envs.policies import POLICIES

        if name not in POLICIES:
            raise ValueError(f"policy {name!r}: expected one of {POLICIES}")

    def has_expert(self) -> bool:
        return True

    def make(self, fps: int) -> CrafterGame:
        self.check_fps(fps)
        return CrafterGame(self.variant)

    def player(self, name: str, env: CrafterGame, fps: int) -> Any:
        from nitrogen_hf.envs.crafter_expert import CrafterExpert
        from nitrogen_hf.envs.policies import RandomPolicy, StickyPolicy

        self.check_player(name)
        meanings = list(env.controls.meanings)
        if name == "random":
            return RandomPolicy(meanings)
        if name == "sticky":
            return StickyPolicy(meanings, fps)
        return CrafterExpert()

    def url(self, env_seed: int, fps: int) -> str:
        return f"crafter://{variant_name(self.env_id)}?seed={env_seed}"

    def action_space(self, env: CrafterGame) -> dict[str, str]:
        return {buttons[0]: action for action, buttons in CRAFTER_BUTTONS.items() if buttons}

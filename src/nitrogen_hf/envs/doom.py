"""ViZDoom (Freedoom game data) as a recordable game: scenarios, the env, its backend.

Env ids are `vizdoom/<scenario>` for the scenarios in SCENARIOS. Every scenario gets the
same engine buttons (analog move, strafe, turn, look; attack, use, weapon change) mapped
once in `actions.DoomActionMap`; a scenario enables only the controls its designers meant
(e.g. `basic` strafes and shoots) and the others execute as zero. The engine runs 35 tics
per second; a recording at `fps` advances 35 / fps tics per frame.

ViZDoom's save games advance the game as they save, so a snapshot is instead the frame
index: `rollout` replays the episode's actions in a second game instance (same seed, same
actions, the same frames: the engine is deterministic), then plays on.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nitrogen_hf.actions import DOOM_BUTTONS, DOOM_ENGINE_BUTTONS, DOOM_STICK_AXES, DoomActionMap
from nitrogen_hf.envs.backend import Step
from nitrogen_hf.envs.catalog import SCENARIOS, DoomScenario
from nitrogen_hf.envs.probes import ProbeConfig

TIC_RATE = 35  # Doom's fixed game rate
CONTROLLER_TYPE = "xboxone"  # the dual-stick pad the overlay draws
SCREEN = "RES_160X120"  # small frames: fast to render and to encode
EPISODE_OVER = np.zeros(0, np.uint8)  # rollout frame of a step that ended the episode
GAME_VARIABLES = ("POSITION_X", "POSITION_Y", "ANGLE", "PITCH", "HEALTH", "SELECTED_WEAPON_AMMO")


def scenario_name(env_id: str) -> str:
    """'vizdoom/deathmatch' -> 'deathmatch'; unknown scenarios name the known ones."""
    name = env_id.removeprefix("vizdoom/")
    if not env_id.startswith("vizdoom/") or name not in SCENARIOS:
        raise ValueError(
            f"env id {env_id!r}: expected 'vizdoom/<scenario>' with a scenario of {sorted(SCENARIOS)}"
        )
    return name


def _import_vizdoom() -> Any:
    try:
        import vizdoom
    except ImportError as error:
        raise ImportError("ViZDoom is not installed: pip install vizdoom") from error
    return vizdoom


def make_game(scenario: DoomScenario, seed: int | None = None) -> Any:
    """A headless `vizdoom.DoomGame` for `scenario` with our buttons, 160x120 RGB frames,
    and the labels and depth buffers the scripted player reads."""
    vzd = _import_vizdoom()
    game = vzd.DoomGame()
    path = os.path.join(vzd.scenarios_path, scenario.config)
    if not game.load_config(path):
        raise ValueError(f"{path}: ViZDoom could not read this scenario config")
    if scenario.doom_map:
        game.set_doom_map(scenario.doom_map)
    # The engine writes its settings file; keep it out of the working directory.
    game.set_doom_config_path(os.path.join(tempfile.gettempdir(), "nitrogen_hf_vizdoom.ini"))
    game.set_window_visible(False)
    game.set_mode(vzd.Mode.PLAYER)
    game.set_screen_resolution(getattr(vzd.ScreenResolution, SCREEN))
    game.set_screen_format(vzd.ScreenFormat.RGB24)
    game.set_audio_buffer_enabled(False)
    game.set_automap_buffer_enabled(False)
    game.set_labels_buffer_enabled(True)
    game.set_depth_buffer_enabled(True)
    # The status bar's face draws from the game's random numbers, so a replay that skips
    # rendering would play a different game; without it replays are exact.
    game.set_render_hud(False)
    game.set_available_buttons([getattr(vzd.Button, b) for b in DOOM_ENGINE_BUTTONS])
    game.set_available_game_variables([getattr(vzd.GameVariable, v) for v in GAME_VARIABLES])
    if scenario.kill_reward:
        game.set_kill_reward(scenario.kill_reward)
    if seed is not None:
        game.set_seed(seed)
    game.init()
    return game


class DoomGameEnv:
    """One scenario as a `GameEnv`; actions are DoomActionMap engine vectors."""

    def __init__(self, scenario: DoomScenario, fps: int):
        self.scenario = scenario
        self.tics = TIC_RATE // fps
        self.controls = DoomActionMap(scenario.controls)
        self.game = make_game(scenario)
        self.frame_shape = (self.game.get_screen_height(), self.game.get_screen_width())
        self._replay: Any = None  # second instance for rollouts, made on first use
        self._seed, self._history, self._state = 0, [], None

    def reset(self, seed: int) -> np.ndarray:
        self._seed, self._history = seed, []
        self.game.set_seed(seed)
        self.game.new_episode()
        self._state = self.game.get_state()
        return self._state.screen_buffer.copy()

    def step(self, action: Sequence[float]) -> Step:
        reward = self.game.make_action(list(action), self.tics)
        self._history.append(tuple(action))
        finished = self.game.is_episode_finished()
        if not finished:
            self._state = self.game.get_state()
        timeout = finished and self.game.is_episode_timeout_reached()
        observation = self._state.screen_buffer.copy()
        return Step(observation, float(reward), finished and not timeout, timeout)

    def info(self) -> Any:
        """ViZDoom's GameState of the current frame: labels, depth buffer, game variables."""
        return self._state

    def snapshot(self) -> int:
        return len(self._history)

    def rollout(self, snapshot: int, actions: Sequence[Sequence[float]]) -> list[np.ndarray]:
        """Replay the first `snapshot` actions unrendered in the replay instance, then play."""
        if self._replay is None:
            self._replay = make_game(self.scenario)
        game = self._replay
        game.set_seed(self._seed)
        game.new_episode()
        for action, run in _runs(self._history[:snapshot]):
            game.set_action(list(action))
            game.advance_action(run * self.tics, False)
        frames = []
        for action in actions:
            if game.is_episode_finished():
                break
            game.make_action(list(action), self.tics)
            state = game.get_state()
            frames.append(EPISODE_OVER if state is None else state.screen_buffer.copy())
        return frames

    def close(self) -> None:
        for game in (self.game, self._replay):
            if game is not None:
                game.close()


def _runs(actions: Sequence[tuple]) -> list[tuple[tuple, int]]:
    """(action, count) of each run of equal consecutive actions."""
    runs: list[tuple[tuple, int]] = []
    for action in actions:
        if runs and runs[-1][0] == action:
            runs[-1] = (action, runs[-1][1] + 1)
        else:
            runs.append((action, 1))
    return runs


@dataclass(frozen=True)
class DoomBackend:
    """`vizdoom/<scenario>`: Freedoom maps played on a dual-stick gamepad."""

    env_id: str
    source: str = "vizdoom"
    controller_type: str = CONTROLLER_TYPE
    default_fps: int = TIC_RATE
    # Replaying from the episode start costs O(t) per probe: probe every 4 s, 4 tics ahead
    # (turns and shots show in the next frame, doors and weapon swaps within a few).
    probe: ProbeConfig = ProbeConfig(every_s=4.0, horizon=4)

    def __post_init__(self) -> None:
        scenario_name(self.env_id)

    @property
    def scenario(self) -> DoomScenario:
        return SCENARIOS[scenario_name(self.env_id)]

    @property
    def game(self) -> str:
        return f"vizdoom_{scenario_name(self.env_id)}"

    def check_fps(self, fps: int) -> None:
        if not isinstance(fps, int) or fps <= 0 or TIC_RATE % fps:
            rates = [d for d in range(1, TIC_RATE + 1) if TIC_RATE % d == 0]
            raise ValueError(
                f"fps={fps!r} must divide Doom's {TIC_RATE} tics/s; use one of {rates}"
            )

    def check_player(self, name: str) -> None:
        from nitrogen_hf.envs.policies import POLICIES

        if name not in POLICIES:
            raise ValueError(f"policy {name!r}: expected one of {POLICIES}")

    def has_expert(self) -> bool:
        return True

    def make(self, fps: int) -> DoomGameEnv:
        self.check_fps(fps)
        return DoomGameEnv(self.scenario, fps)

    def player(self, name: str, env: DoomGameEnv, fps: int) -> Any:
        from nitrogen_hf.envs.doom_expert import DoomExpert
        from nitrogen_hf.envs.policies import RandomPad, StickyPad

        self.check_player(name)
        if name == "random":
            return RandomPad(env.controls)
        if name == "sticky":
            return StickyPad(env.controls, fps)
        return DoomExpert(env.controls, self.scenario.targets, env.frame_shape)

    def url(self, env_seed: int, fps: int) -> str:
        name = scenario_name(self.env_id)
        return f"vizdoom://{name}?seed={env_seed}&tics={TIC_RATE // fps}"

    def action_space(self, env: DoomGameEnv) -> dict[str, str]:
        from nitrogen_hf.actions import BUTTON_INDEX, NUM_BUTTONS, STICK_AXES

        usable = env.controls.expressible
        space = {
            axis: f"{button} (x{full:g})"
            for axis, (button, full) in DOOM_STICK_AXES.items()
            if usable[NUM_BUTTONS + STICK_AXES.index(axis)]
        }
        space.update({b: name for b, name in DOOM_BUTTONS.items() if usable[BUTTON_INDEX[b]]})
        return space

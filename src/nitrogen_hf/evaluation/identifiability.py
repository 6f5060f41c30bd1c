"""Which buttons can an IDM possibly read off the screen? Measured by counterfactual play.

From states visited by human-like play, the emulator is cloned and the same moment replayed
with one button toggled; a button is *identifiable* in a state when that changes any of the
next few frames. Pressing FIRE in Pong while the ball is in play, for instance, changes
nothing: no model can label it there, and metrics should say so rather than blame the IDM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nitrogen_hf.actions import ATARI_BUTTONS, BUTTON_INDEX, AtariActionMap

OPPOSITE = {
    "dpad_up": "dpad_down",
    "dpad_down": "dpad_up",
    "dpad_left": "dpad_right",
    "dpad_right": "dpad_left",
}
# A button counts as identifiable in a game when toggling it shows in at least this share of states.
IDENTIFIABLE_SHARE = 0.5


@dataclass
class IdentifiabilityConfig:
    fps: int = 30
    states: int = 60  # sampled moments of play
    horizon: int = 8  # frames after the toggled action that are compared (effects can lag)
    warmup_steps: int = 30  # skip the game's start screen
    seed: int = 0


def button_identifiability(
    env_id: str, config: IdentifiabilityConfig | None = None
) -> dict[str, float]:
    """{button: share of sampled states where toggling it changes the next `horizon` frames},
    for the Atari buttons the game's action set can express."""
    from nitrogen_hf.envs.atari import make_env
    from nitrogen_hf.envs.policies import StickyPolicy

    config = config or IdentifiabilityConfig()
    env = make_env(env_id, config.fps)
    ale = env.unwrapped.ale
    mapping = AtariActionMap(env.unwrapped.get_action_meanings())
    policy = StickyPolicy(list(mapping.meanings), config.fps)
    rng = np.random.default_rng(config.seed)
    env.reset(seed=config.seed)
    changed = {b: [] for b in ATARI_BUTTONS if _expressible(mapping, b)}
    for _ in range(config.warmup_steps):
        env.step(policy.act(None, None, rng))
    for _ in range(config.states):
        action = policy.act(None, None, rng)
        for button in changed:
            changed[button].append(
                _toggle_changes_frames(env, ale, mapping, action, button, config.horizon)
            )
        _, _, terminated, truncated, _ = env.step(action)
        for _ in range(int(rng.integers(3, 12))):  # decorrelate the sampled states
            _, _, term, trunc, _ = env.step(policy.act(None, None, rng))
            terminated, truncated = terminated or term, truncated or trunc
        if terminated or truncated:
            env.reset(seed=int(rng.integers(1 << 30)))
    env.close()
    return {button: float(np.mean(flags)) for button, flags in changed.items()}


def _expressible(mapping: AtariActionMap, button: str) -> bool:
    return any(mapping.to_buttons(a)[BUTTON_INDEX[button]] for a in range(len(mapping)))


def _toggle_changes_frames(
    env, ale, mapping: AtariActionMap, action: int, button: str, horizon: int
) -> bool:
    """Replay `horizon` steps from this state with `action`, then with `button` toggled."""
    toggled_buttons = mapping.to_buttons(action)
    pressed = toggled_buttons[BUTTON_INDEX[button]]
    toggled_buttons[BUTTON_INDEX[button]] = 1 - pressed
    if not pressed and button in OPPOSITE:  # pressing left means letting go of right
        toggled_buttons[BUTTON_INDEX[OPPOSITE[button]]] = 0
    toggled = mapping.from_buttons(toggled_buttons)
    if toggled == action:
        return False
    state = ale.cloneState()
    rollouts = []
    for first in (action, toggled):
        ale.restoreState(state)
        frames = [env.step(first)[0]]
        frames += [env.step(action)[0] for _ in range(horizon - 1)]  # same continuation
        rollouts.append(np.stack(frames))
    ale.restoreState(state)
    return not np.array_equal(rollouts[0], rollouts[1])


def identifiable_buttons(
    shares: dict[str, float], threshold: float = IDENTIFIABLE_SHARE
) -> list[str]:
    """Buttons whose effect shows in at least `threshold` of the sampled states."""
    return [button for button, share in shares.items() if share >= threshold]

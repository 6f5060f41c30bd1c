"""Which action dims can an IDM possibly read off the screen, per game? Measured by
counterfactual play (`envs.probes`) from states visited by human-like (sticky) play.

A dim is identifiable in a state when changing it changes any of the next few frames;
the share of sampled states where that holds says how often a game shows a button at all.
Pressing FIRE in Pong while the ball is in play, for instance, changes nothing: no model
can label it there, and metrics should say so rather than blame the IDM. Recordings carry
the same test per frame (the `identifiable` column) for the frames they probed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nitrogen_hf.actions import ACTION_NAMES

# A button counts as identifiable in a game when toggling it shows in at least this share of states.
IDENTIFIABLE_SHARE = 0.5


@dataclass
class IdentifiabilityConfig:
    fps: int | None = None  # None = the game's own rate
    states: int = 60  # sampled moments of play
    horizon: int = 8  # frames after the changed action that are compared (effects can lag)
    warmup_steps: int = 30  # skip the game's start screen
    seed: int = 0


def button_identifiability(
    env_id: str, config: IdentifiabilityConfig | None = None
) -> dict[str, float]:
    """{dim: share of sampled states where changing it changes the next `horizon` frames},
    for the dims (buttons, stick axes) the game's controls can express."""
    from nitrogen_hf.envs.backend import backend_for
    from nitrogen_hf.envs.probes import frame_mask

    config = config or IdentifiabilityConfig()
    backend = backend_for(env_id)
    fps = backend.default_fps if config.fps is None else config.fps
    env = backend.make(fps)
    policy = backend.player("sticky", env, fps)
    rng = np.random.default_rng(config.seed)
    observation = env.reset(config.seed)
    policy.reset()
    dims = np.flatnonzero(env.controls.expressible)
    masks = []

    def step(action) -> bool:
        nonlocal observation
        result = env.step(action)
        observation = result.observation
        return result.terminated or result.truncated

    for _ in range(config.warmup_steps):
        step(policy.act(observation, env.info(), rng))
    while len(masks) < config.states:
        snapshot = env.snapshot()
        played = [policy.act(observation, env.info(), rng)]
        over = step(played[0])
        while len(played) < config.horizon and not over:  # the continuation, as played
            played.append(policy.act(observation, env.info(), rng))
            over = step(played[-1])
        masks.append(frame_mask(env, snapshot, played))
        for _ in range(int(rng.integers(3, 12))):  # decorrelate the sampled states
            over = over or step(policy.act(observation, env.info(), rng))
        if over:
            observation = env.reset(int(rng.integers(1 << 30)))
            policy.reset()
    env.close()
    shares = np.mean(masks, axis=0)
    return {ACTION_NAMES[d]: float(shares[d]) for d in dims}


def identifiable_buttons(
    shares: dict[str, float], threshold: float = IDENTIFIABLE_SHARE
) -> list[str]:
    """Buttons whose effect shows in at least `threshold` of the sampled states."""
    return [button for button, share in shares.items() if share >= threshold]

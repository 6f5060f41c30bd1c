"""Acting with a policy: its gamepad vector as a game's action, and an agent that plays from
a vision-action policy with a receding horizon."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

from nitrogen_hf.actions import ACTION_DIM, BUTTON_THRESHOLD, NUM_BUTTONS
from nitrogen_hf.data.frames import prepare_frames


def vector_to_action(controls: Any, vector: np.ndarray) -> Any:
    """The game action a 25-d model-layout vector executes (buttons > 0.5, sticks v * 2 - 1),
    through the game's action map (`GameEnv.controls`): the nearest discrete action, or
    engine values after the dead zone and rounding."""
    vector = np.asarray(vector, np.float32)
    if vector.shape != (ACTION_DIM,):
        raise ValueError(f"expected a ({ACTION_DIM},) action vector, got {vector.shape}")
    buttons = (vector[:NUM_BUTTONS] > BUTTON_THRESHOLD).astype(np.uint8)
    return controls.from_pad(buttons, vector[NUM_BUTTONS:] * 2.0 - 1.0)


class PolicyAgent:
    """Receding-horizon control: predict H actions from the latest frame(s), execute the first
    `execute_steps`, then predict again from what the screen shows by then."""

    def __init__(
        self,
        policy: Any,
        execute_steps: int = 4,
        game: str | None = None,
        num_steps: int | None = None,
        seed: int = 0,
    ):
        if not 1 <= execute_steps <= policy.config.action_horizon:
            raise ValueError(
                f"execute_steps must be in 1..{policy.config.action_horizon} (the action horizon), got {execute_steps}"
            )
        self.policy = policy.eval()
        self.execute_steps = execute_steps
        self.game = game
        self.num_steps = num_steps
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self._plan: deque[np.ndarray] = deque()
        self._history: deque[torch.Tensor] = deque(maxlen=self.policy.config.frame_per_sample)
        self._generator = torch.Generator(device=self.policy.device).manual_seed(self.seed)
        self.replans = 0

    def act(self, observation: np.ndarray) -> np.ndarray:
        """(25,) model-layout action for this frame (H, W, 3) uint8."""
        frame = torch.from_numpy(np.ascontiguousarray(observation)).permute(2, 0, 1)[None]
        self._history.append(prepare_frames(frame, self.policy.config.image_size)[0])
        while len(self._history) < self._history.maxlen:  # pad the first context with copies
            self._history.appendleft(self._history[0])
        if not self._plan:
            context = torch.stack(list(self._history))[None]  # (1, C, 3, h, w)
            chunk = self.policy.predict_action(
                context, game=self.game, num_steps=self.num_steps, generator=self._generator
            )
            vectors = torch.cat([chunk.buttons.float(), (chunk.sticks + 1) / 2], dim=-1)[0]
            self._plan.extend(vectors[: self.execute_steps].cpu().numpy())
            self.replans += 1
        return self._plan.popleft()

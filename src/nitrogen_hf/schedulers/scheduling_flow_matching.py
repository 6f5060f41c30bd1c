"""Flow-matching scheduler in NitroGen's convention (Diffusers `SchedulerMixin` interface).

NitroGen runs time forward: t = 0 is pure noise, t = 1 is the action chunk,
x_t = (1 - t) * noise + t * actions, and the model predicts the velocity actions - noise.
Diffusers' `FlowMatchEulerDiscreteScheduler` runs the other way (noise at sigma = 1, model
output noise - sample), spaces its grid from sigma = 1 to 1 / num_train_timesteps before a
final jump to 0, and feeds the model float timesteps sigma * 1000. NitroGen instead takes K
uniform Euler steps of 1/K from t = 0 and feeds the integer bucket int(i / K * 1000). Negating
the output would fix the direction but not the grid or the buckets, and a released model was
trained on those buckets, so this small scheduler implements the convention directly.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.schedulers.scheduling_utils import SchedulerMixin, SchedulerOutput


class FlowMatchingScheduler(SchedulerMixin, ConfigMixin):
    """Beta time sampling for training and K-step Euler integration for sampling.

    Args:
        num_train_timesteps: number of integer time buckets the model is conditioned on.
        noise_beta_alpha, noise_beta_beta: training time is t = (1 - Beta(alpha, beta)) * noise_s,
            which favours the noisy end (small t) when alpha > beta.
        noise_s: upper bound of training time, keeps t < 1 so the target is never noise-free.
    """

    config_name = "scheduler_config.json"
    order = 1

    @register_to_config
    def __init__(
        self,
        num_train_timesteps: int = 1000,
        noise_beta_alpha: float = 1.5,
        noise_beta_beta: float = 1.0,
        noise_s: float = 0.999,
    ):
        self.num_inference_steps: int | None = None
        self.timesteps: torch.Tensor | None = None

    # --- training -------------------------------------------------------------------------
    def sample_time(
        self, batch_size: int, device: torch.device | str | None = None
    ) -> torch.Tensor:
        """(B,) float32 times in [0, noise_s). Uses the global RNG: `Beta` takes no generator."""
        beta = torch.distributions.Beta(
            torch.tensor(float(self.config.noise_beta_alpha), device=device),
            torch.tensor(float(self.config.noise_beta_beta), device=device),
        )
        return (1.0 - beta.sample((batch_size,))) * self.config.noise_s

    def add_noise(
        self, actions: torch.Tensor, noise: torch.Tensor, time: torch.Tensor
    ) -> torch.Tensor:
        """x_t = (1 - t) * noise + t * actions, with t: (B,) broadcast over the chunk."""
        t = time.to(actions.dtype).reshape(-1, *([1] * (actions.ndim - 1)))
        return (1.0 - t) * noise + t * actions

    @staticmethod
    def velocity_target(actions: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The regression target: the constant velocity of the straight noise -> actions path."""
        return actions - noise

    def time_to_bucket(self, time: torch.Tensor) -> torch.Tensor:
        """(B,) int64 buckets floor(t * num_train_timesteps), the model's timestep input."""
        return (time * self.config.num_train_timesteps).long()

    # --- sampling -------------------------------------------------------------------------
    def set_timesteps(self, num_inference_steps: int, device: torch.device | str | None = None):
        """K uniform steps from t = 0; bucket of step i is int(i / K * num_train_timesteps).

        The buckets are computed with Python floats exactly as NitroGen does, so that an
        i / K landing just below an integer rounds the same way.
        """
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        buckets = [
            int(i / num_inference_steps * self.config.num_train_timesteps)
            for i in range(num_inference_steps)
        ]
        self.num_inference_steps = num_inference_steps
        self.timesteps = torch.tensor(buckets, dtype=torch.long, device=device)

    def step(
        self,
        model_output: torch.Tensor,
        timestep: int | torch.Tensor,
        sample: torch.Tensor,
        return_dict: bool = True,
    ) -> SchedulerOutput | tuple[torch.Tensor]:
        """One Euler step x += (1 / K) * v; the grid is uniform, so `timestep` is not needed."""
        if self.num_inference_steps is None:
            raise RuntimeError("call set_timesteps(num_inference_steps) before step()")
        prev_sample = sample + (1.0 / self.num_inference_steps) * model_output
        if not return_dict:
            return (prev_sample,)
        return SchedulerOutput(prev_sample=prev_sample)

    def __len__(self) -> int:
        return self.config.num_train_timesteps

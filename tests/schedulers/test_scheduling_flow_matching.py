import pytest
import torch

from nitrogen_hf.schedulers import FlowMatchingScheduler


def _public(config) -> dict:
    """Registered fields, without diffusers' bookkeeping entries (`_use_default_values`, ...)."""
    return {key: value for key, value in config.items() if not key.startswith("_")}


def test_save_load_round_trip(tmp_path):
    scheduler = FlowMatchingScheduler(
        num_train_timesteps=500, noise_beta_alpha=1.6, noise_beta_beta=0.8
    )
    scheduler.save_pretrained(tmp_path)
    loaded = FlowMatchingScheduler.from_pretrained(tmp_path)
    assert (tmp_path / "scheduler_config.json").exists()
    assert _public(loaded.config) == _public(scheduler.config)
    assert loaded.config.noise_beta_alpha == 1.6 and loaded.config.num_train_timesteps == 500


def test_training_target_math():
    scheduler = FlowMatchingScheduler()
    actions = torch.rand(3, 4, 25)
    noise = torch.randn(3, 4, 25)
    time = torch.tensor([0.0, 0.25, 1.0])
    noisy = scheduler.add_noise(actions, noise, time)
    torch.testing.assert_close(noisy[0], noise[0])
    torch.testing.assert_close(noisy[1], 0.75 * noise[1] + 0.25 * actions[1])
    torch.testing.assert_close(noisy[2], actions[2])
    # Following the target velocity from x_t for the remaining time reaches the actions.
    velocity = scheduler.velocity_target(actions, noise)
    torch.testing.assert_close(noisy[1] + 0.75 * velocity[1], actions[1])
    buckets = scheduler.time_to_bucket(torch.tensor([0.0, 0.4999, 0.5, 0.998999]))
    assert buckets.tolist() == [0, 499, 500, 998]
    assert buckets.dtype == torch.long


def test_sample_time_follows_scaled_beta():
    torch.manual_seed(0)
    scheduler = FlowMatchingScheduler(noise_beta_alpha=1.5, noise_beta_beta=1.0, noise_s=0.999)
    time = scheduler.sample_time(200_000)
    assert time.shape == (200_000,)
    assert 0.0 <= time.min() and time.max() < 0.999
    # E[1 - Beta(a, b)] * s = b / (a + b) * s
    assert time.mean().item() == pytest.approx(1.0 / 2.5 * 0.999, abs=2e-3)


@pytest.mark.parametrize(
    ("steps", "buckets"),
    [
        (1, [0]),
        (3, [0, 333, 666]),
        (4, [0, 250, 500, 750]),
        (16, [int(i / 16 * 1000) for i in range(16)]),
    ],
)
def test_set_timesteps_buckets(steps, buckets):
    scheduler = FlowMatchingScheduler()
    scheduler.set_timesteps(steps)
    assert scheduler.timesteps.tolist() == buckets


@pytest.mark.parametrize("steps", [1, 4, 16])
def test_euler_on_constant_velocity_lands_on_target(steps):
    scheduler = FlowMatchingScheduler()
    scheduler.set_timesteps(steps)
    start = torch.randn(2, 16, 25, dtype=torch.float64)
    velocity = torch.randn(2, 16, 25, dtype=torch.float64)
    sample = start
    for timestep in scheduler.timesteps:
        sample = scheduler.step(velocity, timestep, sample).prev_sample
    torch.testing.assert_close(sample, start + velocity)


def test_euler_follows_straight_path_to_actions():
    """With the exact velocity of the straight noise -> actions path, sampling returns the actions."""
    scheduler = FlowMatchingScheduler()
    scheduler.set_timesteps(8)
    actions = torch.rand(1, 4, 25, dtype=torch.float64)
    sample = torch.randn(1, 4, 25, dtype=torch.float64)
    noise = sample.clone()
    for timestep in scheduler.timesteps:
        (sample,) = scheduler.step(
            scheduler.velocity_target(actions, noise), timestep, sample, return_dict=False
        )
    torch.testing.assert_close(sample, actions)


def test_step_requires_set_timesteps():
    with pytest.raises(RuntimeError, match="set_timesteps"):
        FlowMatchingScheduler().step(torch.zeros(1), 0, torch.zeros(1))
    with pytest.raises(ValueError, match=">= 1"):
        FlowMatchingScheduler().set_timesteps(0)

import numpy as np
import pytest
import torch

from nitrogen_hf.data.video import open_video
from nitrogen_hf.evaluation.world_model_eval import (
    RolloutClips,
    clip_starts,
    controllability,
    psnr,
    random_actions,
    write_rollout_video,
)
from nitrogen_hf.models.lam import WorldModel, WorldModelConfig


def test_psnr_of_known_errors():
    real = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    off_by_one = torch.ones(2, 3, 4, 4)
    assert psnr(off_by_one, real) == pytest.approx(torch.full((2,), 20 * np.log10(255.0)))
    assert psnr(real, real).min() > 70  # identical: capped, not infinite


def test_clip_starts_fit_inside_the_chunk():
    assert clip_starts(100, 10, 3) == [0, 45, 90]
    assert clip_starts(25, 10, 5) == [0, 15]
    assert clip_starts(5, 10, 2) == []


def test_random_actions_keep_the_kind_of_action():
    latent = WorldModel(WorldModelConfig(frame_size=(16, 16), patch_size=2, channels=(8, 16)))
    codes = random_actions(latent, torch.zeros(4, 6, dtype=torch.long))
    assert codes.shape == (4, 6) and codes.max() < 8
    gamepad = WorldModel(
        WorldModelConfig(action_type="gamepad", frame_size=(16, 16), patch_size=2, channels=(8, 16))
    )
    labels = torch.arange(4.0)[:, None, None].expand(4, 6, 25)
    shuffled = random_actions(gamepad, labels, seed=1)
    assert sorted(shuffled[:, 0, 0].tolist()) == [0.0, 1.0, 2.0, 3.0]


def test_controllability_of_an_untrained_model_is_zero():
    """A model that ignores its actions generates the same frames either way: delta-PSNR 0."""
    model = WorldModel(
        WorldModelConfig(action_type="gamepad", frame_size=(16, 16), patch_size=2, channels=(8, 16))
    )
    g = torch.Generator().manual_seed(0)
    clips = RolloutClips(
        torch.randint(0, 256, (3, 6, 3, 16, 16), dtype=torch.uint8, generator=g),
        torch.rand(3, 4, 25, generator=g),
        np.array(["a", "a", "b"], dtype=object),
    )
    result = controllability(model, clips)
    assert result["overall"]["delta_psnr"] == pytest.approx(0.0)
    assert result["overall"]["psnr_inferred"] == pytest.approx(result["overall"]["psnr_copy"])
    assert len(result["overall"]["delta_psnr_per_step"]) == 4 and set(result) >= {"a", "b"}


def test_rollout_video_has_the_context_and_every_generated_frame(tmp_path):
    real = torch.randint(0, 256, (7, 3, 16, 16), dtype=torch.uint8)
    generated = [torch.randint(0, 256, (5, 3, 16, 16), dtype=torch.uint8) for _ in range(2)]
    path = write_rollout_video(tmp_path / "rollout.mp4", real, generated, fps=5, scale=2)
    video = open_video(path)
    assert video.num_frames == 7
    assert (video.height, video.width) == (32, 3 * 32 + 2 * 4)
    video.close()

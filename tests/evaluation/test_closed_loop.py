import json

import pytest
import torch

from nitrogen_hf.cli import main
from nitrogen_hf.data.video import open_video
from nitrogen_hf.evaluation.closed_loop import mean_with_ci, normalized_score
from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig


def test_short_closed_loop_episode_with_references_and_video(tmp_path, capsys):
    torch.manual_seed(0)
    NitroGenPolicy(NitroGenPolicyConfig.preset("tiny", action_horizon=4)).save_pretrained(
        tmp_path / "policy"
    )
    assert (
        main(
            [
                "eval-policy",
                "--model",
                str(tmp_path / "policy"),
                "--env",
                "ALE/Breakout-v5",
                "--episodes",
                "2",
                "--max-seconds",
                "2",
                "--out",
                str(tmp_path / "eval"),
            ]
        )
        == 0
    )
    result = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert json.loads(capsys.readouterr().out)["mean_return"] == result["mean_return"]
    assert (
        len(result["returns"]) == 2
        and result["return_ci95"][0] <= result["mean_return"] <= result["return_ci95"][1]
    )
    assert len(result["random_returns"]) == 2 and result["expert_mean_return"] is not None
    with open_video(tmp_path / "eval" / "rollout.mp4") as video:
        assert video.num_frames == 60  # 2 s at 30 fps (no life lost that fast)


def test_scores_and_intervals():
    stats = mean_with_ci([1.0, 3.0])
    assert stats["mean"] == 2.0 and stats["ci95"][0] < 2.0 < stats["ci95"][1]
    assert mean_with_ci([5.0])["ci95"] == [5.0, 5.0]
    assert normalized_score(5.0, 0.0, 10.0) == 0.5
    assert normalized_score(5.0, 0.0, None) is None
    assert normalized_score(1.0, 2.0, 2.0) is None


def test_unknown_expert_game_has_no_expert_reference(tmp_path):
    from nitrogen_hf.evaluation.closed_loop import PolicyEvalConfig, reference_returns

    config = PolicyEvalConfig(model="unused", env_id="ALE/Asterix-v5", episodes=1, max_seconds=0.5)
    assert reference_returns("ALE/Asterix-v5", "expert", config) is None
    assert len(reference_returns("ALE/Asterix-v5", "random", config)) == 1


@pytest.mark.parametrize("steps", [0, 99])
def test_bad_execute_steps(tmp_path, steps, capsys):
    NitroGenPolicy(NitroGenPolicyConfig.preset("tiny", action_horizon=4)).save_pretrained(
        tmp_path / "p"
    )
    argv = ["eval-policy", "--model", str(tmp_path / "p"), "--out", str(tmp_path / "e"),
            "--execute-steps", str(steps), "--episodes", "1", "--max-seconds", "0.2",
            "--no-references"]  # fmt: skip
    assert main(argv) == 2  # a user error: one line, exit code 2
    assert "execute_steps" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env_id", "fps"), [("vizdoom/defend_the_center", 35), ("crafter/default", 10)]
)
def test_eval_policy_plays_the_new_games_and_draws_the_executed_pad(tmp_path, env_id, fps):
    from nitrogen_hf.evaluation.closed_loop import PolicyEvalConfig, evaluate_policy

    torch.manual_seed(0)
    NitroGenPolicy(NitroGenPolicyConfig.preset("tiny", action_horizon=4)).save_pretrained(
        tmp_path / "p"
    )
    result = evaluate_policy(
        PolicyEvalConfig(
            model=str(tmp_path / "p"), env_id=env_id, episodes=1, max_seconds=1.0,
            out=tmp_path / "eval",
        )
    )  # fmt: skip
    assert result["fps"] == fps and len(result["returns"]) == 1
    assert result["expert_returns"] is not None and result["random_returns"] is not None
    with open_video(tmp_path / "eval" / "rollout.mp4") as video:
        assert video.num_frames == fps and video.fps == fps

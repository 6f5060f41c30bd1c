import json
from dataclasses import replace

import pytest
import torch

from nitrogen_hf.cli import main
from nitrogen_hf.data.windows import collate_windows
from nitrogen_hf.models.policy import NitroGenPolicy, load_policy
from nitrogen_hf.training.configs import POLICY_PRESETS
from nitrogen_hf.training.train_policy import (
    build_mixture,
    build_policy,
    policy_loss,
    train_policy,
)
from nitrogen_hf.training.trainer import train

from helpers import make_sprite_dataset


@pytest.fixture(scope="module")
def sprite_dataset(tmp_path_factory):
    return make_sprite_dataset(tmp_path_factory.mktemp("sprite_policy"))


def test_mixture_training_saves_resumes_and_conditions_on_games(sprite_dataset, tmp_path):
    config = replace(POLICY_PRESETS["debug"], game_conditioning=True)
    data = [f"truth={sprite_dataset}:3", f"pseudo={sprite_dataset}:1"]
    summary = train_policy(config, data, tmp_path / "policy")
    assert summary["steps"] == 4 and [d["weight"] for d in summary["data"]] == [3.0, 1.0]
    policy = NitroGenPolicy.from_pretrained(tmp_path / "policy")
    assert policy.config.game_names == ["sprite"] and policy.config.action_horizon == 4
    frames = torch.zeros(1, 3, 32, 32, dtype=torch.uint8)
    chunk = policy.predict_action(frames, game="sprite", generator=torch.Generator().manual_seed(0))
    assert chunk.vector.shape == (1, 4, 25)
    saved = json.loads((tmp_path / "policy" / "training_config.json").read_text())
    assert saved["data"][0].startswith("truth=")
    config = replace(config, train=replace(config.train, max_steps=6))
    assert train_policy(config, data, tmp_path / "policy")["resumed_from"] == 4


def test_lora_adapter_round_trip(sprite_dataset, tmp_path):
    assert (
        main(
            [
                "train-policy",
                "--data",
                f"truth={sprite_dataset}",
                "--out",
                str(tmp_path / "base"),
                "--preset",
                "debug",
            ]
        )
        == 0
    )
    config = replace(POLICY_PRESETS["debug"], base_model=str(tmp_path / "base"), lora_rank=4)
    config = replace(config, train=replace(config.train, max_steps=6, learning_rate=1e-2))
    model = build_policy(config, [])
    dataset = build_mixture(config, [f"new_game={sprite_dataset}"], (32, 32), 4, 1)
    train(
        model,
        dataset,
        config.train,
        policy_loss(False),
        tmp_path / "lora",
        collate_windows,
        save_fn=lambda m, d: m.save_pretrained(d),
    )
    files = {p.name for p in (tmp_path / "lora").iterdir()}
    assert "adapter_model.safetensors" in files and "model.safetensors" not in files
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable < sum(p.numel() for p in model.parameters()) / 5
    frames = torch.randint(
        0, 256, (2, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
    )
    noisy, bucket = torch.randn(2, 4, 25), torch.tensor([500, 500])
    model.eval()
    with torch.no_grad():
        pixels = model.preprocess(frames)
        fine_tuned = model(pixels, noisy, bucket)
        base = load_policy(tmp_path / "base")(pixels, noisy, bucket)
        reloaded = load_policy(tmp_path / "lora")(pixels, noisy, bucket)
    assert not torch.allclose(fine_tuned, base, atol=1e-4)
    # Base + the saved adapter alone reproduce the fine-tuned model's outputs.
    torch.testing.assert_close(reloaded, fine_tuned, atol=1e-5, rtol=1e-4)


def test_lora_needs_a_base_model(tmp_path):
    with pytest.raises(ValueError, match="base-model"):
        replace(POLICY_PRESETS["debug"], lora_rank=4)


def test_fresh_policy_with_a_pretrained_vision_tower(sprite_dataset, tmp_path):
    from transformers import SiglipVisionConfig, SiglipVisionModel

    tower = SiglipVisionModel(
        SiglipVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=32,
            patch_size=8,
        )
    )
    tower.save_pretrained(tmp_path / "tower")
    config = replace(POLICY_PRESETS["debug"], vision_pretrained=str(tmp_path / "tower"))
    model = build_policy(config, [])
    for key, value in tower.state_dict().items():
        assert torch.equal(model.vision_encoder.state_dict()[key], value), key
    assert model.config.action_horizon == 4  # the preset's other fields are kept


def test_lora_on_a_new_game_trains_its_row_beside_the_adapter(sprite_dataset, tmp_path):
    """The base knows no 'sprite' game: it gets a row (from the unconditional one), trained
    with the action encoder as modules_to_save; alpha is the user's; the EMA follows only the
    trainable weights; base + adapter reload to the same model."""
    from nitrogen_hf.models.policy import NitroGenPolicyConfig

    torch.manual_seed(0)
    base = NitroGenPolicy(
        NitroGenPolicyConfig.preset("tiny", action_horizon=4, num_games=1, game_names=["pong"])
    )
    base.save_pretrained(tmp_path / "base")
    args = ["train-policy", "--data", f"new={sprite_dataset}", "--out", str(tmp_path / "lora"),
            "--preset", "debug", "--base-model", str(tmp_path / "base"), "--lora-rank", "4",
            "--lora-alpha", "4", "--lora-train", "action_encoder", "--game-conditioning",
            "--max-steps", "6", "--lr", "1e-2"]  # fmt: skip
    assert main(args) == 0
    adapter = json.loads((tmp_path / "lora" / "adapter_config.json").read_text())
    assert adapter["lora_alpha"] == 4
    assert sorted(adapter["modules_to_save"]) == ["action_encoder", "game_embedding"]
    merged = load_policy(tmp_path / "lora")
    assert merged.config.game_names == ["pong", "sprite"]
    rows = merged.game_embedding.weight
    assert not torch.allclose(rows[2], base.game_embedding.weight[0])  # the new row trained
    assert not torch.equal(merged.action_encoder.W1.W, base.action_encoder.W1.W)
    chunk = merged.predict_action(
        torch.zeros(1, 3, 32, 32, dtype=torch.uint8), game="sprite",
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert chunk.vector.shape == (1, 4, 25)


def test_game_conditioning_on_a_base_without_game_rows_says_so(sprite_dataset, tmp_path):
    from nitrogen_hf.models.policy import NitroGenPolicyConfig

    NitroGenPolicy(NitroGenPolicyConfig.preset("tiny", action_horizon=4)).save_pretrained(
        tmp_path / "b"
    )
    config = replace(
        POLICY_PRESETS["debug"], base_model=str(tmp_path / "b"), lora_rank=4,
        game_conditioning=True,
    )  # fmt: skip
    with pytest.raises(ValueError, match="has no game embedding"):
        build_policy(config, ["sprite"])

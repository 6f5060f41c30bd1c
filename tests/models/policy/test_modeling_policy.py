import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel

from nitrogen_hf.actions import ACTION_DIM, GamepadActions
from nitrogen_hf.models.policy import ActionChunk, NitroGenPolicy, NitroGenPolicyConfig

GAMES = ["celeste", "doom", "zelda"]


@pytest.fixture(scope="module")
def policy():
    torch.manual_seed(0)
    return NitroGenPolicy(NitroGenPolicyConfig.preset("tiny", num_games=3, game_names=GAMES)).eval()


def random_frames(*shape, seed=0):
    return torch.randint(
        0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(seed)
    )


@pytest.mark.parametrize(
    ("shape", "batch"), [((3, 40, 50), 1), ((2, 3, 32, 32), 2), ((4, 1, 3, 64, 48), 4)]
)
def test_predict_action_shapes(policy, shape, batch):
    chunk = policy.predict_action(random_frames(*shape), game="doom")
    horizon = policy.config.action_horizon
    assert chunk.vector.shape == (batch, horizon, ACTION_DIM)
    assert chunk.buttons.shape == (batch, horizon, 21) and chunk.buttons.dtype == torch.bool
    assert chunk.sticks.shape == (batch, horizon, 4)
    assert chunk.sticks.abs().max() <= 1.0
    gamepad = chunk.to_gamepad()
    assert len(gamepad) == batch and len(gamepad[0]) == horizon


def test_context_frames_are_concatenated():
    torch.manual_seed(0)
    config = NitroGenPolicyConfig.preset("tiny", frame_per_sample=2, max_sequence_length=40)
    policy = NitroGenPolicy(config).eval()
    pixel_values = policy.preprocess(random_frames(3, 2, 3, 32, 32))
    assert pixel_values.shape == (3, 2, 3, 32, 32)
    tokens = policy.embed_observations(pixel_values)
    assert tokens.shape == (3, 40, 32)
    assert torch.all(tokens[:, :8] == 0) and torch.all(
        tokens[:, 8:].abs().sum(-1) > 0
    )  # 2 x 16 tokens
    assert policy.predict_action(random_frames(3, 2, 3, 32, 32)).vector.shape == (3, 16, ACTION_DIM)
    with pytest.raises(ValueError, match="frame_per_sample=2"):
        policy.predict_action(random_frames(3, 3, 32, 32))


def test_left_padding_and_game_token(policy):
    pixel_values = policy.preprocess(random_frames(2, 3, 32, 32))
    tokens = policy.embed_observations(pixel_values, torch.tensor([0, 3]))
    # 20 positions: 3 zero pads, the game token, 16 image tokens.
    assert tokens.shape == (2, 20, 32)
    assert torch.all(tokens[:, :3] == 0)
    assert torch.equal(tokens[1, 3], policy.game_embedding.weight[3])
    assert torch.equal(tokens[0, 3], policy.game_embedding.weight[0])
    image_tokens = policy.vision_encoder(pixel_values=pixel_values.flatten(0, 1)).last_hidden_state
    assert torch.equal(tokens[:, 4:], image_tokens)


def test_cached_sampling_equals_per_step_recomputation(policy):
    """predict_action computes the memory and its K/V once; recomputing everything per step
    (as NVIDIA's get_action does) must give the very same numbers."""
    frames = random_frames(2, 3, 48, 40)
    chunk = policy.predict_action(
        frames, game=[1, "zelda"], num_steps=5, generator=torch.Generator().manual_seed(3)
    )

    pixel_values = policy.preprocess(frames)
    games = torch.tensor([1, 3])
    sample = torch.randn(2, 16, ACTION_DIM, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for i in range(5):
            bucket = torch.full((2,), int(i / 5 * 1000))
            sample = sample + (1 / 5) * policy(pixel_values, sample, bucket, games)
    assert torch.equal(chunk.vector, sample)


def test_save_load_via_from_pretrained_and_automodel(policy, tmp_path):
    policy.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    config = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(config, NitroGenPolicyConfig) and config.game_names == GAMES
    for loaded in (NitroGenPolicy.from_pretrained(tmp_path), AutoModel.from_pretrained(tmp_path)):
        assert isinstance(loaded, NitroGenPolicy)
        for (key, a), (key_b, b) in zip(
            policy.state_dict().items(), loaded.state_dict().items(), strict=True
        ):
            assert key == key_b and torch.equal(a, b), key
        frames = random_frames(1, 3, 32, 32)
        expected = policy.predict_action(
            frames, game="doom", generator=torch.Generator().manual_seed(0)
        )
        got = loaded.predict_action(frames, game="doom", generator=torch.Generator().manual_seed(0))
        # Loaded weights live in the (unaligned) safetensors mmap, so BLAS may round differently.
        torch.testing.assert_close(got.vector, expected.vector, rtol=1e-5, atol=1e-5)


def test_decoding_matches_gamepad_actions():
    vector = torch.rand(2, 6, ACTION_DIM) * 1.4 - 0.2
    chunk = ActionChunk.from_vector(vector)
    for sample, gamepad in zip(vector, chunk.to_gamepad(), strict=True):
        expected = GamepadActions.from_vector(sample.numpy())
        np.testing.assert_array_equal(gamepad.buttons, expected.buttons)
        np.testing.assert_allclose(gamepad.sticks, expected.sticks, atol=1e-6)


def test_compute_loss_ignores_unobserved_dims(policy):
    frames = random_frames(3, 3, 32, 32)
    actions = torch.rand(3, 16, ACTION_DIM)
    observed = torch.zeros(ACTION_DIM, dtype=torch.bool)
    observed[:5] = True

    def loss(mask):
        torch.manual_seed(11)
        return policy.compute_loss(frames, actions, mask, game="celeste")

    # (25,), (B, 25) and (B, H, 25) masks broadcast to the same thing.
    value = loss(observed)
    assert loss(observed.expand(3, -1)).item() == value.item()
    assert loss(observed.expand(3, 16, -1)).item() == value.item()
    assert loss(torch.zeros(ACTION_DIM, dtype=torch.bool)).item() == 0.0
    # Unobserved dims send no gradient into the weights that produce them.
    value.backward()
    grad = policy.action_decoder.layer2.W.grad
    assert grad[..., :5].abs().sum() > 0 and grad[..., 5:].abs().sum() == 0
    policy.zero_grad(set_to_none=True)


def test_a_chunk_without_a_game_name_is_unconditional(policy):
    assert policy.game_ids(["", "celeste"], 2).tolist() == [0, policy.game_ids("celeste", 1).item()]


def test_input_errors_name_the_fix(policy):
    with pytest.raises(ValueError, match="unknown game 'tetris'"):
        policy.predict_action(random_frames(3, 32, 32), game="tetris")
    with pytest.raises(ValueError, match=r"game id 4 outside 0..3"):
        policy.predict_action(random_frames(3, 32, 32), game=4)
    with pytest.raises(ValueError, match="uint8"):
        policy.predict_action(torch.rand(3, 32, 32))
    no_games = NitroGenPolicy(NitroGenPolicyConfig.preset("tiny"))
    with pytest.raises(ValueError, match="no game embedding"):
        no_games.predict_action(random_frames(3, 32, 32), game=1)
    crowded = NitroGenPolicy(NitroGenPolicyConfig.preset("tiny", max_sequence_length=10))
    with pytest.raises(ValueError, match="16 VL tokens exceed max_sequence_length=10"):
        crowded.predict_action(random_frames(3, 32, 32))


def test_config_checks_and_presets():
    with pytest.raises(ValueError, match="must equal hidden_size 40"):
        NitroGenPolicyConfig.preset("tiny", hidden_size=40)
    with pytest.raises(ValueError, match="must equal the vision width 32"):
        NitroGenPolicyConfig.preset("tiny", vl_num_attention_heads=4)
    assert NitroGenPolicyConfig.preset("base").vision_config.model_type == "siglip_vision_model"
    with torch.device("meta"):  # shapes only: the released architecture has 493,631,513 parameters
        model = NitroGenPolicy(NitroGenPolicyConfig.preset("nitrogen_500m"))
    assert sum(p.numel() for p in model.parameters()) == 493_631_513
    assert model.config.action_horizon == 18 and model.config.vision_config.num_hidden_layers == 24


def test_lora_wraps_the_policy():
    """LoRA on the attention projections: adapters start as a no-op and are all that trains."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    policy = NitroGenPolicy(NitroGenPolicyConfig.preset("tiny")).eval()
    frames = random_frames(2, 3, 32, 32)
    before = policy.predict_action(frames, generator=torch.Generator().manual_seed(0)).vector
    lora = get_peft_model(policy, LoraConfig(r=4, target_modules=["to_q", "to_k", "to_v"]))
    after = lora.predict_action(frames, generator=torch.Generator().manual_seed(0)).vector
    torch.testing.assert_close(after, before)
    lora.compute_loss(
        frames, torch.rand(2, 16, ACTION_DIM), torch.ones(ACTION_DIM, dtype=torch.bool)
    ).backward()
    trained = {name for name, p in lora.named_parameters() if p.grad is not None}
    assert trained and all("lora_" in name for name in trained)

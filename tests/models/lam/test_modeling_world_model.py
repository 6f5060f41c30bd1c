import pytest
import torch
from transformers import AutoModel

from nitrogen_hf.models.lam import WorldModel, WorldModelConfig


def tiny_config(**overrides) -> WorldModelConfig:
    values = dict(context_frames=2, frame_size=(16, 16), patch_size=2, channels=(8, 16))
    values.update(overrides)
    return WorldModelConfig(**values)


def frames(batch: int, t: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (batch, t, 3, 16, 16), dtype=torch.uint8, generator=g)


@pytest.mark.parametrize(
    ("action_type", "actions"),
    [("latent", torch.tensor([0, 7, 3])), ("gamepad", torch.rand(3, 25))],
)
def test_one_model_takes_latent_codes_or_gamepad_vectors(action_type, actions):
    model = WorldModel(tiny_config(action_type=action_type)).eval()
    out = model(frames(3, 3), actions)
    assert out.prediction.shape == (3, 3, 16, 16) and out.loss.ndim == 0
    nxt = model.predict_next(frames(3, 2), actions)
    assert nxt.shape == (3, 3, 16, 16) and 0 <= nxt.min() and nxt.max() <= 255


def test_wrong_action_kind_is_refused():
    with pytest.raises(ValueError, match="long codes"):
        WorldModel(tiny_config(action_type="latent"))(frames(2, 3), torch.rand(2, 25))
    with pytest.raises(ValueError, match="25"):
        WorldModel(tiny_config(action_type="gamepad"))(frames(2, 3), torch.rand(2, 8))
    with pytest.raises(ValueError, match="action_type"):
        tiny_config(action_type="keyboard")


def test_rollout_feeds_predictions_back():
    model = WorldModel(tiny_config()).eval()
    context = frames(2, 2)
    generated = model.rollout(context, torch.randint(8, (2, 5)))
    assert generated.shape == (2, 5, 3, 16, 16) and generated.dtype == torch.uint8
    # Untrained (zero output layer): every step repeats the last context frame.
    assert torch.equal(generated[:, -1], context[:, -1])


def test_save_and_reload_with_auto_model(tmp_path):
    model = WorldModel(tiny_config(action_type="gamepad")).eval()
    with torch.no_grad():
        model.predictor.out[0].weight.normal_(std=0.1)
    model.save_pretrained(tmp_path)
    reloaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(reloaded, WorldModel) and reloaded.config.action_type == "gamepad"
    x, a = frames(2, 3, seed=2), torch.rand(2, 25)
    assert torch.allclose(reloaded(x, a).prediction, model(x, a).prediction)

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel

from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig
from nitrogen_hf.models.idm.modeling_idm import (
    action_confidence,
    central_window,
    two_hot,
    window_starts,
)


def tiny_config(**overrides) -> NitroGenIDMConfig:
    values = dict(
        num_frames=4,
        frame_size=(32, 32),
        cnn_channels=(8, 16),
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        stick_bins=5,
    )
    values.update(overrides)
    return NitroGenIDMConfig(**values)


def frames(batch: int, t: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        0,
        256,
        (batch, t, 3, size, size),
        dtype=torch.uint8,
        generator=torch.Generator().manual_seed(seed),
    )


@pytest.mark.parametrize("t", [2, 4])
def test_output_shapes_per_transition(t):
    model = NitroGenIDM(tiny_config(num_frames=t)).eval()
    out = model(frames(3, t))
    assert out.button_logits.shape == (3, t - 1, 21)
    assert out.stick_logits.shape == (3, t - 1, 4, 5)
    prediction = model.predict(frames(3, t))
    assert prediction.vector.shape == (3, t - 1, 25) and prediction.confidence.shape == (3, t - 1)
    assert ((prediction.confidence >= 0) & (prediction.confidence <= 1)).all()


def test_loss_only_counts_observed_dims():
    model = NitroGenIDM(tiny_config()).eval()
    x = frames(2, 4)
    actions = torch.zeros(2, 3, 25)
    observed = torch.zeros(2, 25, dtype=torch.bool)
    observed[:, 18] = True
    base = model(x, actions, observed)
    flipped = actions.clone()
    flipped[..., 0] = 1.0  # an unobserved button changes: loss must not
    flipped[..., 21:] = 1.0  # unobserved sticks too
    assert torch.allclose(model(x, flipped, observed).loss, base.loss)
    flipped[..., 18] = 1.0
    assert not torch.allclose(model(x, flipped, observed).loss, base.loss)
    assert base.stick_loss == 0


def test_save_and_load_round_trip_with_auto_classes(tmp_path):
    model = NitroGenIDM(
        tiny_config(button_temperature=1.7, trained_dims=[True] * 21 + [False] * 4)
    ).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, NitroGenIDM)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), NitroGenIDMConfig)
    assert loaded.config.button_temperature == 1.7 and loaded.config.trained_dims[-1] is False
    x = frames(2, 4)
    torch.testing.assert_close(loaded(x).button_logits, model(x).button_logits)
    again = NitroGenIDM.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(again.predict(x).confidence, model.predict(x).confidence)


def test_pretrained_backbone_trunk(tmp_path):
    from transformers import ResNetConfig, ResNetModel

    backbone = ResNetModel(
        ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic")
    )
    backbone.save_pretrained(tmp_path / "backbone")
    model = NitroGenIDM.from_backbone(
        str(tmp_path / "backbone"), **tiny_config().to_diff_dict() | {"trunk": "backbone"}
    )
    torch.testing.assert_close(
        model.trunk.backbone.embedder.embedder.convolution.weight,
        backbone.embedder.embedder.convolution.weight,
    )
    assert model(frames(2, 4)).button_logits.shape == (2, 3, 21)
    model.save_pretrained(tmp_path / "idm")
    loaded = NitroGenIDM.from_pretrained(tmp_path / "idm")
    torch.testing.assert_close(
        loaded.trunk.backbone.embedder.embedder.convolution.weight,
        backbone.embedder.embedder.convolution.weight,
    )


def test_bad_configs_fail_clearly():
    with pytest.raises(ValueError, match="num_frames"):
        NitroGenIDMConfig(num_frames=1)
    with pytest.raises(ValueError, match="odd"):
        NitroGenIDMConfig(stick_bins=4)
    with pytest.raises(ValueError, match="this IDM takes"):
        NitroGenIDM(tiny_config(num_frames=2))(frames(1, 4))


def test_sliding_windows_give_each_transition_its_most_central_window():
    assert window_starts(10, 4) == [0, 2, 4, 6]
    assert window_starts(11, 4) == [0, 2, 4, 6, 7]
    assert window_starts(3, 8) == [0]
    owner = central_window([0, 2, 4, 6], 10, 4)
    # Window starting at s covers transitions s..s+2 and is centred on s+1.
    assert owner.tolist() == [0, 0, 0, 2, 2, 4, 4, 6, 6]  # ties go to the earlier window


def test_predict_sequence_matches_windowed_predictions():
    torch.manual_seed(0)
    model = NitroGenIDM(tiny_config()).eval()
    clip = frames(1, 11)[0]
    sequence = model.predict_sequence(clip, batch_size=2)
    assert sequence.vector.shape == (10, 25) and sequence.confidence.shape == (10,)
    # Transition 3 is most central in the window starting at 2.
    window = model.predict(clip[2:6][None])
    torch.testing.assert_close(sequence.vector[3], window.vector[0, 1])
    short = model.predict_sequence(clip[:3])
    assert short.vector.shape == (2, 25)


def test_two_hot_targets_interpolate_between_bins():
    target = two_hot(torch.tensor([0.0, 0.5, 0.625, 1.0]), 5)
    expected = torch.tensor(
        [[1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0.5, 0.5, 0], [0, 0, 0, 0, 1.0]]
    )
    torch.testing.assert_close(target, expected)


def test_confidence_is_probability_of_the_whole_action():
    buttons = torch.tensor([[0.9, 0.2] + [0.0] * 19])
    sticks = torch.full((1, 4, 5), 0.2)
    dims = torch.tensor([True, True] + [False] * 23)
    np.testing.assert_allclose(
        action_confidence(buttons, sticks, dims).numpy(), [0.9 * 0.8], rtol=1e-6
    )
    dims[21] = True
    np.testing.assert_allclose(
        action_confidence(buttons, sticks, dims).numpy(), [0.9 * 0.8 * 0.2], rtol=1e-5
    )

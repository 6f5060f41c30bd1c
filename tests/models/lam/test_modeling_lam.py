import pytest
import torch
from transformers import AutoConfig, AutoModel

from nitrogen_hf.models.lam import LatentActionConfig, LatentActionModel
from nitrogen_hf.models.lam.frame_predictor import normalize_frames


def tiny_config(**overrides) -> LatentActionConfig:
    values = dict(
        context_frames=2, frame_size=(16, 16), patch_size=2, channels=(8, 16), latent_dim=8
    )
    values.update(overrides)
    return LatentActionConfig(**values)


def frames(batch: int, t: int, size: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (batch, t, 3, size, size), dtype=torch.uint8, generator=g)


def test_output_shapes_and_clip_encoding():
    model = LatentActionModel(tiny_config()).eval()
    out = model(frames(4, 3))
    assert out.codes.shape == (4,) and out.codes.dtype == torch.long
    assert out.embeddings.shape == (4, 8) and out.prediction.shape == (4, 3, 16, 16)
    assert ((out.codes >= 0) & (out.codes < 8)).all()
    clip = model.encode_clip(frames(1, 10)[0])
    assert clip.codes.shape == (8,)  # transitions t = 1 .. 8 have two frames of context
    window = model.encode(frames(1, 10)[:, 4:7])  # transition 5 -> 6
    assert clip.codes[4] == window.codes[0]


def test_untrained_decoder_copies_frame_t():
    """The decoder's last layer starts at zero: before training it predicts no change."""
    model = LatentActionModel(tiny_config()).eval()
    x = frames(2, 3)
    expected = normalize_frames(x[:, -2], model.config.image_mean, model.config.image_std)
    assert torch.allclose(model(x).prediction, expected)
    assert torch.allclose(model(x).reconstruction_loss, model(x).copy_loss)


def test_reconstruction_gradient_reaches_the_encoder_through_the_codes():
    model = LatentActionModel(tiny_config())
    with torch.no_grad():  # a decoder that is no longer a pure copy
        model.decoder.out[0].weight.normal_(std=0.1)
    model(frames(4, 3)).reconstruction_loss.backward()
    assert model.encoder.proj[1].weight.grad.abs().sum() > 0


def test_window_length_is_checked():
    model = LatentActionModel(tiny_config())
    with pytest.raises(ValueError, match="context_frames \\+ 1 = 3"):
        model(frames(1, 4))


def test_bad_frame_size_names_the_fix():
    with pytest.raises(ValueError, match="multiples of 4"):
        tiny_config(frame_size=(18, 16))


def test_save_and_reload_with_auto_classes(tmp_path):
    model = LatentActionModel(tiny_config())
    model.train()
    model(frames(8, 3))  # initialises and moves the EMA codebook (buffers)
    model.eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert isinstance(AutoConfig.from_pretrained(tmp_path), LatentActionConfig)
    reloaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(reloaded, LatentActionModel)
    assert torch.equal(reloaded.quantizer.codebook, model.quantizer.codebook)
    assert bool(reloaded.quantizer.initialized)
    x = frames(3, 3, seed=1)
    assert torch.equal(reloaded(x).codes, model(x).codes)
    assert torch.allclose(reloaded(x).prediction, model(x).prediction)


GOLDEN_EMBEDDING = [-0.486712, 0.101719, 0.229944, -0.599779]


def test_golden_outputs_of_a_seeded_model():
    """Fixed seed and input: a refactor that changes the numbers fails here."""
    torch.manual_seed(0)
    model = LatentActionModel(tiny_config()).eval()
    x = (torch.arange(2 * 3 * 3 * 16 * 16).reshape(2, 3, 3, 16, 16) * 37 % 251).to(torch.uint8)
    out = model(x)
    torch.testing.assert_close(
        out.embeddings[0, :4], torch.tensor(GOLDEN_EMBEDDING), rtol=1e-4, atol=1e-4
    )
    assert out.codes.tolist() == [6, 3]
    assert out.copy_loss.item() == pytest.approx(0.647964, abs=1e-5)

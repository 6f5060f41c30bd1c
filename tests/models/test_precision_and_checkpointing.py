"""bf16 weights and gradient checkpointing, as transformers users switch them on."""

import pytest
import torch

from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig
from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig

IDM = dict(num_frames=4, frame_size=(32, 32), cnn_channels=(8, 16), hidden_size=32, num_heads=2)


def frames(t: int, size: int = 32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (2, t, 3, size, size), dtype=torch.uint8, generator=generator)


def test_idm_loads_and_runs_in_bf16(tmp_path):
    torch.manual_seed(0)
    NitroGenIDM(NitroGenIDMConfig(**IDM)).save_pretrained(tmp_path)
    full = NitroGenIDM.from_pretrained(tmp_path).eval()
    half = NitroGenIDM.from_pretrained(tmp_path, dtype=torch.bfloat16).eval()
    assert half.dtype == torch.bfloat16
    expected, got = full.predict(frames(4)).vector, half.predict(frames(4)).vector
    assert (got.float() - expected).abs().max() < 0.05


def test_policy_samples_in_bf16():
    torch.manual_seed(0)
    policy = NitroGenPolicy(NitroGenPolicyConfig.preset("tiny")).eval()
    expected = policy.predict_action(frames(1)[:, 0], generator=torch.Generator().manual_seed(0))
    half = policy.to(torch.bfloat16)
    got = half.predict_action(frames(1)[:, 0], generator=torch.Generator().manual_seed(0))
    assert (got.vector.float() - expected.vector).abs().max() < 0.25


def grads(model, loss_of) -> dict[str, torch.Tensor]:
    model.zero_grad()
    loss_of(model).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("kind", ["idm", "policy"])
def test_gradient_checkpointing_gives_the_same_gradients(kind):
    torch.manual_seed(0)
    if kind == "idm":
        model = NitroGenIDM(NitroGenIDMConfig(**IDM, num_layers=2, dropout=0.0))
        actions = torch.rand(2, 3, 25)

        def loss_of(m):
            return m(frames(4), actions).loss
    else:
        model = NitroGenPolicy(NitroGenPolicyConfig.preset("tiny"))
        actions = torch.rand(2, model.config.action_horizon, 25)

        def loss_of(m):
            torch.manual_seed(1)  # the same noise and flow time both times
            return m.compute_loss(frames(1)[:, 0], actions, torch.ones(25, dtype=torch.bool))

    model.train()
    plain = grads(model, loss_of)
    model.gradient_checkpointing_enable()
    assert model.is_gradient_checkpointing
    checkpointed = grads(model, loss_of)
    assert plain.keys() == checkpointed.keys() and len(plain) > 10
    for name, grad in plain.items():
        torch.testing.assert_close(checkpointed[name], grad, rtol=1e-4, atol=1e-6, msg=name)

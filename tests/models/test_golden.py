"""Seeded tiny models give recorded outputs: a refactor that changes the numbers fails here."""

import torch

from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig
from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig

GOLDEN_IDM_BUTTON_LOGITS = [-0.081842, -0.116674, 0.0127, 0.15901]
GOLDEN_POLICY_ACTIONS = [-0.903098, 0.388758, -1.128, -1.742322]


def frames() -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.randint(0, 256, (1, 4, 3, 32, 32), dtype=torch.uint8, generator=generator)


def test_golden_idm():
    torch.manual_seed(0)
    config = NitroGenIDMConfig(
        num_frames=4, frame_size=(32, 32), cnn_channels=(8, 16), stem_stride=4, hidden_size=32,
        num_layers=2, num_heads=2, stick_bins=5,
    )  # fmt: skip
    idm = NitroGenIDM(config).eval()
    with torch.no_grad():
        logits = idm(frames()).button_logits[0, 0, :4]
    torch.testing.assert_close(logits, torch.tensor(GOLDEN_IDM_BUTTON_LOGITS), rtol=0, atol=1e-5)


def test_golden_policy():
    torch.manual_seed(0)
    policy = NitroGenPolicy(NitroGenPolicyConfig.preset("tiny")).eval()
    chunk = policy.predict_action(frames()[0, 0], generator=torch.Generator().manual_seed(2))
    expected = torch.tensor(GOLDEN_POLICY_ACTIONS)
    torch.testing.assert_close(chunk.vector[0, 0, :4], expected, rtol=0, atol=1e-5)

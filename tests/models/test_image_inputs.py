"""Models take frames in the forms an HF image processor takes: HWC arrays, PIL images, lists
of either, CHW tensors, batches."""

import numpy as np
import pytest
import torch
from PIL import Image

from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig
from nitrogen_hf.models.image_inputs import to_frames
from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig

RNG = np.random.default_rng(0)
HWC = RNG.integers(0, 256, (40, 50, 3), dtype=np.uint8)  # as gymnasium and decoders give it
CHW = torch.from_numpy(HWC).permute(2, 0, 1)


@pytest.mark.parametrize(
    "image",
    [HWC, Image.fromarray(HWC), CHW, np.dstack([HWC, np.full((40, 50, 1), 255, np.uint8)])],
    ids=["hwc_array", "pil", "chw_tensor", "hwc_rgba"],
)
def test_one_frame_in_every_form_is_the_same_chw_tensor(image):
    assert torch.equal(to_frames(image), CHW)


def test_lists_stack_and_bad_inputs_say_what_is_wrong():
    assert torch.equal(to_frames([HWC, Image.fromarray(HWC)]), torch.stack([CHW, CHW]))
    with pytest.raises(ValueError, match="uint8"):
        to_frames(HWC.astype(np.float32))
    with pytest.raises(ValueError, match="share a shape"):
        to_frames([HWC, HWC[:20]])
    with pytest.raises(ValueError, match="no RGB channel axis"):
        to_frames(np.zeros((8, 8, 5), np.uint8))
    with pytest.raises(TypeError, match="PIL images"):
        to_frames("frame.png")


def test_predict_action_takes_what_an_image_processor_takes():
    torch.manual_seed(0)
    policy = NitroGenPolicy(NitroGenPolicyConfig.preset("tiny")).eval()

    def sample(frames):
        generator = torch.Generator().manual_seed(3)
        return policy.predict_action(frames, generator=generator).vector

    expected = sample(CHW[None])  # (B, 3, H, W), the form it always took
    for frames in (HWC, Image.fromarray(HWC), [HWC], [Image.fromarray(HWC)], CHW, HWC[None]):
        assert torch.equal(sample(frames), expected)


def test_idm_predict_takes_a_window_of_frames_in_any_form():
    torch.manual_seed(0)
    idm = NitroGenIDM(
        NitroGenIDMConfig(num_frames=2, frame_size=(20, 25), cnn_channels=(8,), hidden_size=16)
    ).eval()
    second = RNG.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    expected = idm.predict(idm.frames_at_input_size(np.stack([HWC, second]))[None]).vector
    for window in ([HWC, second], [Image.fromarray(HWC), Image.fromarray(second)]):
        assert torch.allclose(idm.predict(window).vector, expected)
    sequence = idm.predict_sequence([HWC, second, HWC])
    assert sequence.vector.shape == (2, 25)

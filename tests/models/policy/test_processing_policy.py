import numpy as np
import pytest
import torch
from transformers import SiglipImageProcessorPil

from nitrogen_hf.models.policy.processing_policy import (
    frames_to_batch,
    preprocess_frames,
    resize_like_pil,
)


@pytest.mark.parametrize("size", [(32, 32), (24, 40)])
@pytest.mark.parametrize("source", [(32, 32), (60, 45), (20, 20), (7, 300), (144, 256)])
def test_preprocess_is_bit_identical_to_siglip_processor(size, source):
    """Bicubic resize (down and up), rescale and normalise exactly as SiglipImageProcessor does."""
    image = np.random.default_rng(0).integers(0, 256, (3, *source), dtype=np.uint8)
    processor = SiglipImageProcessorPil(size={"height": size[0], "width": size[1]})
    expected = processor(images=[image], return_tensors="pt")["pixel_values"]
    ours = preprocess_frames(torch.from_numpy(image)[None], size, [0.5] * 3, [0.5] * 3)
    assert torch.equal(ours, expected)


def test_resize_keeps_frames_at_target_size_untouched():
    frames = torch.randint(0, 256, (2, 1, 3, 16, 16), dtype=torch.uint8)
    assert resize_like_pil(frames, (16, 16)) is frames
    assert resize_like_pil(frames, (8, 12)).shape == (2, 1, 3, 8, 12)


def test_frames_to_batch_shapes():
    frame = torch.zeros(3, 8, 8, dtype=torch.uint8)
    assert frames_to_batch(frame, 1).shape == (1, 1, 3, 8, 8)
    assert frames_to_batch(np.zeros((4, 3, 8, 8), np.uint8), 1).shape == (4, 1, 3, 8, 8)
    assert frames_to_batch(torch.zeros(4, 2, 3, 8, 8, dtype=torch.uint8), 2).shape == (
        4,
        2,
        3,
        8,
        8,
    )
    # channels last, as gymnasium and decoders give frames: accepted since issue 13
    assert frames_to_batch(torch.zeros(4, 8, 8, 3, dtype=torch.uint8), 1).shape == (4, 1, 3, 8, 8)
    with pytest.raises(ValueError, match=r"\(B, \[C,\] 3, H, W\)"):
        frames_to_batch(torch.zeros(2, 4, 2, 3, 8, 8, dtype=torch.uint8), 1)

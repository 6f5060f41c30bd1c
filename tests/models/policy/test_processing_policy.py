import numpy as np
import pytest
import torch
from PIL import Image
from transformers import SiglipImageProcessorPil

from nitrogen_hf.models.policy.processing_policy import (
    frames_to_batch,
    pil_resample_matrix,
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


def pil_resize(image: np.ndarray, size) -> np.ndarray:
    """PIL's own bicubic resize of a (3, H, W) uint8 array, as the SigLIP processor calls it."""
    resized = Image.fromarray(image.transpose(1, 2, 0)).resize(
        (size[1], size[0]), Image.Resampling.BICUBIC
    )
    return np.asarray(resized).transpose(2, 0, 1)


@pytest.mark.parametrize("backend", ["pil", "matmul"])
def test_both_resize_backends_are_bit_identical_to_pil(backend):
    """Random sizes up and down (and a 720p frame to the 256 px tower), several frames each."""
    rng = np.random.default_rng(1)
    pairs = [((720, 1280), (256, 256)), ((210, 160), (64, 84))]
    pairs += [(tuple(rng.integers(5, 400, 2)), tuple(rng.integers(5, 300, 2))) for _ in range(12)]
    for source, size in pairs:
        images = rng.integers(0, 256, (3, 3, *source), dtype=np.uint8)
        ours = resize_like_pil(torch.from_numpy(images), size, backend=backend)
        expected = np.stack([pil_resize(image, size) for image in images])
        assert np.array_equal(ours.numpy(), expected), (source, size)


def test_resample_matrices_are_cached_but_handed_out_as_copies():
    matrix = pil_resample_matrix(100, 37)
    matrix.zero_()
    assert pil_resample_matrix(100, 37).abs().sum() > 0
    with pytest.raises(ValueError, match="backend must be"):
        resize_like_pil(torch.zeros(3, 8, 8, dtype=torch.uint8), (4, 4), backend="cv2")

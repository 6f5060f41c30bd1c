import torch

from nitrogen_hf.data.frames import (
    crop_game_area,
    mask_overlay,
    prepare_frames,
    resize_frames,
    scale_box,
)


def test_overlay_pixels_never_reach_the_model_input():
    """Whatever the overlay shows, the prepared input is identical: the model cannot read it."""
    generator = torch.Generator().manual_seed(0)
    game = torch.randint(0, 256, (4, 3, 48, 64), dtype=torch.uint8, generator=generator)
    box = (40, 30, 20, 12)
    with_overlay = game.clone()
    with_overlay[..., 30:42, 40:60] = torch.randint(
        0, 256, (4, 3, 12, 20), dtype=torch.uint8, generator=generator
    )
    without_overlay = game.clone()
    without_overlay[..., 30:42, 40:60] = 0
    for size in [(48, 64), (32, 32), (96, 128)]:
        a = prepare_frames(with_overlay, size, overlay_box=box, box_resolution=(48, 64))
        b = prepare_frames(without_overlay, size, overlay_box=box, box_resolution=(48, 64))
        assert torch.equal(a, b)


def test_mask_covers_the_margin_and_rescales_the_box():
    frames = torch.full((1, 3, 96, 128), 200, dtype=torch.uint8)
    # Box given at 48x64 resolution, frames decoded at twice that size.
    masked = mask_overlay(frames, (40, 30, 20, 12), box_resolution=(48, 64), margin=0.05)
    pad = round(0.05 * 96)
    assert masked[0, :, 60 - pad : 84 + pad, 80 - pad : 120 + pad].max() == 0
    assert masked[0, :, : 60 - pad].min() == 200 and masked[0, :, :, : 80 - pad].min() == 200
    assert frames.min() == 200  # input untouched
    assert scale_box((40, 30, 20, 12), (48, 64), (96, 128)) == (80, 60, 40, 24)


def test_resize_and_crop():
    frames = torch.randint(0, 256, (2, 3, 40, 60), dtype=torch.uint8)
    assert resize_frames(frames, (20, 30)).shape == (2, 3, 20, 30)
    assert resize_frames(frames, (40, 60)) is frames
    cropped = crop_game_area(frames, {"xtl": 0.5, "ytl": 0.0, "xbr": 1.0, "ybr": 0.5})
    assert torch.equal(cropped, frames[..., :20, 30:])

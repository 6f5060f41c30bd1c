"""Variable-frame-rate video is read by timestamp everywhere: the frame paired with an action is
the one on screen at the action's time, not frame floor(t x average fps)."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nitrogen_hf.data.build import BuildConfig, build_dataset
from nitrogen_hf.data.hub_dataset import load_chunk_dataset
from nitrogen_hf.data.video import (
    UntrustedTiming,
    checked_timestamps,
    open_video,
    read_frame_times,
    variable_frame_times,
    video_frame_indices,
)
from nitrogen_hf.data.windows import WindowConfig, WindowDataset

from helpers import gray_ramp_vfr, moving_square_video, write_vfr_mp4


@pytest.fixture(scope="module")
def vfr_video(tmp_path_factory):
    frames, times = gray_ramp_vfr()
    path = tmp_path_factory.mktemp("vfr") / "videos" / "vfr.mp4"
    write_vfr_mp4(path, frames, times)
    return path, times


def frame_shown_at(seconds: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The last frame whose (millisecond-rounded) timestamp is not after `seconds`."""
    return np.searchsorted(np.round(times, 3), seconds + 1e-3, side="right") - 1


def test_timestamps_are_read_and_constant_rate_video_is_recognised(vfr_video, tmp_path):
    from nitrogen_hf.data.video_writer import write_mp4

    path, times = vfr_video
    np.testing.assert_allclose(read_frame_times(path), times, atol=1e-3)
    assert variable_frame_times(path, 30.0) is not None
    constant = write_mp4(tmp_path / "cfr.mp4", moving_square_video(20), fps=30)
    assert variable_frame_times(constant, 30.0) is None  # indices follow from the rate
    ticks = np.arange(45) / 30
    np.testing.assert_array_equal(
        video_frame_indices(0.0, np.arange(45), 30.0, 15.4, times), frame_shown_at(ticks, times)
    )


@pytest.mark.parametrize("backend", ["torchcodec", "pyav"])
def test_both_decoders_index_frames_in_presentation_order(vfr_video, backend):
    path, _ = vfr_video
    with open_video(path, backend) as reader:
        levels = reader.get_frames([0, 19, 20, 39]).float().mean(dim=(1, 2, 3)).numpy()
    np.testing.assert_allclose(levels, [0, 114, 120, 234], atol=3)


def test_training_windows_pair_each_action_with_the_frame_on_screen(vfr_video, tmp_path):
    path, times = vfr_video
    steps = 75  # 2.5 s of actions at 30 fps: past the switch to 10 fps at 0.67 s
    chunk = tmp_path / "actions" / "vfr" / "vfr_chunk_0000"
    chunk.mkdir(parents=True)
    meta = {"uuid": "vfr_chunk_0000_actions", "chunk_id": "0000", "chunk_size": steps,
            "original_video": {"video_id": "vfr", "start_time": 0.0, "end_time": steps / 30,
                               "fps": 30}}  # fmt: skip
    (chunk / "metadata.json").write_text(json.dumps(meta))
    pq.write_table(
        pa.table({"south": np.zeros(steps, np.uint8)}), chunk / "actions_processed.parquet"
    )
    summary = build_dataset(
        BuildConfig([tmp_path / "actions"], path.parent, tmp_path / "ds", progress=False)
    )
    assert summary["variable_frame_rate_videos"] == ["vfr"]
    (row,) = list(load_chunk_dataset(tmp_path / "ds"))
    expected = frame_shown_at(np.arange(steps) / 30, times)
    assert row["frame_index"] == expected.tolist()
    windows = WindowDataset(
        load_chunk_dataset(tmp_path / "ds"),
        WindowConfig.idm(2, frame_size=(32, 32), stride=1, shuffle=False, backend="pyav"),
    )
    for sample in windows:
        step = int(np.flatnonzero(expected == sample["start_frame"])[0])
        level = sample["frames"][0].float().mean().item()
        assert abs(level - 6 * expected[step]) < 3, (step, level)


def test_labeling_samples_a_variable_rate_video_by_timestamp(vfr_video):
    from nitrogen_hf.labeling.labeler import sampled_frames

    path, times = vfr_video
    index = sampled_frames(len(times), 15.4, 30.0, variable_frame_times(path, 15.4))
    np.testing.assert_array_equal(index, frame_shown_at(np.arange(len(index)) / 15.4, times))
    assert len(index) == int(np.ceil((times[-1] + 1 / 15.4) * 15.4 - 1e-6))
    np.testing.assert_array_equal(sampled_frames(40, 30.0, None), np.arange(40))  # constant rate


def test_missing_or_repeated_timestamps_are_untrusted():
    np.testing.assert_array_equal(checked_timestamps([20, 0, 10], "v.mp4"), [0, 10, 20])
    with pytest.raises(UntrustedTiming, match="v.mp4: untrusted timing: several frames share"):
        checked_timestamps([0, 10, 10, 20], "v.mp4")
    with pytest.raises(UntrustedTiming, match="without presentation timestamps"):
        checked_timestamps([0, None, 20], "v.mp4")

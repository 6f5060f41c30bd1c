import numpy as np
import pytest
import torch

from nitrogen_hf.data.video import VideoError, frame_index_at, open_video
from nitrogen_hf.data.video_writer import Mp4Writer, write_mp4

from helpers import moving_square_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = moving_square_video(75, height=48, width=64)
    path = write_mp4(
        tmp_path_factory.mktemp("video") / "clip.mp4", frames, fps=30, keyframe_interval=15
    )
    return path, frames


def test_torchcodec_and_pyav_give_the_same_frames(clip):
    path, _ = clip
    indices = [0, 1, 14, 15, 16, 74, 3, 40, 40, 60]  # keyframe edges, backwards, repeats
    with open_video(path, "torchcodec") as tc, open_video(path, "pyav") as av:
        assert (
            (tc.num_frames, tc.fps, tc.height, tc.width)
            == (av.num_frames, av.fps, av.height, av.width)
            == (75, 30.0, 48, 64)
        )
        a, b = tc.get_frames(indices), av.get_frames(indices)
    assert a.shape == (10, 3, 48, 64) and a.dtype == torch.uint8
    assert torch.equal(a, b)


def test_decoded_frames_match_what_was_encoded(clip):
    path, frames = clip
    with open_video(path) as reader:
        decoded = reader.get_frames(range(75)).permute(0, 2, 3, 1).numpy().astype(int)
    assert np.abs(decoded - frames.astype(int)).mean() < 2.0  # crf 18: near lossless


def test_timestamps_select_the_frame_on_screen(clip):
    path, _ = clip
    with open_video(path, "pyav") as reader:
        by_time = reader.get_frames_at([0.0, 1 / 30, 0.999, 2.0])
        by_index = reader.get_frames([0, 1, 29, 60])
    assert torch.equal(by_time, by_index)
    assert frame_index_at(10 / 30, 30) == 10  # float error at frame edges


def test_sequential_batches_cover_a_range(clip):
    path, _ = clip
    with open_video(path) as reader:
        batches = list(reader.iter_batches(32, start=10, stop=75))
        assert [first for first, _ in batches] == [10, 42, 74]
        assert torch.equal(torch.cat([b for _, b in batches]), reader.get_frames(range(10, 75)))


@pytest.mark.parametrize("backend", ["torchcodec", "pyav", "auto"])
def test_errors_name_the_file(tmp_path, clip, backend):
    bad = tmp_path / "not_a_video.mp4"
    bad.write_bytes(b"definitely not a video")
    with pytest.raises(VideoError, match="not_a_video.mp4"):
        open_video(bad, backend)
    with pytest.raises(VideoError, match="missing.mp4"):
        open_video(tmp_path / "missing.mp4", backend)
    with open_video(clip[0], backend) as reader, pytest.raises(VideoError, match="out of range"):
        reader.get_frames([75])


def test_writer_is_atomic_and_checks_sizes(tmp_path):
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), Mp4Writer(target, 30, 64, 48) as writer:
        writer.write(np.zeros((48, 64, 3), np.uint8))
        raise RuntimeError("interrupted")
    assert not target.exists() and not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="even"):
        Mp4Writer(target, 30, 63, 48)
    writer = Mp4Writer(target, 30, 64, 48)
    with pytest.raises(ValueError, match="shape"):
        writer.write(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="no frames"):
        writer.close()
    assert not list(tmp_path.iterdir())

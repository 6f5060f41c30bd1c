"""Labeling a long video segment by segment gives the labels of one pass over the whole clip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nitrogen_hf.data.frames import prepare_frames
from nitrogen_hf.data.video import VideoError, open_video
from nitrogen_hf.data.video_writer import write_mp4
from nitrogen_hf.labeling.decoding import ScaledTorchCodecReader, open_for_labeling, source_size
from nitrogen_hf.labeling.labeler import (
    FrameWindow,
    frame_changes,
    label_video,
    sampled_frames,
)
from nitrogen_hf.labeling.segments import plan_segments
from nitrogen_hf.models.idm import NitroGenIDM

from helpers import sprite_game


@pytest.mark.parametrize("num_frames, size, window", [(200, 12, 4), (101, 7, 8), (5, 40, 8)])
def test_segments_cover_every_transition_once_from_the_window_grid(num_frames, size, window):
    segments = plan_segments(num_frames, size, window)
    kept = np.concatenate([np.arange(s.keep_start, s.keep_stop) for s in segments])
    assert kept.tolist() == list(range(num_frames - 1))
    for s in segments:
        assert s.start % (window // 2) == 0 and 0 <= s.start <= s.keep_start
        assert s.stop <= num_frames and s.keep_stop < s.stop
        assert s.start == 0 or s.keep_start - s.start >= window  # context before
        assert s.stop == num_frames or s.stop - s.keep_stop >= window  # context after


def test_frame_window_serves_overlapping_requests_from_a_stream():
    stream = (torch.arange(i, min(i + 7, 30)) for i in range(0, 30, 7))
    window = FrameWindow(stream)
    assert window.take(0, 10).tolist() == list(range(10))
    assert window.take(6, 20).tolist() == list(range(6, 20))
    assert window.take(18, 30).tolist() == list(range(18, 30))
    with pytest.raises(StopIteration):
        window.take(25, 31)


def test_sampled_frames_take_every_other_frame_at_half_rate():
    assert sampled_frames(7, 60.0, 30.0).tolist() == [0, 2, 4, 6]
    assert sampled_frames(5, 30.0, None).tolist() == [0, 1, 2, 3, 4]


def test_frame_changes_is_the_mean_absolute_difference():
    frames = torch.zeros(3, 3, 2, 2, dtype=torch.uint8)
    frames[1] = 4
    assert frame_changes(frames).tolist() == [4.0, 4.0]


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    write_mp4(path, sprite_game(230, seed=3)[0], fps=30)
    return path


@pytest.mark.parametrize("segment_seconds, decode_batch", [(0.4, 7), (1.0, 32), (100.0, 64)])
def test_segmented_labels_equal_one_pass_over_the_whole_clip(
    tiny_idm, long_video, segment_seconds, decode_batch
):
    model = NitroGenIDM.from_pretrained(tiny_idm).eval()
    size = model.config.frame_size
    with open_video(long_video) as reader:
        whole = model.predict_sequence(prepare_frames(reader.get_frames(range(230)), size))
    with open_for_labeling(long_video, size, resize_in_decoder=False) as reader:
        labels = label_video(
            model, reader, segment_seconds=segment_seconds, decode_batch=decode_batch
        )
    assert labels.vector.shape == (229, 25) and labels.num_frames == 230
    assert ((labels.vector > 0.5) == (whole.vector.numpy() > 0.5)).all()
    np.testing.assert_allclose(labels.vector, whole.vector.numpy(), atol=1e-5)
    np.testing.assert_allclose(labels.confidence, whole.confidence.numpy(), atol=1e-5)


def test_decoder_resizing_labels_equal_one_pass_over_its_frames(tiny_idm, long_video):
    model = NitroGenIDM.from_pretrained(tiny_idm).eval()
    with ScaledTorchCodecReader(long_video, model.config.frame_size) as reader:
        assert source_size(reader) == (48, 48) and (reader.height, reader.width) == (24, 24)
        frames = reader.get_frames(range(reader.num_frames))
        labels = label_video(model, reader, segment_seconds=0.5)
    whole = model.predict_sequence(frames)
    assert ((labels.vector > 0.5) == (whole.vector.numpy() > 0.5)).all()
    np.testing.assert_allclose(labels.confidence, whole.confidence.numpy(), atol=1e-5)
    np.testing.assert_allclose(labels.motion, frame_changes(frames), atol=1e-6)


def test_a_60_fps_video_is_labeled_at_30_fps_on_every_other_frame(tiny_idm, tmp_path):
    path = write_mp4(tmp_path / "fast.mp4", sprite_game(120, seed=4)[0], fps=60)
    model = NitroGenIDM.from_pretrained(tiny_idm).eval()
    size = model.config.frame_size
    with open_video(path) as reader:
        whole = model.predict_sequence(prepare_frames(reader.get_frames(range(0, 120, 2)), size))
    with open_for_labeling(path, size, resize_in_decoder=False) as reader:
        labels = label_video(model, reader, fps=30.0, segment_seconds=0.5)
    assert labels.fps == 30.0 and labels.frame_index.tolist() == list(range(0, 120, 2))
    assert ((labels.vector > 0.5) == (whole.vector.numpy() > 0.5)).all()


def test_a_truncated_video_raises_a_video_error_naming_it(tiny_idm, tmp_path):
    full = write_mp4(tmp_path / "full.mp4", sprite_game(300, seed=5)[0], fps=30).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full[: len(full) // 2])
    model = NitroGenIDM.from_pretrained(tiny_idm).eval()
    with (
        pytest.raises(VideoError, match="cut.mp4"),
        open_for_labeling(cut, model.config.frame_size) as reader,
    ):
        label_video(model, reader)


def test_prefetch_keeps_order_raises_the_producers_error_and_stops_early():
    import threading

    from nitrogen_hf.labeling.labeler import prefetch

    assert list(prefetch(iter(range(10)), depth=2)) == list(range(10))
    assert list(prefetch(iter(range(3)), depth=0)) == [0, 1, 2]

    def failing():
        yield 1
        raise VideoError("broken.mp4: frame 1 failed")

    items = prefetch(failing(), depth=2)
    assert next(items) == 1
    with pytest.raises(VideoError, match="broken.mp4"):
        next(items)
    endless = prefetch(iter(range(10**9)), depth=2)
    assert next(endless) == 0
    endless.close()  # the producer thread ends instead of filling the queue forever
    assert not any(t.name == "nitrogen-decode" for t in threading.enumerate())

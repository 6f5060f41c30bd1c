import numpy as np
import pyarrow.parquet as pq
import pytest

from nitrogen_hf.actions import ATARI_OBSERVED, GamepadActions
from nitrogen_hf.data.metadata import ChunkMetadata, OriginalVideo
from nitrogen_hf.data.nitrogen_reader import PROCESSED_FILE, iter_chunks
from nitrogen_hf.data.nitrogen_writer import write_chunk


def make_metadata(chunk: int, size: int = 30) -> ChunkMetadata:
    video = OriginalVideo("v1", start_time=chunk, end_time=chunk + 1, fps=30, resolution=(210, 160))
    return ChunkMetadata(
        f"v1_chunk_{chunk:04d}_actions",
        f"{chunk:04d}",
        size,
        video,
        game="pong",
        bbox_controller_overlay=(100, 170, 56, 36),
        extra={"label_source": "pseudo"},
    )


def test_written_chunks_read_back_identically(tmp_path):
    rng = np.random.default_rng(0)
    actions = GamepadActions(rng.integers(0, 2, (30, 21)), np.zeros((30, 4)), ATARI_OBSERVED)
    confidence = rng.random(30).astype(np.float32)
    path = write_chunk(tmp_path, make_metadata(0), actions, confidence)
    assert path == tmp_path / "v1" / "v1_chunk_0000"
    (chunk,) = list(iter_chunks(tmp_path))
    assert chunk.metadata == make_metadata(0)
    np.testing.assert_array_equal(chunk.actions.observed, ATARI_OBSERVED)
    np.testing.assert_array_equal(
        chunk.actions.buttons[:, ATARI_OBSERVED[:21]], actions.buttons[:, ATARI_OBSERVED[:21]]
    )
    np.testing.assert_array_equal(chunk.confidence, confidence)


def test_identifiable_masks_round_trip_with_unprobed_frames_null(tmp_path):
    masks = np.full((30, 25), -1, np.int8)
    masks[[0, 15]] = np.random.default_rng(1).integers(0, 2, (2, 25))
    write_chunk(
        tmp_path, make_metadata(0), GamepadActions.zeros(30, ATARI_OBSERVED), identifiable=masks
    )
    (chunk,) = list(iter_chunks(tmp_path))
    np.testing.assert_array_equal(chunk.identifiable, masks)
    column = pq.read_table(tmp_path / "v1" / "v1_chunk_0000" / PROCESSED_FILE).column(
        "identifiable"
    )
    assert column.null_count == 28
    write_chunk(tmp_path, make_metadata(1), GamepadActions.zeros(30, ATARI_OBSERVED))
    assert [c.identifiable is None for c in iter_chunks(tmp_path)] == [False, True]
    with pytest.raises(ValueError, match=r"must be \(N, 25\)"):
        write_chunk(tmp_path, make_metadata(2), GamepadActions.zeros(30), identifiable=masks[:, :5])


def test_rewrite_replaces_and_leftover_staging_is_ignored(tmp_path):
    actions = GamepadActions.zeros(30, ATARI_OBSERVED)
    write_chunk(tmp_path, make_metadata(0), actions)
    actions.buttons[:, 18] = 1
    write_chunk(tmp_path, make_metadata(0), actions)
    # An interrupted write leaves a hidden staging folder; readers skip it.
    staging = tmp_path / "v1" / ".v1_chunk_0001.tmp-dead"
    staging.mkdir()
    (staging / "metadata.json").write_text("{")
    chunks = list(iter_chunks(tmp_path))
    assert len(chunks) == 1 and chunks[0].actions.buttons[:, 18].all()
    assert sorted(p.name for p in (tmp_path / "v1").iterdir()) == [
        ".v1_chunk_0001.tmp-dead",
        "v1_chunk_0000",
    ]

import json

import numpy as np
import pytest

from nitrogen_hf.actions import BUTTON_INDEX
from nitrogen_hf.data.metadata import ChunkMetadata, MetadataError
from nitrogen_hf.data.nitrogen_reader import iter_chunks
from nitrogen_hf.data.skips import SkipLog


def read(path):
    skips = SkipLog(quiet=True)
    return {c.metadata.uuid: c for c in iter_chunks(path, skips)}, skips


def test_tar_shard_streams_the_same_chunks_as_the_extracted_folder(nitrogen_fixture):
    from_tar, tar_skips = read(nitrogen_fixture.shard)
    from_folder, folder_skips = read(nitrogen_fixture.folder)
    assert set(from_tar) == set(from_folder) == nitrogen_fixture.expected_good
    for uuid, chunk in from_tar.items():
        np.testing.assert_array_equal(chunk.actions.buttons, from_folder[uuid].actions.buttons)
    assert tar_skips.counts() == folder_skips.counts() == nitrogen_fixture.expected_errors


def test_broken_chunks_are_reported_with_file_and_reason(nitrogen_fixture):
    _, skips = read(nitrogen_fixture.shard)
    by_kind = {s.kind: s for s in skips.skips}
    assert "corrupt/corrupt_chunk_0000" in by_kind["corrupt_parquet"].path
    assert "actions_processed.parquet" in by_kind["corrupt_parquet"].message
    assert "chunk_size" in by_kind["bad_metadata"].message
    assert "metadata.json" in by_kind["bad_json"].message
    assert "no action columns" in by_kind["missing_column"].message


def test_fps_is_read_or_derived(nitrogen_fixture):
    chunks, _ = read(nitrogen_fixture.shard)
    assert chunks["vid30_chunk_0000_actions"].metadata.fps == 30
    assert chunks["vid60_chunk_0000_actions"].metadata.original_video.fps is None
    assert chunks["vid60_chunk_0000_actions"].metadata.fps == 60  # 60 rows / 1.0 s


def test_processed_parquet_preferred_raw_as_fallback(nitrogen_fixture):
    chunks, _ = read(nitrogen_fixture.shard)
    assert chunks["vid30_chunk_0000_actions"].actions_file == "actions_processed.parquet"
    assert chunks["vid60_chunk_0000_actions"].actions_file == "actions_raw.parquet"


def test_optional_fields_absent_and_overlay_clipped(nitrogen_fixture):
    chunks, _ = read(nitrogen_fixture.shard)
    meta60 = chunks["vid60_chunk_0000_actions"].metadata
    assert meta60.controller_type is None and meta60.overlay_box() is None
    assert meta60.bbox_game_area is None
    # [40, 30, 40, 30] in a 64x48 frame is clipped to the frame.
    assert chunks["vid30_chunk_0000_actions"].metadata.overlay_box() == (40, 30, 24, 18)


def test_missing_columns_and_right_stick_buttons_are_unobserved(nitrogen_fixture):
    chunks, _ = read(nitrogen_fixture.shard)
    mask = chunks["novideo_chunk_0000_actions"].actions.observed
    assert not mask[BUTTON_INDEX["west"]] and not mask[23:].any() and mask[21:23].all()
    full = chunks["vid30_chunk_0000_actions"].actions.observed
    assert full.sum() == 17 + 4  # released files lack right_bottom/left/right/up
    assert not full[BUTTON_INDEX["right_up"]]


def test_metadata_round_trip_keeps_extra_fields():
    data = {
        "uuid": "v_chunk_0000_actions",
        "chunk_id": "0000",
        "chunk_size": 600,
        "original_video": {"video_id": "v", "start_time": 0, "end_time": 20.0},
        "label_source": "pseudo",
        "idm": {"sha256": "abc"},
    }
    meta = ChunkMetadata.from_json(data)
    assert meta.fps == 30 and meta.extra == {"label_source": "pseudo", "idm": {"sha256": "abc"}}
    assert ChunkMetadata.from_json(json.loads(json.dumps(meta.to_json()))) == meta


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"original_video": {"start_time": 0, "end_time": 1}}, "original_video.video_id"),
        ({"chunk_size": "600"}, "chunk_size"),
        ({"original_video": {"video_id": "v", "start_time": 5, "end_time": 1}}, "end_time"),
        ({"bbox_controller_overlay": [1, 2]}, "bbox_controller_overlay"),
    ],
)
def test_metadata_errors_name_the_field(patch, message):
    data = {"chunk_size": 30, "original_video": {"video_id": "v", "start_time": 0, "end_time": 1}}
    data.update(patch)
    with pytest.raises(MetadataError, match=message):
        ChunkMetadata.from_json(data)


def test_missing_path_and_wrong_file_type_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        list(iter_chunks(tmp_path / "nope"))
    (tmp_path / "x.zip").write_bytes(b"")
    with pytest.raises(ValueError, match=r"x\.zip"):
        list(iter_chunks(tmp_path / "x.zip"))


def test_truncated_shard_keeps_the_chunks_before_the_damage(nitrogen_fixture, tmp_path):
    data = nitrogen_fixture.shard.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    chunks, skips = read(cut)
    assert 0 < len(chunks) < len(nitrogen_fixture.expected_good)
    assert skips.counts().get("corrupt_shard") == 1

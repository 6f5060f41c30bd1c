import json

from nitrogen_hf.cli import main
from nitrogen_hf.data.summary import format_summary, summarize


def test_summary_counts_chunks_games_fps_and_errors(nitrogen_fixture):
    summary = summarize(nitrogen_fixture.shard)
    assert summary["chunks"] == len(nitrogen_fixture.expected_good)
    assert summary["fps"] == {"30": 5, "60": 1}
    assert summary["games"] == {"celeste": 6}
    assert summary["errors"] == nitrogen_fixture.expected_errors
    assert summary["hours"] == round((5 * 1.0 + 1 * 1.0) / 3600, 4)
    assert summary["actions_files"] == {"actions_processed.parquet": 5, "actions_raw.parquet": 1}
    assert "right_up" not in summary["observed_dims"]
    assert 0 < summary["action_density"]["mean_active_fraction"] <= 1


def test_summary_joins_local_videos(nitrogen_fixture):
    summary = summarize(nitrogen_fixture.folder, videos_dir=nitrogen_fixture.videos)
    join = summary["video_join"]
    assert join["videos_missing"] == 1 and join["missing_video_ids"] == ["novideo"]
    assert join["videos_unreadable"] == 1 and join["unreadable_video_ids"] == ["truncated"]
    assert join["chunks_usable"] == 3 and join["chunks_without_video"] == 1
    expected = {**nitrogen_fixture.expected_errors, **nitrogen_fixture.expected_video_errors}
    assert summary["errors"] == expected
    text = format_summary(summary)
    assert "1 missing" in text and "novideo" in text and "corrupt_parquet" in text


def test_video_map_file_overrides_the_folder(nitrogen_fixture, tmp_path):
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"video_id,path\nnovideo,{nitrogen_fixture.videos / 'vid30.mp4'}\n")
    join = summarize(nitrogen_fixture.shard, video_map=mapping)["video_join"]
    assert join["videos_found"] == 1  # only the mapped one; no folder given


def test_inspect_cli_prints_json(nitrogen_fixture, capsys):
    assert (
        main(
            [
                "inspect",
                str(nitrogen_fixture.shard),
                "--videos",
                str(nitrogen_fixture.videos),
                "--json",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["chunks"] == len(nitrogen_fixture.expected_good)
    assert printed["video_join"]["videos_found"] == 4

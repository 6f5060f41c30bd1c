"""Every command against broken inputs, as a new user makes them: the run ends with exit code 2
and one line naming the file and the problem (no traceback without --debug), or the bad part
is skipped and counted in the summary while the rest goes on; nothing a previous run wrote is
lost."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nitrogen_hf.cli import main

from helpers import make_sprite_dataset, moving_square_video

CHUNK = 30  # action rows per chunk: 1 s at 30 fps


# --- tiny inputs, broken on purpose -----------------------------------------------------------
def chunk_meta(video_id: str, index: int, **changes) -> dict:
    video = {
        "video_id": video_id,
        "resolution": [48, 64],
        "start_time": index * 1.0,
        "end_time": index + 1.0,
        "duration": 1.0,
        "fps": 30,
    }
    video.update(changes.pop("original_video", {}))
    meta = {
        "uuid": f"{video_id}_chunk_{index:04d}_actions",
        "chunk_id": f"{index:04d}",
        "chunk_size": CHUNK,
        "game": "squares",
        "bbox_controller_overlay": [40, 30, 20, 14],
        "original_video": video,
    }
    meta.update(changes)
    return meta


def action_rows(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "south": (rng.random(CHUNK) < 0.4).astype(np.uint8),
            "dpad_left": (rng.random(CHUNK) < 0.4).astype(np.uint8),
            "j_left": [list(map(float, v)) for v in rng.uniform(-1, 1, (CHUNK, 2)).round(3)],
        }
    )


def write_chunk_folder(root: Path, video_id: str, index: int, meta: dict, table: pa.Table) -> None:
    folder = root / video_id / f"{video_id}_chunk_{index:04d}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metadata.json").write_text(json.dumps(meta))
    pq.write_table(table, folder / "actions_processed.parquet")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Two good videos with two chunks each (actions/ and videos/)."""
    from nitrogen_hf.data.video_writer import write_mp4

    root = tmp_path_factory.mktemp("corpus")
    for k, video_id in enumerate(("good_a", "good_b")):
        write_mp4(root / "videos" / f"{video_id}.mp4", moving_square_video(60, seed=k), fps=30)
        for index in range(2):
            write_chunk_folder(
                root / "actions", video_id, index, chunk_meta(video_id, index), action_rows(k)
            )
    return root


@pytest.fixture(scope="module")
def sprite(tmp_path_factory) -> Path:
    return make_sprite_dataset(tmp_path_factory.mktemp("sprite"))


@pytest.fixture(scope="module")
def trained(sprite, tmp_path_factory) -> dict[str, Path]:
    """A debug IDM and a debug policy, trained once for the module."""
    root = tmp_path_factory.mktemp("models")
    assert main(["train-idm", "--data", str(sprite), "--out", str(root / "idm"),
                 "--preset", "debug", "--report-to", "none"]) == 0  # fmt: skip
    assert main(["train-policy", "--data", f"truth={sprite}", "--out", str(root / "policy"),
                 "--preset", "debug", "--report-to", "none"]) == 0  # fmt: skip
    return {"idm": root / "idm", "policy": root / "policy"}


def fails_clearly(capsys, argv: list[str], *fragments: str) -> str:
    """Run the command; it must exit 2 with one line naming what is wrong, no traceback."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith(f"nitrogen-hf {argv[0]}: "), err
    for fragment in fragments:
        assert fragment in last, (fragment, last)
    return last


def build(corpus: Path, out: Path, *actions: Path) -> int:
    roots = [str(p) for p in actions] or [str(corpus / "actions")]
    return main(["build-dataset", "--actions", *roots, "--videos", str(corpus / "videos"),
                 "--out", str(out)])  # fmt: skip


def summary_of(out: Path) -> dict:
    return json.loads((out / "build_summary.json").read_text())


# --- inspect and build-dataset ----------------------------------------------------------------
def test_inspect_a_missing_or_wrong_path(tmp_path, capsys):
    fails_clearly(capsys, ["inspect", str(tmp_path / "nope")], "nope", "no such shard")
    (tmp_path / "notes.txt").write_text("hi")
    fails_clearly(capsys, ["inspect", str(tmp_path / "notes.txt")], "notes.txt", ".tar.gz")


@pytest.mark.parametrize(
    ("case", "edit", "kind", "message"),
    [
        ("nan_button", lambda m, t: (m, t.set_column(0, "south", pa.array([math.nan] * CHUNK))),
         "bad_actions", "missing (NaN/null)"),
        ("nan_stick", lambda m, t: (m, t.set_column(2, "j_left", pa.array(
            [[math.nan, 0.0]] * CHUNK, pa.list_(pa.float64())))), "bad_actions", "NaN"),
        ("negative_box", lambda m, t: ({**m, "bbox_controller_overlay": [40, 30, -20, 14]}, t),
         "bad_metadata", "no positive width and height"),
        ("bad_duration", lambda m, t: ({**m, "original_video": {**m["original_video"],
                                                                "duration": 2.0}}, t),
         "bad_metadata", "contradicts end_time - start_time"),
    ],
    ids=["nan_button", "nan_stick", "negative_box", "bad_duration"],
)  # fmt: skip
def test_build_skips_a_bad_chunk_counts_it_and_keeps_the_rest(
    corpus, tmp_path, case, edit, kind, message
):
    bad = tmp_path / "bad_actions"
    meta, table = edit(chunk_meta("good_a", 5, original_video={"start_time": 0.0,
                                                                "end_time": 1.0}),
                       action_rows(3))  # fmt: skip
    meta["uuid"] = f"{case}_chunk"
    write_chunk_folder(bad, "good_a", 5, meta, table)
    assert build(corpus, tmp_path / "ds", corpus / "actions", bad) == 0
    summary = summary_of(tmp_path / "ds")
    assert summary["chunks"] == 4 and summary["skipped"]["by_kind"] == {kind: 1}
    item = summary["skipped"]["items"][0]
    assert str(bad) in item["path"] and message in item["message"]


def test_the_same_chunks_twice_count_once(corpus, tmp_path):
    assert build(corpus, tmp_path / "once") == 0
    assert build(corpus, tmp_path / "twice", corpus / "actions", corpus / "actions") == 0
    copy = tmp_path / "copy"  # one uuid in two folders
    for index in range(2):
        write_chunk_folder(copy, "good_a", index, chunk_meta("good_a", index), action_rows(0))
    assert build(corpus, tmp_path / "other", corpus / "actions", copy) == 0
    once = summary_of(tmp_path / "once")
    for name, kind in (("twice", "duplicate_input"), ("other", "duplicate_chunk")):
        summary = summary_of(tmp_path / name)
        assert summary["hours"] == once["hours"] and summary["chunks"] == 4
        assert kind in summary["skipped"]["by_kind"]


def test_a_build_that_finds_nothing_keeps_the_previous_dataset(corpus, tmp_path, capsys):
    out = tmp_path / "ds"
    assert build(corpus, out) == 0
    before = {p.name: p.read_bytes() for p in (out / "data").iterdir()}
    empty_videos = tmp_path / "no_videos"
    empty_videos.mkdir()
    argv = ["build-dataset", "--actions", str(corpus / "actions"), "--videos", str(empty_videos),
            "--out", str(out)]  # fmt: skip
    fails_clearly(capsys, argv, "no usable chunk", "missing_video 4", "left as it was")
    assert {p.name: p.read_bytes() for p in (out / "data").iterdir()} == before
    import tarfile

    shard = tmp_path / "SHARD_EMPTY.tar.gz"
    with tarfile.open(shard, "w:gz"):
        pass
    argv = ["build-dataset", "--actions", str(shard), "--videos", str(corpus / "videos"),
            "--out", str(tmp_path / "from_empty")]  # fmt: skip
    fails_clearly(capsys, argv, "empty_shard 1")
    assert not (tmp_path / "from_empty" / "data").exists()


def test_build_dataset_without_its_videos_folder(corpus, tmp_path, capsys):
    argv = ["build-dataset", "--actions", str(corpus / "actions"), "--videos",
            str(tmp_path / "missing"), "--out", str(tmp_path / "ds")]  # fmt: skip
    fails_clearly(capsys, argv, "missing", "video folder not found")


def test_a_killed_build_resumes_where_it_stopped(corpus, tmp_path, monkeypatch):
    """Killed after the first source: the re-run reads only the second and cleans up."""
    from nitrogen_hf.data import build as build_module

    extra = tmp_path / "more"
    write_chunk_folder(extra, "good_b", 7, {**chunk_meta("good_b", 0), "uuid": "more"},
                       action_rows(5))  # fmt: skip
    real, calls = build_module.iter_source_rows, []

    def dies_on_the_second_source(source, *args):
        calls.append(source)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as a kill would, midway
        yield from real(source, *args)

    monkeypatch.setattr(build_module, "iter_source_rows", dies_on_the_second_source)
    with pytest.raises(KeyboardInterrupt):
        build_module.build_dataset(build_module.BuildConfig(
            [corpus / "actions", extra], corpus / "videos", tmp_path / "ds", progress=False))  # fmt: skip
    assert (tmp_path / "ds" / build_module.STAGING_DIR / "progress.json").is_file()
    monkeypatch.setattr(build_module, "iter_source_rows", lambda s, *a: (calls.append(s), real(s, *a))[1])  # fmt: skip
    calls.clear()
    summary = build_module.build_dataset(build_module.BuildConfig(
        [corpus / "actions", extra], corpus / "videos", tmp_path / "ds", progress=False))  # fmt: skip
    assert calls == [extra] and summary["chunks"] == 5
    assert [p.name for p in (tmp_path / "ds").iterdir() if p.name.startswith(".")] == []


# --- training and evaluation ------------------------------------------------------------------
def test_train_and_eval_with_a_dataset_that_is_not_there(tmp_path, capsys, trained):
    for path, fragment in ((tmp_path / "nope", "no such dataset folder"),
                           (tmp_path, "not a build-dataset output")):  # fmt: skip
        fails_clearly(capsys, ["train-idm", "--data", str(path), "--out", str(tmp_path / "m"),
                               "--preset", "debug"], str(path), fragment)  # fmt: skip
        fails_clearly(capsys, ["eval-idm", "--model", str(trained["idm"]), "--data", str(path),
                               "--out", str(tmp_path / "e")], fragment)  # fmt: skip
        fails_clearly(capsys, ["train-policy", "--data", f"a={path}", "--out",
                               str(tmp_path / "p"), "--preset", "debug"], fragment)  # fmt: skip
    fails_clearly(capsys, ["train-policy", "--data", "nothing", "--out", str(tmp_path / "p")],
                  "expected NAME=PATH")  # fmt: skip


def test_training_counts_the_chunks_it_skips(sprite, tmp_path):
    """Videos re-pointed to a folder that holds only some of them: the run goes on and says."""
    import shutil

    videos = tmp_path / "videos"
    videos.mkdir()
    for path in sorted((sprite.parent / "videos").glob("*.mp4"))[:3]:
        shutil.copy(path, videos)
    assert main(["train-idm", "--data", str(sprite), "--out", str(tmp_path / "idm"),
                 "--preset", "debug", "--videos", str(videos), "--report-to", "none"]) == 0  # fmt: skip
    summary = json.loads((tmp_path / "idm" / "training_summary.json").read_text())
    assert summary["skipped_chunks"]["missing_video"] > 0


def test_a_model_folder_that_is_not_one(trained, tmp_path, sprite, capsys):
    import shutil

    no_config = tmp_path / "no_config"
    shutil.copytree(trained["idm"], no_config)
    (no_config / "config.json").unlink()
    argv = ["eval-idm", "--model", str(no_config), "--data", str(sprite), "--out", str(tmp_path)]
    fails_clearly(capsys, argv, str(no_config), "no config.json")
    truncated = tmp_path / "truncated"
    shutil.copytree(trained["idm"], truncated)
    weights = truncated / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    argv[2] = str(truncated)
    fails_clearly(capsys, argv, str(weights), "truncated or corrupt")
    argv[2] = str(trained["policy"])
    fails_clearly(capsys, argv, "model_type 'nitrogen_policy', expected 'nitrogen_idm'")


def test_eval_policy_with_a_wrong_env_or_model(trained, tmp_path, capsys):
    argv = ["eval-policy", "--model", str(trained["policy"]), "--env", "ALE/NoSuchGame-v5",
            "--episodes", "1", "--out", str(tmp_path)]  # fmt: skip
    fails_clearly(capsys, argv, "NoSuchGame")
    argv = ["eval-policy", "--model", str(tmp_path / "nope"), "--out", str(tmp_path)]
    fails_clearly(capsys, argv, "nope")


# --- labeling ---------------------------------------------------------------------------------
def test_label_with_no_videos_or_a_wrong_model(trained, corpus, tmp_path, capsys):
    argv = ["label", "--model", str(trained["idm"]), "--videos", str(tmp_path / "none"),
            "--out", str(tmp_path / "labels")]  # fmt: skip
    fails_clearly(capsys, argv, "no video files found", "none")
    argv = ["label", "--model", str(trained["policy"]), "--videos", str(corpus / "videos"),
            "--out", str(tmp_path / "labels")]  # fmt: skip
    fails_clearly(capsys, argv, "expected 'nitrogen_idm'")


def test_label_skips_a_corrupt_video_and_labels_the_rest(trained, corpus, tmp_path):
    import shutil

    videos = tmp_path / "videos"
    shutil.copytree(corpus / "videos", videos)
    (videos / "broken.mp4").write_bytes(b"not a video at all")
    argv = ["label", "--model", str(trained["idm"]), "--videos", str(videos), "--out",
            str(tmp_path / "labels"), "--no-progress", "--min-confidence", "0"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads((tmp_path / "labels" / "label_report.json").read_text())
    assert report["videos"]["failed"] == 1 and report["videos"]["labeled_now"] == 2
    (item,) = report["skipped"]["items"]
    assert item["kind"] == "unreadable_video" and item["path"].endswith("broken.mp4")


def test_two_label_jobs_on_one_folder(trained, corpus, tmp_path, capsys):
    from nitrogen_hf.data.files import file_lock
    from nitrogen_hf.labeling.pipeline import LOCK_FILE

    out = tmp_path / "labels"
    argv = ["label", "--model", str(trained["idm"]), "--videos", str(corpus / "videos"),
            "--out", str(out), "--no-progress"]  # fmt: skip
    with file_lock(out / LOCK_FILE, blocking=False, job="another `label` job"):
        fails_clearly(capsys, argv, str(out), "another `label` job is writing here")


def test_label_on_a_ray_address_where_nothing_listens(trained, corpus, tmp_path, capsys):
    argv = ["label", "--model", str(trained["idm"]), "--videos", str(corpus / "videos"),
            "--out", str(tmp_path / "labels"), "--engine", "ray", "--ray-address",
            "127.0.0.1:9"]  # fmt: skip
    fails_clearly(capsys, argv, "127.0.0.1:9", "no Ray cluster answers there")


def test_render_without_labels(corpus, tmp_path, capsys):
    argv = ["render", "--video", str(corpus / "videos" / "good_a.mp4"), "--labels",
            str(tmp_path / "no_labels"), "--out", str(tmp_path / "out.mp4")]  # fmt: skip
    fails_clearly(capsys, argv, "no_labels")


# --- models and the Hub -----------------------------------------------------------------------
def test_convert_and_push_refuse_what_they_cannot_use(tmp_path, capsys, trained):
    (tmp_path / "ng.pt").write_bytes(b"garbage")
    fails_clearly(capsys, ["convert-nitrogen", str(tmp_path / "ng.pt"), str(tmp_path / "hf")],
                  "ng.pt", "not a PyTorch checkpoint")  # fmt: skip
    fails_clearly(capsys, ["push", "--model", str(tmp_path), "--repo", "me/idm", "--dry-run"],
                  "not a nitrogen_hf model folder")  # fmt: skip
    fails_clearly(capsys, ["push", "--model", str(trained["idm"]), "--repo", "no-slash",
                           "--dry-run"], "no-slash")  # fmt: skip


def test_record_with_an_impossible_frame_rate(tmp_path, capsys):
    fails_clearly(capsys, ["record", "--out", str(tmp_path), "--fps", "25"], "must divide 60")


def test_debug_shows_the_traceback(tmp_path, capsys):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "inspect", str(tmp_path / "nope")])

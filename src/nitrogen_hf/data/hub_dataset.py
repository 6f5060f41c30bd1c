"""The chunk dataset: its columns, its folder layout, and loading it from a folder or the Hub.

One row per chunk holds its actions and what a loader needs to cut training windows from
the video (path, fps, first frame, overlay box). A built folder (`data/build.py`) loads with
`datasets.load_dataset(folder, streaming=True)`; once pushed, the same call takes a repo id.
Hub copies carry `video_id` but no videos, so `load_chunk_dataset(videos_dir=)` re-points
`video_path` to the user's own files.
"""

from __future__ import annotations

import re
from pathlib import Path

import datasets
import pyarrow.parquet as pq

from nitrogen_hf.actions import ACTION_DIM, NUM_BUTTONS, NUM_STICK_AXES
from nitrogen_hf.data.video_locator import VideoLocator

SPLITS = ("train", "validation")
DATA_DIR = "data"
SUMMARY_FILE = "build_summary.json"
README_FILE = "README.md"
DEFAULT_LABEL_SOURCE = "overlay"  # chunks without a `label_source` extra come from the overlay

_float = datasets.Value("float32")
CHUNK_FEATURES = datasets.Features(
    {
        "uuid": datasets.Value("string"),
        "video_id": datasets.Value("string"),
        "video_path": datasets.Value("string"),  # as resolved at build time; see videos_dir=
        "start_time": datasets.Value("float64"),  # seconds in the source video
        "end_time": datasets.Value("float64"),
        "fps": datasets.Value("float64"),  # action rate of the chunk
        "video_fps": datasets.Value("float64"),  # frame rate of the local video
        "start_frame": datasets.Value("int64"),  # video frame of the chunk's first action
        # Variable-frame-rate videos: the video frame of every action step, found by timestamp
        # at build time (null for constant-rate videos: start_frame + step x rate ratio).
        "frame_index": datasets.List(datasets.Value("int64")),
        "num_frames": datasets.Value("int32"),  # action rows
        "game": datasets.Value("string"),
        "controller_type": datasets.Value("string"),
        "overlay_box": datasets.List(datasets.Value("int32"), length=4),  # x, y, w, h px, clipped
        "resolution": datasets.List(datasets.Value("int32"), length=2),  # h, w the box is in
        "game_area": {"xtl": _float, "ytl": _float, "xbr": _float, "ybr": _float},  # relative
        "source": datasets.Value("string"),
        "label_source": datasets.Value("string"),  # "overlay", or how pseudo-labels were made
        "provenance": datasets.Value("string"),  # JSON of the other metadata extras
        "buttons": datasets.List(datasets.List(datasets.Value("uint8"), length=NUM_BUTTONS)),
        "sticks": datasets.List(datasets.List(_float, length=NUM_STICK_AXES)),  # [-1, 1]
        "observed": datasets.List(datasets.Value("bool"), length=ACTION_DIM),
        "confidence": datasets.List(_float),  # per frame; null for ground truth
        # Per frame, which of the 25 dims change the next frames (envs.probes); null for
        # chunks without probes and for the frames a recording did not probe.
        "identifiable": datasets.List(datasets.List(datasets.Value("bool"), length=ACTION_DIM)),
    }
)


# --- loading ----------------------------------------------------------------------------------
def data_files(out: str | Path) -> dict[str, list[str]]:
    """Parquet files per split of a built folder, for `load_dataset("parquet", data_files=...)`."""
    folder = Path(out) / DATA_DIR
    found = {s: sorted(str(p) for p in folder.glob(f"{s}-*.parquet")) for s in SPLITS}
    return {s: files for s, files in found.items() if files}


HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # user/name, as the Hub spells repo ids


def check_local_or_hub(path_or_repo_id: str | Path) -> bool:
    """True for a local folder; False for a Hub id. A path that exists nowhere, or that is not
    shaped like 'user/name', fails here, before `datasets` tries the Hub for half a minute."""
    path = Path(path_or_repo_id)
    if path.is_dir():
        if not (path / DATA_DIR).is_dir():
            raise FileNotFoundError(
                f"{path}: no {DATA_DIR}/ folder; not a build-dataset output (run build-dataset)"
            )
        return True
    text = str(path_or_repo_id)
    if path.exists():
        raise FileNotFoundError(f"{text}: a file, not a dataset folder (build-dataset's --out)")
    if not HUB_ID.match(text) or text.startswith((".", "~")):
        raise FileNotFoundError(f"{text}: no such dataset folder (and not a Hub id user/name)")
    return False


def available_splits(path_or_repo_id: str | Path) -> list[str]:
    """Split names of a built folder (from its files) or a Hub dataset (from the Hub)."""
    if check_local_or_hub(path_or_repo_id):
        return sorted(data_files(path_or_repo_id))
    return list(datasets.get_dataset_split_names(str(path_or_repo_id)))


def resolve_split(path_or_repo_id: str | Path, split: str | None, preferred: str) -> str:
    """`split` when given (it must exist), else `preferred`, else the dataset's only split."""
    found = available_splits(path_or_repo_id)
    wanted = split or preferred
    if wanted in found or (split is None and len(found) != 1):
        if wanted not in found:
            raise ValueError(f"{path_or_repo_id}: no '{wanted}' split (found {found})")
        return wanted
    if split is not None:
        raise ValueError(f"{path_or_repo_id}: no '{split}' split (found {found})")
    return found[0]


def load_chunk_dataset(
    path_or_repo_id: str | Path,
    split: str = "train",
    streaming: bool = True,
    videos_dir: str | Path | None = None,
    video_map: str | Path | None = None,
) -> datasets.IterableDataset | datasets.Dataset:
    """Chunk rows of a built folder or a Hub repo id.

    A local folder is read as its parquet files: their paths and modification times key the
    `datasets` cache, whereas a folder name alone can collide with another folder's cached
    copy in non-streaming mode. With `videos_dir` and/or `video_map`, `video_path` is looked
    up in the user's own copies at load time (null when that video is absent, so the loader
    skips its chunks).
    """
    if check_local_or_hub(path_or_repo_id):
        files = data_files(path_or_repo_id)
        if split not in files:
            raise ValueError(f"{path_or_repo_id}: no '{split}' split (found {sorted(files)})")
        _check_columns(files[split][0])
        dataset = datasets.load_dataset(
            "parquet",
            data_files={split: files[split]},
            split=split,
            streaming=streaming,
            features=CHUNK_FEATURES,
        )
    else:
        dataset = datasets.load_dataset(str(path_or_repo_id), split=split, streaming=streaming)
    if videos_dir is None and video_map is None:
        return dataset
    locator = VideoLocator(videos_dir, video_map)
    return dataset.map(
        _repoint_video_paths,
        batched=True,
        input_columns=["video_id"],
        fn_kwargs={"locator": locator},
        features=CHUNK_FEATURES,
    )


def _check_columns(path: str) -> None:
    """A clear error for shards written by an older build (their columns differ)."""
    missing = set(CHUNK_FEATURES) - set(pq.read_schema(path).names)
    if missing:
        raise ValueError(
            f"{path}: columns {sorted(missing)} missing (built by an older version); "
            "run build-dataset again"
        )


def observed_dims(rows) -> list[bool]:
    """(25,) which action dims any chunk observes: the union of their masks (labels only, no
    video), i.e. what a model trained on these rows can label."""
    union = None
    for row in rows:
        mask = [bool(v) for v in row["observed"]]
        union = mask if union is None else [a or b for a, b in zip(union, mask, strict=True)]
    if union is None:
        raise ValueError("no chunks: cannot tell which action dims are observed")
    return union


def _repoint_video_paths(video_ids: list[str], locator: VideoLocator) -> dict[str, list]:
    paths = (locator.locate(video_id) for video_id in video_ids)
    return {"video_path": [str(p.resolve()) if p is not None else None for p in paths]}

"""`nitrogen-hf push`: publish a model, dataset or Space folder to the Hugging Face Hub.

The folder's card is regenerated from its JSON first (a hand-written README.md is kept), then
`HfApi.create_repo` and `HfApi.upload_folder` send every file but `DEFAULT_EXCLUDES`. A dry
run lists the files it would upload, with their sizes, and changes nothing, not even the card.

A Space is uploaded with the nitrogen_hf package (card templates included) beside its app.py,
so it imports the library as is, without nitrogen_hf being on PyPI.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

RepoType = Literal["model", "dataset", "space"]
REPO_TYPES = ("model", "dataset", "space")

CHECKPOINT_PATTERNS = ("checkpoints/*",)  # the trainer's resumable state: optimizer, RNG, copies
DEFAULT_EXCLUDES = (
    "tensorboard/*",  # the trainer's TensorBoard logs
    "*events.out.tfevents.*",  # ... and any other TensorBoard event file
    ".*",  # hidden: staging folders of interrupted writes, caches
    "*/.*",
    "*__pycache__*",
    "*.pyc",
)
SPACE_PACKAGE_DIR = "nitrogen_hf"  # where a Space gets the library (card templates included)


@dataclass
class PushConfig:
    """One upload: which folder, to which repo, and what to leave out."""

    folder: Path
    repo_id: str  # "user/name" or "org/name"
    repo_type: RepoType = "model"
    private: bool = False
    dry_run: bool = False  # list the files and sizes; create and upload nothing
    exclude: tuple[str, ...] = ()  # more fnmatch patterns (relative paths) to leave out
    include_checkpoints: bool = False  # also upload checkpoints/ (resumable training state)
    card: bool = True  # regenerate README.md from the folder's JSON before uploading
    revision: str | None = None  # branch to commit to (default: main)
    commit_message: str | None = None
    token: str | None = None  # default: the huggingface_hub login / $HF_TOKEN

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if self.repo_type not in REPO_TYPES:
            raise ValueError(f"repo_type must be one of {REPO_TYPES}, got {self.repo_type!r}")
        if self.repo_id.count("/") != 1 or not all(self.repo_id.split("/")):
            raise ValueError(f"repo id must look like 'user/name', got {self.repo_id!r}")
        self.exclude = tuple(self.exclude)

    @property
    def ignore_patterns(self) -> list[str]:
        checkpoints = () if self.include_checkpoints else CHECKPOINT_PATTERNS
        return [*checkpoints, *DEFAULT_EXCLUDES, *self.exclude]


@dataclass(frozen=True)
class UploadFile:
    """One file of an upload: where it goes in the repo, where it comes from, its size."""

    path_in_repo: str
    local_path: Path
    size: int


def check_folder(config: PushConfig) -> None:
    """Fail before any network call when the folder is not what `repo_type` says."""
    folder = config.folder
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    if config.repo_type == "model":
        from nitrogen_hf.hub.card_common import model_kind

        model_kind(folder)  # raises, naming the fix
    elif config.repo_type == "dataset":
        if not any(folder.glob("data/*.parquet")) and not (folder / "actions").is_dir():
            raise ValueError(
                f"{folder}: no data/*.parquet (build-dataset output) or actions/ (label output)"
            )
    elif not (folder / "app.py").is_file() or "sdk:" not in _read(folder / "README.md"):
        raise ValueError(f"{folder}: a Space needs app.py and a README.md with an `sdk:` header")


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else ""


def folder_files(
    folder: Path, ignore_patterns: Iterable[str], prefix: str = ""
) -> list[UploadFile]:
    """Files under `folder` that `upload_folder` would send with these `ignore_patterns`."""
    from huggingface_hub.utils import filter_repo_objects

    paths = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    kept = filter_repo_objects(sorted(paths), ignore_patterns=list(ignore_patterns))
    return [UploadFile(prefix + name, paths[name], paths[name].stat().st_size) for name in kept]


def upload_plan(config: PushConfig) -> list[UploadFile]:
    """Every file the push sends (a Space's also carry the package and the card templates)."""
    files = folder_files(config.folder, config.ignore_patterns)
    if config.repo_type == "space":
        import nitrogen_hf

        if SPACE_PACKAGE_DIR in {f.path_in_repo.split("/")[0] for f in files}:
            raise ValueError(
                f"{config.folder}: has its own {SPACE_PACKAGE_DIR}/; push adds it, remove it"
            )
        package = Path(nitrogen_hf.__file__).parent
        files += folder_files(package, DEFAULT_EXCLUDES, SPACE_PACKAGE_DIR + "/")
    return files


def remote_code_files(folder: Path) -> dict[str, str]:
    """{file: source} that `trust_remote_code` needs in a model folder ({} for an adapter)."""
    from nitrogen_hf.hub.card_common import read_json
    from nitrogen_hf.models.auto import auto_classes
    from nitrogen_hf.models.hub_mixin import remote_code_sources

    config = read_json(Path(folder) / "config.json")
    return remote_code_sources(*auto_classes(config["model_type"])) if config else {}


def refresh_remote_code(folder: Path) -> list[str]:
    """Write the remote code and `auto_map` of a model folder (saved by an older version, or
    edited since), so Hub users without nitrogen_hf can load it; returns the files written."""
    from nitrogen_hf.data.files import atomic_path, write_json_atomic
    from nitrogen_hf.hub.card_common import read_json
    from nitrogen_hf.models.auto import auto_classes
    from nitrogen_hf.models.hub_mixin import auto_map_of

    sources = remote_code_files(folder)
    if not sources:
        return []
    config = read_json(folder / "config.json")
    auto_map = auto_map_of(*auto_classes(config["model_type"]))
    if config.get("auto_map") != auto_map:
        write_json_atomic(folder / "config.json", {**config, "auto_map": auto_map})
    for name, source in sources.items():
        with atomic_path(folder / name) as tmp:
            tmp.write_text(source)
    return sorted(sources)


def refresh_card(config: PushConfig) -> Path | None:
    """Regenerate the model or dataset card for this repo id (Spaces keep their README)."""
    if config.repo_type == "model":
        from nitrogen_hf.hub.cards import write_model_card

        return write_model_card(config.folder, config.repo_id)
    if config.repo_type == "dataset":
        from nitrogen_hf.hub.dataset_card import write_dataset_card

        return write_dataset_card(config.folder, config.repo_id)
    return None


def format_plan(files: list[UploadFile]) -> str:
    """The dry run's listing: one line per file with its size, then the total."""
    width = max((len(f.path_in_repo) for f in files), default=10)
    lines = [f"{f.path_in_repo:<{width}}  {human_size(f.size):>10}" for f in files]
    total = sum(f.size for f in files)
    return "\n".join([*lines, f"{len(files)} files, {human_size(total)}"])


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def push(config: PushConfig, api=None) -> dict:
    """Create the repo (if needed) and upload the folder; with `dry_run`, only list the files.

    `api` is an `HfApi` (default: a new one with `config.token`); tests pass a stand-in.
    """
    check_folder(config)
    code = []
    if config.repo_type == "model" and not config.dry_run:
        code = refresh_remote_code(config.folder)
    card = None if config.dry_run or not config.card else refresh_card(config)
    files = upload_plan(config)
    result = {
        "repo_id": config.repo_id,
        "repo_type": config.repo_type,
        "private": config.private,
        "dry_run": config.dry_run,
        "files": [{"path": f.path_in_repo, "bytes": f.size} for f in files],
        "total_bytes": sum(f.size for f in files),
        "excluded_patterns": config.ignore_patterns,
        "card": str(card) if card else None,
        "remote_code": code or sorted(remote_code_files(config.folder))
        if config.repo_type == "model"
        else [],
    }
    if config.dry_run:
        if config.card and config.repo_type != "space":
            from nitrogen_hf.hub.card_common import may_write_card

            result["card"] = (
                "README.md: regenerated on push" if may_write_card(config.folder) else None
            )
        return result
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=config.token)
    url = api.create_repo(
        config.repo_id,
        repo_type=config.repo_type,
        private=config.private,
        exist_ok=True,
        space_sdk="gradio" if config.repo_type == "space" else None,
    )
    message = config.commit_message or f"Upload {config.repo_type} with nitrogen-hf push"
    if config.repo_type == "space":
        commit = _upload_staged(api, config, files, message)
    else:
        commit = api.upload_folder(
            repo_id=config.repo_id,
            folder_path=config.folder,
            repo_type=config.repo_type,
            ignore_patterns=config.ignore_patterns,
            revision=config.revision,
            commit_message=message,
        )
    return {**result, "url": str(url), "commit_url": getattr(commit, "commit_url", None)}


def _upload_staged(api, config: PushConfig, files: list[UploadFile], message: str):
    """Copy the planned files into one temporary folder and upload that (Spaces: small)."""
    with tempfile.TemporaryDirectory(prefix="nitrogen_push_") as staging:
        for file in files:
            target = Path(staging, file.path_in_repo)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file.local_path, target)
        return api.upload_folder(
            repo_id=config.repo_id,
            folder_path=staging,
            repo_type=config.repo_type,
            revision=config.revision,
            commit_message=message,
        )

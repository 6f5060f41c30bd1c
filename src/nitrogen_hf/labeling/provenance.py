"""Where a pseudo-label comes from: the IDM (id and weights checksum), the labeler version and
the thresholds. It goes into every chunk's metadata extras and decides when a finished video
must be labeled again (a different model or setting)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from nitrogen_hf.actions import BUTTON_THRESHOLD
from nitrogen_hf.labeling.config import LabelConfig
from nitrogen_hf.labeling.filters import FilterConfig, resolve_min_confidence

# Bump when a code change alters the labels a given model and settings produce.
LABELER_REVISION = 1
WEIGHTS_FILE = "model.safetensors"
LABEL_SOURCE = "pseudo"


def labeler_version() -> str:
    """Package version plus the labeler's own revision, e.g. '0.1.0+labeler1'."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("nitrogen_hf")
    except PackageNotFoundError:
        package = "unknown"
    return f"{package}+labeler{LABELER_REVISION}"


def weights_file(model: str) -> Path:
    """The IDM's model.safetensors: in its folder, or fetched from the Hub cache."""
    folder = Path(model)
    if folder.is_dir():
        path = folder / WEIGHTS_FILE
        if not path.is_file():
            raise FileNotFoundError(
                f"{folder}: no {WEIGHTS_FILE} (save the IDM with save_pretrained)"
            )
        return path
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(model, WEIGHTS_FILE))


def file_sha256(path: str | Path, block: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while data := handle.read(block):
            digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True)
class LabelRun:
    """What a job's labels depend on, resolved once (on the driver) and shared by all workers."""

    model: str
    model_sha256: str
    min_confidence: float
    min_confidence_source: str  # 'flag', 'calibrated' (the IDM's) or 'fallback'
    filters: FilterConfig
    fps: float | None
    chunk_seconds: float
    game: str | None
    resize_in_decoder: bool
    labeler_version: str

    def settings(self) -> dict:
        """JSON-able settings that decide the labels (not where the model or package came from,
        so moving the IDM folder or upgrading the package does not relabel everything)."""
        return {
            "model_sha256": self.model_sha256,
            "labeler_revision": LABELER_REVISION,
            "filters": {**asdict(self.filters), "min_confidence": self.min_confidence},
            "fps": self.fps,
            "chunk_seconds": self.chunk_seconds,
            "game": self.game,
            "resize_in_decoder": self.resize_in_decoder,
        }

    def key(self) -> str:
        """Short digest of `settings()`, stored in done markers."""
        text = json.dumps(self.settings(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def chunk_extras(self, mean_confidence: float, active_fraction: float, labeled_at: str) -> dict:
        """Metadata extras of one chunk: label source, model, thresholds, its own statistics."""
        return {
            "label_source": LABEL_SOURCE,
            "labeler_version": self.labeler_version,
            "labeled_at": labeled_at,
            "idm_model": self.model,
            "idm_sha256": self.model_sha256,
            "label_thresholds": {
                **self.settings()["filters"],
                "min_confidence_source": self.min_confidence_source,
                "button_threshold": BUTTON_THRESHOLD,
            },
            "mean_confidence": round(float(mean_confidence), 6),
            "active_fraction": round(float(active_fraction), 6),
        }


def resolve_run(config: LabelConfig) -> LabelRun:
    """Read the IDM's config (not its weights) and checksum its weights file."""
    from nitrogen_hf.models.idm import NitroGenIDMConfig

    idm_config = NitroGenIDMConfig.from_pretrained(config.model)
    min_confidence, source = resolve_min_confidence(
        config.filters.min_confidence, idm_config.confidence_threshold
    )
    return LabelRun(
        model=str(config.model),
        model_sha256=file_sha256(weights_file(str(config.model))),
        min_confidence=min_confidence,
        min_confidence_source=source,
        filters=config.filters,
        fps=config.fps,
        chunk_seconds=config.chunk_seconds,
        game=config.game,
        resize_in_decoder=config.resize_in_decoder,
        labeler_version=labeler_version(),
    )

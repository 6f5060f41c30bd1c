"""What the Gradio Space runs: check an upload, label it with an IDM (`label_videos`), and turn
the label job's output into the Space's outputs: the video with the predicted gamepad drawn in
(`render`), a timeline plot, the kept/dropped segments, and a zip of the NitroGen-layout labels.
Also: a policy's action chunk for one frame.

The functions here know nothing of Gradio; `label_handler` and `policy_handler` wrap them for
it (progress bar, error messages), so spaces/app.py only lays out the UI.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nitrogen_hf.data.video_locator import VideoInfo

logger = logging.getLogger("nitrogen_hf")

Progress = Callable[[float, str], None]  # (fraction done, what is happening)
MAX_SECONDS_ENV = "NITROGEN_SPACE_MAX_SECONDS"
DEMO_IDM_DIR, DEMO_POLICY_DIR, EXAMPLES_DIR = "demo_idm", "demo_policy", "examples"
VIDEO_SUFFIXES, IMAGE_SUFFIXES = (".mp4",), (".png", ".jpg")  # example files per tab


class SpaceInputError(ValueError):
    """A problem with what the user gave (file, checkpoint): its message is shown as is."""


@dataclass(frozen=True)
class SpaceConfig:
    """Where the Space's bundled files are, and the limits it enforces."""

    space_dir: Path  # holds examples/, demo_idm/, demo_policy/
    # Longer uploads are refused: on a 2-vCPU Space labeling and drawing run at a few times
    # real time on small videos, slower on HD; long videos belong to `nitrogen-hf label`.
    max_video_seconds: float = 120.0
    max_upload_mb: float = 200.0  # also given to Gradio's launch(max_file_size=)
    render_min_height: int = 360  # small videos (Atari: 210 px) are upscaled to at least this
    render_max_scale: int = 4
    work_dir: Path | None = None  # parent of the per-request folders (default: the temp dir)
    # The example row's threshold: the demo IDM's calibrated one (precision 0.9 on held-out
    # Breakout) keeps only stretches too short for a chunk of the 8 s example.
    example_min_confidence: float = 0.5

    @classmethod
    def from_env(cls, space_dir: str | Path) -> SpaceConfig:
        """Defaults, with the length limit overridable by $NITROGEN_SPACE_MAX_SECONDS."""
        seconds = os.environ.get(MAX_SECONDS_ENV)
        return cls(Path(space_dir), **({"max_video_seconds": float(seconds)} if seconds else {}))

    @property
    def demo_idm(self) -> Path:
        return self.space_dir / DEMO_IDM_DIR

    @property
    def demo_policy(self) -> Path:
        return self.space_dir / DEMO_POLICY_DIR

    def examples(self, suffixes: tuple[str, ...]) -> list[str]:
        """Bundled example files with these suffixes, sorted."""
        folder = self.space_dir / EXAMPLES_DIR
        return sorted(str(p) for p in folder.glob("*") if p.suffix.lower() in suffixes)

    def label_examples(self) -> list[list]:
        """Rows (video, checkpoint, use calibrated threshold, min confidence) of the labeling
        tab's examples: the bundled videos with the demo IDM."""
        return [
            [video, "", False, self.example_min_confidence]
            for video in self.examples(VIDEO_SUFFIXES)
        ]


@dataclass
class LabelOutputs:
    """Everything the labeling tab shows."""

    video: Path  # the video with the predicted gamepad drawn in
    timeline: Path  # PNG
    segments: list[list]  # rows of timeline.SEGMENT_COLUMNS
    labels_zip: Path  # actions/ (NitroGen layout) + label_report.json
    summary: str  # markdown
    report: dict = field(repr=False)


# --- inputs ----------------------------------------------------------------------------------
def check_video(path: str | Path | None, config: SpaceConfig) -> VideoInfo:
    """The upload's fps, length and size; SpaceInputError when it is not a usable video."""
    from nitrogen_hf.data.video import VIDEO_EXTENSIONS, VideoError, open_video

    if not path:
        raise SpaceInputError("Upload a gameplay video first, or click the example below it.")
    path = Path(path)
    kinds = ", ".join(e.lstrip(".") for e in VIDEO_EXTENSIONS)
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        raise SpaceInputError(f"'{path.name}' is not a video file; upload one of: {kinds}.")
    megabytes = path.stat().st_size / 2**20
    if megabytes > config.max_upload_mb:
        raise SpaceInputError(
            f"'{path.name}' is {megabytes:.0f} MB; this Space takes at most "
            f"{config.max_upload_mb:.0f} MB."
        )
    try:
        with open_video(path) as reader:
            probe = VideoInfo(path, reader.fps, reader.num_frames, reader.height, reader.width)
            if probe.num_frames >= 1 and probe.fps > 0:
                reader.get_frames([0])  # a header can parse while the stream cannot decode
    except VideoError as error:
        raise SpaceInputError(
            f"'{path.name}' cannot be read as a video ({error}). Re-encode it as H.264 MP4, "
            "e.g. `ffmpeg -i INPUT -c:v libx264 -pix_fmt yuv420p out.mp4`."
        ) from error
    if probe.num_frames < 2 or probe.fps <= 0:
        raise SpaceInputError(f"'{path.name}' has {probe.num_frames} frame(s); need at least 2.")
    if probe.seconds > config.max_video_seconds:
        raise SpaceInputError(
            f"'{path.name}' lasts {probe.seconds:.0f} s; this Space labels at most "
            f"{config.max_video_seconds:.0f} s. Cut it (`ffmpeg -i INPUT -t 60 -c copy out.mp4`) "
            "or label long videos with `nitrogen-hf label`."
        )
    return probe


def resolve_checkpoint(checkpoint: str | None, demo: Path, what: str) -> str:
    """A local folder, a Hub id, or (empty) the bundled demo model, checked to load."""
    checkpoint = (checkpoint or "").strip()
    if not checkpoint:
        if not (demo / "config.json").is_file():
            raise SpaceInputError(
                f"no {what} checkpoint given and the bundled demo ({demo}) is missing; rebuild it "
                "with `python -m nitrogen_hf.space.assets SPACE_DIR`"
            )
        return str(demo)
    local = Path(checkpoint).expanduser()
    if local.exists():
        if not (local / "config.json").is_file() and not (local / "adapter_config.json").is_file():
            raise SpaceInputError(f"{local}: no config.json; give a save_pretrained {what} folder")
        return str(local)
    if checkpoint.count("/") != 1:
        raise SpaceInputError(
            f"{checkpoint!r} is neither a folder here nor a Hub id like 'user/{what}-name'"
        )
    return checkpoint


def video_id_of(path: Path) -> str:
    """A file-name-safe video id from an upload's name (chunks are named by it)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", Path(path).stem).strip("_") or "video"


def render_scale(height: int, config: SpaceConfig) -> int:
    return max(1, min(config.render_max_scale, math.ceil(config.render_min_height / height)))


# --- labeling --------------------------------------------------------------------------------
def label_clip(
    video: str | Path | None,
    checkpoint: str | None,
    min_confidence: float | None,
    config: SpaceConfig,
    progress: Progress | None = None,
) -> LabelOutputs:
    """Label one uploaded video with the IDM `checkpoint` (empty: the bundled demo IDM).

    `min_confidence` None keeps the IDM's calibrated threshold. Raises SpaceInputError for a
    bad upload or checkpoint.
    """
    from nitrogen_hf.labeling.render import RenderConfig, render

    progress = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    progress(0.0, "checking the video")
    probe = check_video(video, config)
    model = resolve_checkpoint(checkpoint, config.demo_idm, "idm")
    trained_dims = _trained_dims(model)
    work = Path(tempfile.mkdtemp(prefix="nitrogen_space_", dir=config.work_dir))
    clip = work / "videos" / f"{video_id_of(probe.path)}{probe.path.suffix.lower()}"
    clip.parent.mkdir(parents=True)
    shutil.copyfile(probe.path, clip)
    progress(0.1, f"labeling {probe.seconds:.1f} s of video")
    report = _label(clip, model, min_confidence, work / "labels")
    progress(0.6, "drawing the predicted gamepad over the video")
    rendered = work / f"{clip.stem}_labeled.mp4"
    render(RenderConfig(clip, work / "labels", rendered, render_scale(probe.height, config)))
    progress(0.85, "plotting the timeline")
    name = f"`{model}`" if (checkpoint or "").strip() else "the bundled demo IDM"
    outputs = _outputs(clip, probe, work, report, trained_dims, rendered, name)
    outputs.summary += f"\n\nDone in {time.perf_counter() - started:.1f} s."
    progress(1.0, "done")
    return outputs


def _trained_dims(model: str) -> list[bool]:
    from nitrogen_hf.models.idm import NitroGenIDMConfig

    try:
        return NitroGenIDMConfig.from_pretrained(model).trained_dims
    except (OSError, ValueError) as error:
        raise SpaceInputError(f"cannot load the IDM {model!r}: {error}") from error


def _label(clip: Path, model: str, min_confidence: float | None, out: Path) -> dict:
    from nitrogen_hf.labeling.config import LabelConfig
    from nitrogen_hf.labeling.filters import FilterConfig
    from nitrogen_hf.labeling.pipeline import label_videos

    config = LabelConfig(
        model=model,
        videos=[clip],
        out=out,
        filters=FilterConfig(min_confidence=min_confidence),
        progress=False,
    )
    try:
        report = label_videos(config)
    except (OSError, ValueError) as error:
        raise SpaceInputError(f"labeling failed: {error}") from error
    entry = report["per_video"][0]
    if entry["status"] == "failed":
        raise SpaceInputError(f"'{clip.name}' could not be labeled: {entry['message']}")
    return report


def _outputs(clip, probe, work, report, trained_dims, rendered, model_name) -> LabelOutputs:
    from nitrogen_hf.labeling.render import load_frame_labels
    from nitrogen_hf.space.timeline import label_segments, plot_timeline

    labels = load_frame_labels(work / "labels", clip.stem, probe.num_frames)
    fps = labels.fps or probe.fps
    threshold = report["settings"]["filters"]["min_confidence"]
    timeline = plot_timeline(
        labels.buttons,
        labels.sticks,
        labels.confidence,
        labels.reasons,
        fps,
        trained_dims,
        work / f"{clip.stem}_timeline.png",
        threshold=threshold,
        title=f"{clip.name}: predicted gamepad (shaded: dropped by the filters)",
    )
    segments = label_segments(labels.reasons, labels.confidence, fps)
    return LabelOutputs(
        video=rendered,
        timeline=timeline,
        segments=segments,
        labels_zip=zip_labels(work / "labels", work / f"{clip.stem}_nitrogen_labels.zip"),
        summary=label_summary(probe, report, model_name),
        report=report,
    )


def zip_labels(labels_dir: Path, path: Path) -> Path:
    """actions/ (NitroGen layout, with the confidence column) and label_report.json, zipped."""
    from nitrogen_hf.labeling.output import ACTIONS_DIR
    from nitrogen_hf.labeling.report import REPORT_FILE

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted((labels_dir / ACTIONS_DIR).rglob("*")):
            if file.is_file() and not any(p.startswith(".") for p in file.parts):
                archive.write(file, file.relative_to(labels_dir).as_posix())
        archive.write(labels_dir / REPORT_FILE, REPORT_FILE)
    return path


def label_summary(probe: VideoInfo, report: dict, model_name: str) -> str:
    """Markdown: what was labeled, what was kept, what was dropped and why."""
    seconds = 3600.0
    video = report["per_video"][0]
    kept, total = video["hours_kept"] * seconds, video["hours_in"] * seconds
    dropped = [
        f"{reason} {hours * seconds:.1f} s"
        for reason, hours in report["hours_dropped"].items()
        if hours > 0
    ]
    threshold = report["settings"]["filters"]["min_confidence"]
    confidence = video.get("mean_confidence")
    lines = [
        f"**{probe.path.name}**: {probe.seconds:.1f} s, {probe.num_frames} frames at "
        f"{probe.fps:g} fps, {probe.width}x{probe.height}; labeled by {model_name}.",
        f"Kept **{kept:.1f} s of {total:.1f} s** ({100 * kept / total if total else 0:.0f}%) "
        f"in {video['chunks']} chunk(s); dropped: {', '.join(dropped) or 'nothing'}.",
        f"Confidence threshold {threshold:.2f} ({report['min_confidence_source']}); mean "
        f"confidence {confidence:.2f}."
        if confidence is not None
        else "",
    ]
    return "\n\n".join(line for line in lines if line)


# --- policy ----------------------------------------------------------------------------------
def policy_chunk(
    image: np.ndarray | None,
    checkpoint: str | None,
    game: str | None,
    config: SpaceConfig,
    work: Path | None = None,
) -> tuple[list[list], Path, str]:
    """(table rows, plot PNG, summary) of the action chunk a policy predicts for one frame.

    image: (H, W, 3) uint8 RGB (an RGBA image loses its alpha channel).
    """
    import torch

    from nitrogen_hf.models.policy.loading import load_policy
    from nitrogen_hf.space.timeline import chunk_rows, plot_action_chunk

    if image is None:
        raise SpaceInputError("Upload a game frame (an image) first, or click the example.")
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise SpaceInputError(f"expected an RGB image, got an array of shape {image.shape}")
    model = resolve_checkpoint(checkpoint, config.demo_policy, "policy")
    try:
        policy = load_policy(model).eval()
    except (OSError, ValueError) as error:
        raise SpaceInputError(f"cannot load the policy {model!r}: {error}") from error
    generator = torch.Generator(policy.device).manual_seed(0)
    try:  # the (H, W, 3 or 4) array as Gradio hands it over: predict_action takes that form
        chunk = policy.predict_action(image, game=(game or "").strip() or None, generator=generator)
    except ValueError as error:  # e.g. an unknown game name
        raise SpaceInputError(str(error)) from error
    vector = chunk.vector[0].float().cpu().numpy()
    threshold = policy.config.button_threshold
    work = Path(work or tempfile.mkdtemp(prefix="nitrogen_space_policy_", dir=config.work_dir))
    plot = plot_action_chunk(vector, work / "action_chunk.png", threshold)
    summary = (
        f"Policy `{model}` predicted {len(vector)} steps from a {image.shape[1]}x{image.shape[0]} "
        f"frame (resized to {policy.config.image_size[1]}x{policy.config.image_size[0]}); buttons "
        f"pressed where the output exceeds {threshold}. One sample of the flow (seed 0)."
    )
    return chunk_rows(vector, threshold), plot, summary


# --- Gradio wrappers -------------------------------------------------------------------------
def label_handler(config: SpaceConfig) -> Callable:
    """The labeling tab's click function: Gradio progress bar, SpaceInputError -> gr.Error."""
    import gradio as gr

    def label(video, checkpoint, use_calibrated, min_confidence, progress=gr.Progress()):
        try:
            outputs = label_clip(
                video,
                checkpoint,
                None if use_calibrated else float(min_confidence),
                config,
                lambda fraction, message: progress(fraction, desc=message),
            )
        except SpaceInputError as error:
            raise gr.Error(str(error), title="Cannot label this") from error
        return (
            str(outputs.video),
            str(outputs.timeline),
            outputs.segments,
            str(outputs.labels_zip),
            outputs.summary,
        )

    return label


def policy_handler(config: SpaceConfig) -> Callable:
    """The policy tab's click function (SpaceInputError -> gr.Error)."""
    import gradio as gr

    def predict(image, checkpoint, game):
        try:
            rows, plot, summary = policy_chunk(image, checkpoint, game, config)
        except SpaceInputError as error:
            raise gr.Error(str(error), title="Cannot run the policy") from error
        return rows, str(plot), summary

    return predict

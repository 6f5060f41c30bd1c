from __future__ import annotations

from pathlib import Path

import datasets
import pytest
import yaml
from huggingface_hub import DatasetCard

from nitrogen_hf.data.build import BuildConfig, build_dataset
from nitrogen_hf.hub.card_common import MARKER
from nitrogen_hf.hub.dataset_card import dataset_card, size_category, write_dataset_card

from helpers import make_sprite_dataset, sprite_game


@pytest.fixture(scope="module")
def sprite_dataset(tmp_path_factory) -> Path:
    return make_sprite_dataset(tmp_path_factory.mktemp("sprite"))


@pytest.fixture(scope="module")
def pseudo_labels(tmp_path_factory) -> Path:
    """`nitrogen-hf label` output of one sprite video, labeled by a tiny random IDM with the
    filters off (every frame kept except the last, which has no next frame)."""
    import torch

    from nitrogen_hf.actions import ATARI_OBSERVED
    from nitrogen_hf.data.video_writer import write_mp4
    from nitrogen_hf.labeling.config import LabelConfig
    from nitrogen_hf.labeling.filters import FilterConfig
    from nitrogen_hf.labeling.pipeline import label_videos
    from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig

    root = tmp_path_factory.mktemp("pseudo")
    torch.manual_seed(0)
    config = NitroGenIDMConfig(
        num_frames=2, frame_size=(16, 16), cnn_channels=(8,), hidden_size=16, num_layers=1,
        num_heads=2, stick_bins=3, trained_dims=ATARI_OBSERVED.tolist(),
    )  # fmt: skip
    NitroGenIDM(config).save_pretrained(root / "idm")
    frames, _ = sprite_game(90, seed=3)
    write_mp4(root / "videos" / "walkthrough-001.mp4", frames, fps=30)
    off = FilterConfig(
        min_confidence=0.0, idle_seconds=0, static_seconds=0, min_active_fraction=0,
        min_chunk_seconds=0,
    )  # fmt: skip
    label_videos(
        LabelConfig(
            model=str(root / "idm"),
            videos=[root / "videos"],
            out=root / "labels",
            game="sprite",
            filters=off,
            progress=False,
        )
    )
    return root


def card_yaml(card) -> dict:
    return yaml.safe_load(card.content.split("---")[1])


def test_built_dataset_card_keeps_configs_and_still_loads(sprite_dataset):
    assert write_dataset_card(sprite_dataset, "someone/sprites") is not None  # replaces the stub
    card = DatasetCard.load(sprite_dataset / "README.md")
    assert MARKER in card.text
    configs = card_yaml(card)["configs"]
    assert configs == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*.parquet"},
                {"split": "validation", "path": "data/validation-*.parquet"},
            ],
        }
    ]
    # Splits with chunks, hours and videos as in build_summary.json.
    assert (
        "| train | 10 | 0.006 | 5 |" in card.text and "| validation | 2 | 0.001 | 1 |" in card.text
    )
    assert "| overlay | 12 | 0.007 |" in card.text  # no label_source extra: overlay labels
    assert "| sprite | 12 |" in card.text
    assert 'load_chunk_dataset("someone/sprites"' in card.text
    assert card.data.size_categories == "n<1K"
    # Streaming, as load_chunk_dataset does: datasets' cache of a non-streamed local folder is
    # keyed by the folder's name, so another test's "dataset" folder could answer instead.
    rows = list(datasets.load_dataset(str(sprite_dataset), split="validation", streaming=True))
    assert len(rows) == 2 and {"buttons", "confidence", "label_source"} <= set(rows[0])


def test_label_output_card_reports_hours_kept_dropped_and_provenance(pseudo_labels):
    card = dataset_card(pseudo_labels / "labels", "someone/pseudo")
    text = card.text
    assert "# NitroGen pseudo-labels" in text
    assert "| dropped: end_of_video | 0.000 |" in text and "| dropped: idle | 0.000 |" in text
    assert "in 1 chunks" in text
    assert "| min confidence | 0.000 |" in text and "| min confidence source | flag |" in text
    assert "configs" not in card_yaml(card)  # NitroGen layout: not a load_dataset folder


def test_dataset_built_from_pseudo_labels_names_its_idm(pseudo_labels, tmp_path):
    from nitrogen_hf.labeling.provenance import file_sha256

    build_dataset(
        BuildConfig(
            actions=[pseudo_labels / "labels" / "actions"],
            videos=pseudo_labels / "videos",
            out=tmp_path / "ds",
            progress=False,
        )
    )
    text = write_dataset_card(tmp_path / "ds").read_text()
    sha = file_sha256(pseudo_labels / "idm" / "model.safetensors")
    assert "| pseudo | 1 |" in text
    assert f"| `{pseudo_labels / 'idm'}` | `{sha[:12]}` |" in text
    assert "0.000 (flag)" in text
    rows = list(datasets.load_dataset(str(tmp_path / "ds"), split="train", streaming=True))
    assert [row["label_source"] for row in rows] == ["pseudo"]


def test_a_hand_written_dataset_readme_is_kept(sprite_dataset, tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "README.md").write_text("---\nconfigs: []\n---\n# Mine\n")
    assert write_dataset_card(folder) is None


def test_a_folder_that_is_no_dataset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="neither a build-dataset output"):
        dataset_card(tmp_path)


def test_size_categories():
    assert size_category(999) == "n<1K" and size_category(1000) == "1K<n<10K"
    assert size_category(20_000_000) == "n>10M"

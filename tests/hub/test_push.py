"""`nitrogen-hf push` without a network: dry runs, and a stand-in for `HfApi` that records
what a real push would send."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from nitrogen_hf.cli import main
from nitrogen_hf.hub.push import PushConfig, push, upload_plan

SPACE_DIR = Path(__file__).resolve().parents[2] / "spaces"


class RecordingHubApi:
    """Stands in for `huggingface_hub.HfApi`: records calls and the files each upload would send."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.uploaded: list[str] = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, **kwargs):
        from huggingface_hub.utils import filter_repo_objects

        self.calls.append(("upload_folder", kwargs))
        folder = Path(kwargs["folder_path"])  # read now: a Space's staging folder is temporary
        names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        self.uploaded = list(
            filter_repo_objects(names, ignore_patterns=kwargs.get("ignore_patterns"))
        )
        return mock.Mock(commit_url=f"https://huggingface.co/{kwargs['repo_id']}/commit/1")


@pytest.fixture
def trained_idm(reported_idm_folder) -> Path:
    """An IDM folder as train-idm leaves it: checkpoints, TensorBoard logs, a hidden leftover."""
    folder = reported_idm_folder
    for junk in (
        "checkpoints/step_0000004/optimizer.bin",
        "checkpoints/step_0000004/model.safetensors",
        "tensorboard/events.out.tfevents.1.vm.1.0",
        "tensorboard/1795/hparams.yml",
        ".model.safetensors.tmp-1234abcd",
    ):
        (folder / junk).parent.mkdir(parents=True, exist_ok=True)
        (folder / junk).write_bytes(b"x" * 100)
    return folder


def test_dry_run_lists_the_files_and_sizes_without_checkpoints_or_logs(trained_idm):
    (trained_idm / "README.md").unlink(missing_ok=True)
    result = push(PushConfig(trained_idm, "someone/idm", dry_run=True))
    sizes = {f["path"]: f["bytes"] for f in result["files"]}
    assert sorted(sizes) == [
        "actions.py",  # the remote code (trust_remote_code=True without nitrogen_hf)
        "calibration.json",
        "config.json",
        "configuration_idm.py",
        "eval/metrics.json",
        "frames.py",
        "hub_mixin.py",
        "image_inputs.py",
        "model.safetensors",
        "modeling_idm.py",
        "training_config.json",
        "training_summary.json",
    ]
    assert sizes["model.safetensors"] == (trained_idm / "model.safetensors").stat().st_size
    assert result["total_bytes"] == sum(sizes.values())
    assert result["card"] == "README.md: regenerated on push"
    assert not (trained_idm / "README.md").exists()  # a dry run writes nothing


def test_push_writes_the_remote_code_a_folder_lacks(trained_idm):
    """A folder saved before remote code existed gets it (and `auto_map`) on push."""
    for code in trained_idm.glob("*.py"):
        code.unlink()
    config = json.loads((trained_idm / "config.json").read_text())
    config.pop("auto_map")
    (trained_idm / "config.json").write_text(json.dumps(config))
    dry = push(PushConfig(trained_idm, "someone/idm", dry_run=True))
    assert dry["remote_code"] == [
        "actions.py",
        "configuration_idm.py",
        "frames.py",
        "hub_mixin.py",
        "image_inputs.py",
        "modeling_idm.py",
    ]
    assert not list(trained_idm.glob("*.py"))  # a dry run writes nothing
    api = RecordingHubApi()
    push(PushConfig(trained_idm, "someone/idm"), api=api)
    assert {"modeling_idm.py", "configuration_idm.py", "actions.py"} <= set(api.uploaded)
    auto_map = json.loads((trained_idm / "config.json").read_text())["auto_map"]
    assert auto_map["AutoModel"] == "modeling_idm.NitroGenIDM"


def test_checkpoints_only_when_asked(trained_idm):
    plan = upload_plan(PushConfig(trained_idm, "someone/idm", include_checkpoints=True))
    names = {f.path_in_repo for f in plan}
    assert "checkpoints/step_0000004/optimizer.bin" in names
    assert not any(n.startswith(("tensorboard/", ".")) for n in names)


def test_push_creates_the_repo_and_uploads_with_a_fresh_card(trained_idm):
    api = RecordingHubApi()
    result = push(PushConfig(trained_idm, "someone/idm", private=True), api=api)
    (_, create), (_, upload) = api.calls
    assert create == {
        "repo_id": "someone/idm",
        "repo_type": "model",
        "private": True,
        "exist_ok": True,
        "space_sdk": None,
    }
    assert upload["repo_id"] == "someone/idm" and upload["repo_type"] == "model"
    assert Path(upload["folder_path"]) == trained_idm
    assert "checkpoints/*" in upload["ignore_patterns"]
    assert "README.md" in api.uploaded and "model.safetensors" in api.uploaded
    assert not any("checkpoints" in n or "tfevents" in n or n.startswith(".") for n in api.uploaded)
    assert sorted(api.uploaded) == sorted(f["path"] for f in result["files"])
    # The card was rendered for the repo id, with the reports' numbers.
    card = (trained_idm / "README.md").read_text()
    assert 'NitroGenIDM.from_pretrained("someone/idm")' in card and "0.739" in card
    assert result["url"] == "https://huggingface.co/someone/idm"


def test_cli_pushes_a_dataset_with_the_hub_api(tmp_path, capsys):
    from helpers import make_sprite_dataset

    dataset = make_sprite_dataset(tmp_path)
    api = RecordingHubApi()
    with mock.patch("huggingface_hub.HfApi", return_value=api) as hf_api:
        assert main(["push", "--dataset", str(dataset), "--repo", "someone/sprites"]) == 0
    hf_api.assert_called_once_with(token=None)
    assert api.calls[0][1]["repo_type"] == "dataset" and api.calls[0][1]["private"] is False
    assert "README.md" in api.uploaded and "data/train-00000-of-00001.parquet" in api.uploaded
    assert "configs:" in (dataset / "README.md").read_text()
    assert "uploaded to https://huggingface.co/someone/sprites" in capsys.readouterr().out


def test_cli_dry_run_prints_the_listing(trained_idm, capsys):
    assert main(["push", "--model", str(trained_idm), "--repo", "someone/idm", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "model.safetensors" in out and "checkpoints" not in out.split("excluded:")[0]
    assert "dry run: nothing uploaded to model repo someone/idm" in out


def test_space_push_carries_the_package_and_card_templates():
    api = RecordingHubApi()
    push(PushConfig(SPACE_DIR, "someone/nitrogen-space", repo_type="space"), api=api)
    create = api.calls[0][1]
    assert create["repo_type"] == "space" and create["space_sdk"] == "gradio"
    uploaded = set(api.uploaded)
    assert {"app.py", "README.md", "requirements.txt", "examples/breakout.mp4"} <= uploaded
    assert {"nitrogen_hf/__init__.py", "nitrogen_hf/space/backend.py"} <= uploaded
    assert {"nitrogen_hf/hub/templates/idm.md", "demo_idm/model.safetensors"} <= uploaded
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in uploaded)


@pytest.mark.parametrize(
    ("kind", "message"),
    [("model", "not a nitrogen_hf model folder"), ("dataset", "no data/"), ("space", "app.py")],
)
def test_a_folder_of_the_wrong_kind_is_refused_before_any_upload(tmp_path, kind, message):
    api = RecordingHubApi()
    with pytest.raises(ValueError, match=message):
        push(PushConfig(tmp_path, "someone/x", repo_type=kind), api=api)
    assert api.calls == []


def test_repo_ids_are_checked():
    with pytest.raises(ValueError, match="user/name"):
        PushConfig(Path("."), "no-namespace")


def test_json_output(trained_idm, capsys):
    main(["push", "--model", str(trained_idm), "--repo", "someone/idm", "--dry-run", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["dry_run"] is True and result["repo_type"] == "model"

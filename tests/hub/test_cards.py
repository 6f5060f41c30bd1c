from __future__ import annotations

import pytest
import yaml
from huggingface_hub import ModelCard

from nitrogen_hf.evaluation.formatting import fmt
from nitrogen_hf.hub.card_common import MARKER, is_hub_id
from nitrogen_hf.hub.cards import model_card, write_model_card
from nitrogen_hf.hub.idm_card import trained_dims_text
from nitrogen_hf.models.idm import NitroGenIDM


def card_yaml(card) -> dict:
    return yaml.safe_load(card.content.split("---")[1])


def test_save_pretrained_writes_no_card_the_folder_finisher_does(idm_folder):
    """Models write no cards (the trainers and `push` do, once); the card of a bare folder
    says what is missing."""
    assert not (idm_folder / "README.md").exists()
    write_model_card(idm_folder)
    card = ModelCard.load(idm_folder / "README.md")
    assert MARKER in card.text
    assert "Not calibrated" in card.text and "Not evaluated yet" in card.text
    assert "No `training_summary.json`" in card.text
    # The Atari joystick's 5 dims, named, and the other 20 unobserved.
    assert "5 of the 25 action dims" in card.text and "`dpad_left`" in card.text
    assert card.data.library_name == "nitrogen-hf"
    assert card.data.pipeline_tag == "video-classification"


def test_idm_card_has_the_real_numbers_of_its_reports(reported_idm_folder):
    card = model_card(reported_idm_folder, "someone/breakout-idm")
    text = card.text
    # training_summary.json / training_config.json
    assert "| steps | 4,321 |" in text and "| batch size | 48 |" in text
    assert "| learning rate | 0.0007 |" in text and "| wall time | 1.5 h |" in text
    # calibration.json: temperatures, ECE, threshold and its precision
    assert "| temperature (both heads) | 1.750 |" in text
    assert "| held-out frames fully right | 0.457 |" in text
    assert "| ECE before -> after | 0.123 -> 0.032 |" in text
    assert "confidence >= 0.812 were fully right 0.931 of the time" in text
    # eval/metrics.json: per model and game, per button (unsupported buttons left out)
    assert "| idm | breakout | 0.739 | 0.654 |" in text
    assert "| majority | overall | 0.000 | 0.271 |" in text
    assert "| dpad_left | 57 | 0.871 | 0.642 | 0.739 |" in text and "| dpad_up |" not in text
    assert 'NitroGenIDM.from_pretrained("someone/breakout-idm")' in text
    # Hub metadata: the eval results widget
    (result,) = card_yaml(card)["model-index"][0]["results"][:1]
    assert result["metrics"][0] == {"type": "f1", "value": 0.7391, "name": "macro F1"}
    assert result["dataset"]["split"] == "validation"


def test_writing_again_refreshes_the_card_with_new_reports(reported_idm_folder):
    write_model_card(reported_idm_folder)
    (reported_idm_folder / "eval" / "metrics.json").unlink()
    write_model_card(reported_idm_folder)
    assert "Not evaluated yet" in (reported_idm_folder / "README.md").read_text()


def test_saving_the_model_again_keeps_the_card(reported_idm_folder):
    write_model_card(reported_idm_folder)
    model = NitroGenIDM.from_pretrained(reported_idm_folder)
    model.save_pretrained(reported_idm_folder)
    assert "| idm | breakout | 0.739 | 0.654 |" in (reported_idm_folder / "README.md").read_text()


def test_a_hand_written_readme_is_kept(tmp_path, make_tiny_idm):
    folder = tmp_path / "idm"
    folder.mkdir()
    (folder / "README.md").write_text("# My IDM\n\nNotes I wrote.\n")
    make_tiny_idm(folder)
    assert (folder / "README.md").read_text() == "# My IDM\n\nNotes I wrote.\n"
    assert write_model_card(folder) is None


def test_an_uncalibratable_idm_says_so(reported_idm_folder, reports):
    calibration = reports.calibration
    reports.write_json(
        reported_idm_folder / "calibration.json",
        {**calibration, "threshold": {**calibration["threshold"], "threshold": None}},
    )
    text = model_card(reported_idm_folder).text
    assert "no threshold reached the target precision 0.90" in text


def test_policy_card_has_its_training_mixture_and_closed_loop_results(policy_folder):
    write_model_card(policy_folder)
    assert MARKER in (policy_folder / "README.md").read_text()
    card = model_card(policy_folder, "someone/breakout-policy")
    text = card.text
    assert (
        "| truth | `/data/ds/overlay` | 1.00 |" in text
        and "| pseudo | `someone/pseudo-labels` | 0.50 |" in text
    )
    assert "| steps | 2,468 |" in text
    assert "| this policy | 3.25 (95% CI 1.50 to 5.00) |" in text and "| expert | 9.50 |" in text
    assert "**0.254**" in text  # normalized score
    assert "| action horizon | 4 |" in text
    assert 'load_policy("someone/breakout-policy")' in text
    meta = card_yaml(card)
    assert meta["datasets"] == ["someone/pseudo-labels"]  # only Hub ids, not local paths
    assert meta["model-index"][0]["results"][0]["metrics"][0]["value"] == 3.25


def test_a_lora_adapter_folder_gets_a_policy_card(policy_folder, tmp_path):
    import json

    adapter = tmp_path / "lora"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": str(policy_folder), "r": 8})
    )
    text = model_card(adapter, "someone/lora").text
    assert "**LoRA adapter** (rank 8)" in text
    assert "| action horizon | 4 |" in text  # described from its local base


def test_a_folder_that_is_no_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="save it with save_pretrained"):
        model_card(tmp_path)


def test_helpers():
    assert fmt(None) == "n/a" and fmt(1234567) == "1,234,567" and fmt(0.12345) == "0.123"
    assert is_hub_id("user/name") and not is_hub_id("./local/x") and not is_hub_id("a/b/c")
    assert trained_dims_text([True] * 25).startswith("All 21 buttons")


class HubStandIn:
    """Records what `push_to_hub` would upload."""

    def create_repo(self, repo_id, **kwargs):
        from types import SimpleNamespace

        return SimpleNamespace(repo_id=repo_id)

    def upload_folder(self, repo_id, folder_path, **kwargs):
        from pathlib import Path

        self.readme = (Path(folder_path) / "README.md").read_text()
        self.files = sorted(p.name for p in Path(folder_path).iterdir())
        return "commit"


def test_push_to_hub_uploads_nitrogen_hf_card_and_remote_code(idm_folder):
    import nitrogen_hf  # noqa: F401 - wires the card writer

    api = HubStandIn()
    model = NitroGenIDM.from_pretrained(idm_folder)
    model.push_to_hub("someone/idm", tags=["atari"], api=api)
    assert MARKER in api.readme and 'NitroGenIDM.from_pretrained("someone/idm")' in api.readme
    assert "atari" in api.readme
    assert {"modeling_idm.py", "config.json", "model.safetensors"} <= set(api.files)

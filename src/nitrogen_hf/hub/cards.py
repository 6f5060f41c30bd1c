"""Model cards (README.md) of IDM and policy folders, filled from the files saved beside the weights.

config.json (or a LoRA adapter's adapter_config.json), training_summary.json,
training_config.json, calibration.json and the evaluation report (metrics.json of `eval-idm`,
results.json of `eval-policy`, in the folder or its eval/ subfolder) become the card's tables;
a missing file leaves a hint in its section. Templates are Jinja files in hub/templates/
(package data, so a wheel install has them),
rendered by `huggingface_hub.ModelCard.from_template`; the fields of each card come from
idm_card.py and policy_card.py. A README.md written by hand (no `MARKER` line) is never
overwritten.
"""

from __future__ import annotations

import logging
from pathlib import Path

from nitrogen_hf.hub.card_common import (
    CARD_MODEL_TYPES,
    README,
    may_write_card,
    model_kind,
    read_json,
)

logger = logging.getLogger("nitrogen_hf")


def model_card(folder: str | Path, model_id: str | None = None):
    """The ModelCard of an IDM or policy folder; `model_id` (the Hub repo) goes in the snippets."""
    from nitrogen_hf.hub.idm_card import idm_card
    from nitrogen_hf.hub.policy_card import policy_card

    folder = Path(folder)
    card = idm_card if model_kind(folder) == "idm" else policy_card
    return card(folder, model_id or str(folder))


def write_model_card(folder: str | Path, model_id: str | None = None) -> Path | None:
    """Write README.md into a saved model folder; None when a hand-written README is kept or
    the templates are not available (a card is documentation: saving weights must not fail)."""
    folder = Path(folder)
    model_type = (read_json(folder / "config.json") or {}).get("model_type")
    if model_type is not None and model_type not in CARD_MODEL_TYPES:
        logger.info("%s: no card template for model_type %s", folder, model_type)
        return None
    if not may_write_card(folder):
        logger.info("%s: README.md was written by hand (no generated marker); kept", folder)
        return None
    try:
        card = model_card(folder, model_id)
    except FileNotFoundError as error:
        logger.warning("model card not written: %s", error)
        return None
    card.save(folder / README)
    return folder / README

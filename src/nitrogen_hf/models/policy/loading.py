"""Load a policy folder, or a LoRA adapter folder with its base, as one `NitroGenPolicy`.

An adapter trained on games its base had no row for saves their names in `ADAPTER_GAMES`;
the base gets those rows before the adapter's weights (trained copies of the game embedding,
`modules_to_save`) are loaded onto it.
"""

from __future__ import annotations

import json
from pathlib import Path

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_GAMES = "adapter_games.json"  # {"game_names": [...]} of the adapted policy


def is_adapter(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_CONFIG).is_file()


def load_policy(path: str | Path):
    """A trained policy folder (or Hub id), or a LoRA adapter folder: base + adapter, merged."""
    from .modeling_policy import NitroGenPolicy

    path = Path(path)
    if not is_adapter(path):
        return NitroGenPolicy.from_pretrained(path)
    from peft import PeftModel

    adapter = json.loads((path / ADAPTER_CONFIG).read_text())
    base = NitroGenPolicy.from_pretrained(adapter["base_model_name_or_path"])
    games_file = path / ADAPTER_GAMES
    if games_file.is_file():
        names = json.loads(games_file.read_text())["game_names"]
        known = base.config.game_names or []
        if names[: len(known)] != known:
            raise ValueError(
                f"{games_file}: games {names} do not extend the base's {known}; "
                f"the base at {adapter['base_model_name_or_path']} is not the one it was trained on"
            )
        base.add_games(names[len(known) :])
    return PeftModel.from_pretrained(base, path).merge_and_unload()


def save_adapter_games(model, folder: str | Path) -> None:
    """Record the adapted policy's game names beside a saved adapter (see `load_policy`)."""
    names = model.config.game_names
    if names:
        (Path(folder) / ADAPTER_GAMES).write_text(json.dumps({"game_names": names}, indent=2))

"""The maps and worlds behind `vizdoom/<scenario>` and `crafter/<variant>` env ids.

Plain data, so `record --help` can list them without loading a game library.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_CONTROLS = ("strafe", "move", "turn", "look", "attack", "use", "weapons")


@dataclass(frozen=True)
class DoomScenario:
    """A map with its rules (a ViZDoom .cfg) and the controls it allows."""

    config: str  # .cfg in vizdoom's scenarios folder
    controls: tuple[str, ...]
    description: str
    targets: str = "monsters"  # what the scripted player goes for: "monsters" or "items"
    doom_map: str | None = None  # map inside the WAD, when not the cfg's
    kill_reward: float = 0.0  # added per kill where the scenario scores nothing itself


SCENARIOS: dict[str, DoomScenario] = {
    "basic": DoomScenario(
        "basic.cfg", ("strafe", "attack"), "one room, one monster: strafe into line and shoot"
    ),
    "defend_the_center": DoomScenario(
        "defend_the_center.cfg", ("turn", "attack"), "round arena, monsters close in"
    ),
    "health_gathering": DoomScenario(
        "health_gathering.cfg", ("turn", "move"), "acid floor: pick up medkits", targets="items"
    ),
    "my_way_home": DoomScenario(
        "my_way_home.cfg",
        ("turn", "move", "strafe"),
        "maze of rooms: find the armour",
        targets="items",
    ),
    "deathmatch": DoomScenario(
        "deathmatch.cfg", ALL_CONTROLS, "open arena with every weapon and waves of monsters"
    ),
    "freedoom2_map01": DoomScenario(
        "freedoom2.cfg",
        ALL_CONTROLS,
        "Freedoom: Phase 2, MAP01: a whole level with doors, stairs and monsters",
        doom_map="MAP01",
        kill_reward=1.0,
    ),
}


@dataclass(frozen=True)
class CrafterVariant:
    """World and view settings of one `crafter.Env`."""

    area: int = 64  # world side in tiles
    view: int = 9  # tiles across the view (the bottom two rows show the inventory)
    size: int = 144  # frame side in pixels: 16 px per tile
    length: int = 10000  # steps before the episode ends (Crafter's default)
    description: str = "the Crafter benchmark world: 64x64 tiles, 9x9 view"


VARIANTS: dict[str, CrafterVariant] = {
    "default": CrafterVariant(),
    "large_view": CrafterVariant(
        view=13, size=208, description="the same world seen 13 tiles across (more to plan on)"
    ),
}

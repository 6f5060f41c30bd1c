"""A scripted Crafter player that climbs the tech tree: wood, table, wooden tools, stone,
stone tools, coal, furnace, iron tools, diamond, while it drinks, eats, fights and sleeps.

It reads the world around it (`crafter.CrafterView`) and walks by breadth-first search to
the nearest tile next to what it needs, faces it and acts. Goals are re-chosen every step
from the inventory, so it recovers from interruptions (a zombie, a lake in the way).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from nitrogen_hf.actions import CRAFTER_ACTIONS

ACTION = {name: i for i, name in enumerate(CRAFTER_ACTIONS)}
MOVES = {(-1, 0): "move_left", (1, 0): "move_right", (0, -1): "move_up", (0, 1): "move_down"}
WALKABLE = ("grass", "sand", "path")
ENEMIES = ("Zombie", "Skeleton")
SOURCE = {"wood": "tree", "stone": "stone", "coal": "coal", "iron": "iron", "diamond": "diamond"}
TOOL_FOR = {"stone": "wood_pickaxe", "coal": "wood_pickaxe", "iron": "stone_pickaxe",
            "diamond": "iron_pickaxe"}  # fmt: skip
# The tech tree in the order it is climbed: (goal kind, item).
PLAN = (
    ("make", "wood_pickaxe"), ("make", "wood_sword"), ("place", "stone"),
    ("make", "stone_pickaxe"), ("make", "stone_sword"), ("collect", "coal"),
    ("make", "iron_pickaxe"), ("make", "iron_sword"), ("collect", "diamond"),
)  # fmt: skip


@dataclass(frozen=True)
class CrafterExpertConfig:
    search_radius: int = 16  # tiles searched around the player (the view is 9 across)
    thirst_at: int = 4  # drink when drink falls to this
    hunger_at: int = 4  # eat when food falls to this
    sleep_at: int = 2  # sleep when energy falls to this (and no enemy is near)
    fight_distance: int = 3  # go for enemies this close (steps) before they strike first
    flee_health: int = 4  # at or below this health, step away from enemies instead
    safe_distance: int = 8  # no sleeping with an enemy this close
    explore_steps: int = 8  # steps kept in one direction while exploring
    slip_probability: float = 0.02  # a random action now and then


class _Maps:
    """Boolean (area, area) maps of one step's world, indexed [x, y]."""

    def __init__(self, view):
        self.view = view
        self.objects = np.zeros(view.materials.shape, bool)
        self.enemies = np.zeros(view.materials.shape, bool)
        self.cows = np.zeros(view.materials.shape, bool)
        for pos, kind in view.objects.items():
            self.objects[pos] = True
            self.enemies[pos] |= kind in ENEMIES
            self.cows[pos] |= kind == "Cow"
        self.walkable = np.isin(view.materials, WALKABLE) & ~self.objects

    def material(self, name: str) -> np.ndarray:
        return self.view.materials == name


def _grow(mask: np.ndarray, diagonal: bool) -> np.ndarray:
    """Tiles within one step of `mask`: 4-neighbours, or the 3x3 around (crafting's 'nearby')."""
    out = mask.copy()
    shifts = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dx or dy)]
    for dx, dy in shifts if diagonal else [(-1, 0), (1, 0), (0, -1), (0, 1)]:
        shifted = np.zeros_like(mask)
        xs = slice(max(dx, 0), mask.shape[0] + min(dx, 0))
        ys = slice(max(dy, 0), mask.shape[1] + min(dy, 0))
        xd = slice(max(-dx, 0), mask.shape[0] + min(-dx, 0))
        yd = slice(max(-dy, 0), mask.shape[1] + min(-dy, 0))
        shifted[xs, ys] = mask[xd, yd]
        out |= shifted
    return out


class CrafterExpert:
    """Chooses one Crafter action per step from a `CrafterView`."""

    def __init__(self, config: CrafterExpertConfig | None = None):
        import crafter.constants as rules

        self.config = config or CrafterExpertConfig()
        self.place_rules, self.make_rules = rules.place, rules.make
        self.reset()

    def reset(self) -> None:
        self._direction, self._steps_left = (0, 1), 0

    def act(self, observation: np.ndarray, view, rng: np.random.Generator) -> int:
        if rng.random() < self.config.slip_probability:
            return int(rng.integers(len(CRAFTER_ACTIONS)))
        if view.sleeping:
            return ACTION["noop"]
        return ACTION[self._choose(_Maps(view), rng)]

    # --- goals --------------------------------------------------------------------------
    def _choose(self, maps: _Maps, rng: np.random.Generator) -> str:
        config, view = self.config, maps.view
        inventory = view.inventory
        if self._enemy_within(maps, config.fight_distance):
            if inventory["health"] <= config.flee_health:
                return self._flee(maps, rng)
            return self._do_at(maps, maps.enemies, rng)
        if inventory["drink"] <= config.thirst_at:
            return self._do_at(maps, maps.material("water"), rng)
        if inventory["food"] <= config.hunger_at:
            return self._do_at(maps, maps.cows, rng)
        if inventory["energy"] <= config.sleep_at and not self._enemy_within(
            maps, config.safe_distance
        ):
            return "sleep"  # asleep, a zombie hits hard and Crafter only wakes you when hurt
        if (
            inventory["sapling"]
            and self._ahead(maps) == "grass"
            and not self._placed(view, "plant")
        ):
            return "place_plant"
        for kind, item in PLAN:
            if kind == "make" and not inventory[item]:
                return self._make(maps, item, rng)
            if kind == "place" and not self._placed(view, item):
                return self._place(maps, item, rng)
            if kind == "collect" and not inventory[item]:
                return self._collect(maps, item, rng)
        return self._collect(maps, "diamond", rng)

    @staticmethod
    def _placed(view, item: str) -> bool:
        """Placed once already (the achievement is unlocked)?"""
        return view.achievements[f"place_{item}"] > 0

    def _make(self, maps: _Maps, item: str, rng: np.random.Generator) -> str:
        """Gather what `item` uses, go where every station it needs is near, and make it;
        build a missing station (next to one that exists) on the way."""
        rule = self.make_rules[item]
        near = {s: _grow(maps.material(s), diagonal=True) for s in rule["nearby"]}
        needs = dict(rule["uses"])
        spot = self._path(maps, np.logical_and.reduce(list(near.values())))
        build = None
        if spot is None:  # missing, or all there but apart: build the last one again
            present = [s for s, m in near.items() if self._path(maps, m) is not None]
            build = ([s for s in near if s not in present] or sorted(near)[-1:])[0]
            for name, amount in self.place_rules[build]["uses"].items():
                needs[name] = needs.get(name, 0) + amount
        lacking = self._lacking(maps.view, needs)
        if lacking:
            return self._collect(maps, lacking, rng)
        if build is None:
            return f"make_{item}" if spot == () else MOVES[spot]
        keep = [m for s, m in near.items() if s != build and m.any()]
        partial = self._path(maps, np.logical_or.reduce(keep)) if keep else ()
        return MOVES[partial] if partial else self._place(maps, build, rng)

    def _place(self, maps: _Maps, item: str, rng: np.random.Generator) -> str:
        lacking = self._lacking(maps.view, self.place_rules[item]["uses"])
        if lacking:
            return self._collect(maps, lacking, rng)
        target = tuple(np.add(maps.view.position, maps.view.facing))
        free = self._inside(maps, target) and not maps.objects[target]
        if free and self._ahead(maps) in self.place_rules[item]["where"]:
            return f"place_{item}"
        return self._explore(maps, rng)

    def _collect(self, maps: _Maps, item: str, rng: np.random.Generator) -> str:
        tool = TOOL_FOR.get(item)
        if tool and not maps.view.inventory[tool]:
            return self._make(maps, tool, rng)
        return self._do_at(maps, maps.material(SOURCE[item]), rng)

    @staticmethod
    def _lacking(view, needs: dict) -> str | None:
        """The first collectable item the inventory has too little of, or None."""
        return next((n for n, amount in needs.items() if view.inventory[n] < amount), None)

    # --- movement -----------------------------------------------------------------------
    def _do_at(self, maps: _Maps, targets: np.ndarray, rng: np.random.Generator) -> str:
        """Walk next to the nearest target tile, face it and press do."""
        position = maps.view.position
        for direction in MOVES:
            neighbour = tuple(np.add(position, direction))
            if self._inside(maps, neighbour) and targets[neighbour]:
                return "do" if tuple(maps.view.facing) == direction else MOVES[direction]
        step = self._path(maps, _grow(targets, diagonal=False))
        if step is None:
            return self._explore(maps, rng)
        return "noop" if step == () else MOVES[step]

    def _path(self, maps: _Maps, goal: np.ndarray) -> tuple[int, int] | tuple | None:
        """First move of a shortest walk to a goal tile: () when already on one, None when
        none is reachable within the search radius."""
        start = tuple(maps.view.position)
        if goal[start]:
            return ()
        radius = self.config.search_radius
        first: dict[tuple[int, int], tuple[int, int]] = {start: (0, 0)}
        queue = deque([start])
        while queue:
            pos = queue.popleft()
            for direction in MOVES:
                nxt = (pos[0] + direction[0], pos[1] + direction[1])
                if nxt in first or not self._inside(maps, nxt) or not maps.walkable[nxt]:
                    continue
                if max(abs(nxt[0] - start[0]), abs(nxt[1] - start[1])) > radius:
                    continue
                first[nxt] = direction if pos == start else first[pos]
                if goal[nxt]:
                    return first[nxt]
                queue.append(nxt)
        return None

    def _explore(self, maps: _Maps, rng: np.random.Generator) -> str:
        """Keep walking one way for a while; pick a new open direction when blocked."""
        position = maps.view.position
        ahead = tuple(np.add(position, self._direction))
        if self._steps_left <= 0 or not (self._inside(maps, ahead) and maps.walkable[ahead]):
            options = [
                d
                for d in MOVES
                if self._inside(maps, tuple(np.add(position, d)))
                and maps.walkable[tuple(np.add(position, d))]
            ]
            self._direction = options[rng.integers(len(options))] if options else (0, 1)
            self._steps_left = self.config.explore_steps
        self._steps_left -= 1
        return MOVES[self._direction]

    def _flee(self, maps: _Maps, rng: np.random.Generator) -> str:
        """The open step that ends farthest from the nearest enemy."""
        x, y = maps.view.position
        enemies = np.argwhere(maps.enemies)
        best, farthest = None, -1
        for (dx, dy), name in MOVES.items():
            pos = (x + dx, y + dy)
            if self._inside(maps, pos) and maps.walkable[pos]:
                distance = int(np.abs(enemies - np.array(pos)).sum(axis=1).min())
                if distance > farthest:
                    best, farthest = name, distance
        return best or self._explore(maps, rng)

    @staticmethod
    def _enemy_within(maps: _Maps, distance: int) -> bool:
        enemies = np.argwhere(maps.enemies)
        if not len(enemies):
            return False
        return int(np.abs(enemies - np.array(maps.view.position)).sum(axis=1).min()) <= distance

    def _ahead(self, maps: _Maps) -> str | None:
        target = tuple(np.add(maps.view.position, maps.view.facing))
        return maps.view.materials[target] if self._inside(maps, target) else None

    @staticmethod
    def _inside(maps: _Maps, pos: tuple[int, int]) -> bool:
        shape = maps.view.materials.shape
        return 0 <= pos[0] < shape[0] and 0 <= pos[1] < shape[1]

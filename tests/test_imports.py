"""The package's arrows point one way: no import circles, and the layers import only what is
below them (style.md: actions <- data <- models <- training/labeling/evaluation <- hub/space/
demo <- cli). Every import statement counts, those inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nitrogen_hf"
ROOT = "nitrogen_hf"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """nitrogen_hf modules (or packages) that `path` imports, anywhere in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == ROOT}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] == ROOT:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {t for t in imported(path) if t in modules and t != name}
        for name, path in modules.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_circles():
    assert cycles(graph()) == []


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("models", {"hub", "training", "evaluation", "labeling", "demo", "cli", "space", "envs"}),
        ("data", {"models", "training", "evaluation", "labeling", "hub", "demo", "cli", "space"}),
        ("evaluation", {"training", "demo", "cli", "space"}),
        ("labeling", {"training", "demo", "cli", "space"}),
        ("hub", {"training", "demo", "cli", "space"}),
    ],
)
def test_layers_import_only_what_is_below_them(importer, forbidden):
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        if layer(module) == importer
        for target in targets
        if layer(target) in forbidden
    )
    assert wrong == []


def test_the_space_backend_loads_models_through_their_loaders_not_a_trainer():
    edges = graph()
    for module in ("nitrogen_hf.space.backend", "nitrogen_hf.space.timeline"):
        assert not [t for t in edges[module] if layer(t) in ("training", "demo")], module

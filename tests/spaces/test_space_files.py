"""The Space folder deploys as is: its YAML header, its requirements, its bundled assets."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPACE_DIR = ROOT / "spaces"


def test_readme_has_the_space_header():
    header = yaml.safe_load((SPACE_DIR / "README.md").read_text().split("---")[1])
    assert header["sdk"] == "gradio" and header["app_file"] == "app.py"
    assert (SPACE_DIR / header["app_file"]).is_file()
    assert {"title", "emoji", "colorFrom", "colorTo", "sdk_version", "license"} <= set(header)


def test_requirements_cover_the_library_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {re.split(r"[<>=\[;]", d)[0].strip().lower() for d in project["dependencies"]}
    lines = (SPACE_DIR / "requirements.txt").read_text().splitlines()
    have = {re.split(r"[<>=\[;]", ln)[0].strip().lower() for ln in lines if ln and ln[0] != "#"}
    assert wanted <= have, f"add {sorted(wanted - have)} to spaces/requirements.txt"
    assert "ffmpeg" in (SPACE_DIR / "packages.txt").read_text().split()


def test_bundled_assets_are_small_and_complete():
    assert (SPACE_DIR / "examples" / "breakout.mp4").stat().st_size < 1_000_000
    for name in ("demo_idm", "demo_policy"):
        folder = SPACE_DIR / name
        assert {"config.json", "model.safetensors", "README.md"} <= {
            p.name for p in folder.iterdir()
        }
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        assert size < 5_000_000, f"{folder} is {size} bytes"
        assert not (folder / "checkpoints").exists()


def test_app_only_lays_out_the_ui():
    """No function definitions or loops in app.py: the logic lives in the library."""
    source = (SPACE_DIR / "app.py").read_text()
    assert not re.search(r"^\s*(def|class|for|while) ", source, re.MULTILINE)
    assert "from nitrogen_hf.space.backend import" in source

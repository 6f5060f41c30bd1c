"""The wheel works on its own: built from the sources, installed into a fresh venv (its
dependencies borrowed from this one), it writes cards and builds datasets."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    """A venv holding only the nitrogen-hf wheel; a .pth file lends it this venv's packages."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a clean copy: no egg-info or build/ of the working tree
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(work / "dist"), str(source)], work)  # fmt: skip
    (wheel,) = (work / "dist").glob("nitrogen_hf-*.whl")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], work)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], work)
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], work)
    Path(site.stdout.strip(), "borrowed_dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n"
    )
    return venv


@pytest.mark.slow
def test_the_wheel_ships_its_card_templates_and_writes_cards(wheel_venv, tmp_path):
    script = textwrap.dedent(
        f"""
        import nitrogen_hf
        assert nitrogen_hf.__file__.startswith({str(wheel_venv)!r}), nitrogen_hf.__file__
        from nitrogen_hf.hub.cards import write_model_card
        from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig
        model = NitroGenIDM(NitroGenIDMConfig(num_frames=2, frame_size=(16, 16),
                                              cnn_channels=(8,), hidden_size=16))
        model.save_pretrained("idm")
        print("card", write_model_card("idm"))
        """
    )
    run([str(wheel_venv / "bin" / "python"), "-c", script], tmp_path)
    card = (tmp_path / "idm" / "README.md").read_text()
    assert "nitrogen_hf" in card and "from_pretrained" in card
    assert (tmp_path / "idm" / "modeling_idm.py").is_file()  # remote code from the wheel


@pytest.mark.slow
def test_the_wheel_builds_a_dataset_with_its_card(wheel_venv, tmp_path, nitrogen_fixture):
    run([str(wheel_venv / "bin" / "nitrogen-hf"), "build-dataset",
         "--actions", str(nitrogen_fixture.shard), "--videos", str(nitrogen_fixture.videos),
         "--out", str(tmp_path / "ds")], tmp_path)  # fmt: skip
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "configs:" in card and "nitrogen" in card.lower()
    assert list((tmp_path / "ds" / "data").glob("train-*.parquet"))

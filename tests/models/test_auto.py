"""`import nitrogen_hf` registers every model with the Auto classes; saved folders carry remote
code that loads where nitrogen_hf cannot be imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig
from nitrogen_hf.models.lam import (
    LatentActionConfig,
    LatentActionModel,
    WorldModel,
    WorldModelConfig,
)
from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig

TINY_IDM = dict(
    num_frames=4, frame_size=(32, 32), cnn_channels=(8, 16), hidden_size=32, num_heads=2
)
TINY_LAM = dict(context_frames=1, frame_size=(16, 16), patch_size=2, channels=(8, 16), latent_dim=8)
TINY_WM = dict(context_frames=2, frame_size=(16, 16), patch_size=2, channels=(8, 16))


def run_python(code: str, cwd, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | env
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("kind", ["idm", "policy", "lam"])
def test_import_nitrogen_hf_alone_registers_the_auto_classes(tmp_path, kind):
    """A fresh process that imports only the top-level package loads any of our folders."""
    model = {
        "idm": lambda: NitroGenIDM(NitroGenIDMConfig(**TINY_IDM)),
        "policy": lambda: NitroGenPolicy(NitroGenPolicyConfig.preset("tiny")),
        "lam": lambda: LatentActionModel(LatentActionConfig(**TINY_LAM)),
    }[kind]()
    model.save_pretrained(tmp_path / kind)
    result = run_python(
        f"""
        import nitrogen_hf
        import transformers
        model = transformers.AutoModel.from_pretrained({str(tmp_path / kind)!r})
        print(type(model).__module__, type(model).__name__)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert f"{type(model).__module__} {type(model).__name__}" in result.stdout


def test_registration_waits_for_transformers_and_help_imports_nothing_heavy(tmp_path):
    result = run_python(
        """
        import sys
        import nitrogen_hf
        import nitrogen_hf.cli
        heavy = sorted(m for m in ("torch", "transformers", "datasets") if m in sys.modules)
        print("heavy:", heavy)
        from transformers import AutoConfig
        print(type(AutoConfig.for_model("nitrogen_idm")).__name__)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stdout
    assert "NitroGenIDMConfig" in result.stdout


def test_saved_folders_carry_auto_map_and_the_code_it_names(tmp_path):
    NitroGenIDM(NitroGenIDMConfig(**TINY_IDM)).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_idm.NitroGenIDMConfig",
        "AutoModel": "modeling_idm.NitroGenIDM",
    }
    code = {p.name for p in tmp_path.glob("*.py")}
    assert code == {
        "configuration_idm.py",
        "modeling_idm.py",
        "actions.py",
        "frames.py",
        "hub_mixin.py",
        "image_inputs.py",
    }
    for path in tmp_path.glob("*.py"):
        text = path.read_text()
        assert "from nitrogen_hf" not in text and "import nitrogen_hf" not in text, path.name


BLOCK_NITROGEN_HF = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "nitrogen_hf":
            raise ModuleNotFoundError("nitrogen_hf is blocked in this test")
sys.meta_path.insert(0, Block())
try:
    import nitrogen_hf
    raise SystemExit("nitrogen_hf imported")
except ModuleNotFoundError:
    pass
"""


@pytest.mark.slow
def test_remote_code_loads_without_nitrogen_hf(tmp_path):
    """trust_remote_code=True gives the same outputs as our classes, with nitrogen_hf blocked;
    the loaded copy saves its code again (a fine-tuned copy stays loadable)."""
    torch.manual_seed(0)
    models = {
        "idm": NitroGenIDM(NitroGenIDMConfig(**TINY_IDM)).eval(),
        "policy": NitroGenPolicy(NitroGenPolicyConfig.preset("tiny")).eval(),
        "lam": LatentActionModel(LatentActionConfig(**TINY_LAM)).eval(),
        "world_model": WorldModel(WorldModelConfig(**TINY_WM)).eval(),
    }
    frames = torch.randint(0, 256, (1, 4, 3, 32, 32), dtype=torch.uint8)
    small = torch.randint(0, 256, (1, 3, 3, 16, 16), dtype=torch.uint8)
    with torch.no_grad():
        expected = {
            "idm": models["idm"](frames).button_logits,
            "policy": models["policy"]
            .predict_action(frames[0, :1], generator=torch.Generator().manual_seed(0))
            .vector,
            "lam": models["lam"](small[:, :2]).prediction,
            "world_model": models["world_model"](small, torch.tensor([1])).prediction,
        }
    for name, model in models.items():
        model.save_pretrained(tmp_path / name)
    torch.save({"frames": frames, "small": small, "expected": expected}, tmp_path / "io.pt")
    result = run_python(
        BLOCK_NITROGEN_HF
        + f"""
import torch
from transformers import AutoModel
root = {str(tmp_path)!r}
io = torch.load(root + "/io.pt")
models = {{n: AutoModel.from_pretrained(root + "/" + n, trust_remote_code=True).eval()
          for n in ("idm", "policy", "lam", "world_model")}}
with torch.no_grad():
    got = {{
        "idm": models["idm"](io["frames"]).button_logits,
        "policy": models["policy"].predict_action(
            io["frames"][0, :1], generator=torch.Generator().manual_seed(0)).vector,
        "lam": models["lam"](io["small"][:, :2]).prediction,
        "world_model": models["world_model"](io["small"], torch.tensor([1])).prediction,
    }}
for name, value in got.items():
    diff = (value - io["expected"][name]).abs().max().item()
    print(name, type(models[name]).__module__.split(".")[0], diff)
    assert diff < 1e-5, (name, diff)
models["idm"].save_pretrained(root + "/resaved")
again = AutoModel.from_pretrained(root + "/resaved", trust_remote_code=True)
print("resaved", type(again).__name__)
""",
        tmp_path,
        HF_MODULES_CACHE=str(tmp_path / "modules"),
        HF_HUB_OFFLINE="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in models:
        assert f"{name} transformers_modules " in result.stdout
    assert "resaved NitroGenIDM" in result.stdout

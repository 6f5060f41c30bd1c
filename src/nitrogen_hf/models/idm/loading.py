"""Load a saved IDM ready to label: on the chosen device, in eval mode."""

from __future__ import annotations


def load_idm(model: str, device: str = "auto"):
    """The IDM in eval mode on `device` ('auto': cuda when available)."""
    import torch

    from .modeling_idm import NitroGenIDM

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return NitroGenIDM.from_pretrained(model).to(device).eval()

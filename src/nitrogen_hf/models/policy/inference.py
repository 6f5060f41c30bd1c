"""Faster CPU inference for the policy: linear layers run on weights pre-packed for oneDNN.

At inference nearly all of the policy's time is matrix products against fixed weights (the
vision tower at 256 rows per frame, the VL stack at 300, the DiT at one row per action).
PyTorch's default CPU path (MKL `addmm`) re-packs the weight into its blocked layout on
every call, which dominates for the DiT's 18-row products and leaves a fifth of the tower's
time on the table. oneDNN can pack a weight once (`_reorder_linear_weight`, the op that
`torch.compile`'s CPU backend uses for frozen linear layers) and reuse it. Here that is done
without compiling: `pack_linear_layers` gives each large linear layer a forward that, when
no gradient is needed, runs `mkldnn._linear_pointwise` on a packed copy of its weight, with
the bias and, where a tanh-GELU follows (the tower's MLPs, the DiT's feed-forwards), the
activation applied inside the same kernel.

The packed copy is made on first use and rebuilt whenever the weight changes (a new tensor,
a new storage, or an in-place update: `load_state_dict`, an optimizer step, merging LoRA), so
training and loading stay correct; it costs one extra copy of those weights in memory.
Results differ from the default path only by float32 rounding (relative 1e-6 per product).
Unlike MKL's, oneDNN's result for a row does not depend on how many rows are in the batch,
which `NitroGenPolicy.predict_action` relies on when it evaluates the timestep conditioning
of all Euler steps in one product.
"""

from __future__ import annotations

import functools
import types

import torch
import torch.nn.functional as F
from diffusers.models.activations import GELU as DiffusersGELU
from torch import nn
from transformers.activations import GELUTanh
from transformers.models.siglip.modeling_siglip import SiglipMLP

from .action_codec import CategorySpecificLinear

# Smallest weight (in x out) worth packing: a oneDNN call costs ~30 us more than MKL's, which
# only pays off from about 512 x 512 (measured on a 2-core AMD EPYC; the tiny preset's layers
# stay on MKL, the base and 500M presets' all pack).
MIN_PACKED_WEIGHT = 512 * 512
# Attributes set on a patched module: the packed weight and the key it was packed for.
_PACKED = "_nitrogen_packed_weight"
_PACKED_KEY = "_nitrogen_packed_key"


def packed_linear_available() -> bool:
    """Whether this PyTorch build has oneDNN with the (private, inductor-used) packed-linear ops."""
    return (
        torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
        and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )


def _weight_key(weight: torch.Tensor) -> tuple:
    """Changes whenever the values could have: new storage, in-place update, new shape.

    Tensors made under `torch.inference_mode` keep no version counter; they can only be
    updated in place inside inference mode, which the policy's own code never does.
    """
    version = None if weight.is_inference() else weight._version
    return (weight.data_ptr(), version, tuple(weight.shape))


def _can_pack(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Inference on float32 CPU tensors; anything needing a gradient keeps the default path."""
    return (
        not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        and x.device.type == "cpu"
        and weight.device.type == "cpu"
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
    )


def _packed_product(
    owner: nn.Module,
    x: torch.Tensor,
    weight: torch.Tensor,
    weight_out_in: torch.Tensor,
    bias: torch.Tensor | None,
    gelu_tanh: bool = False,
) -> torch.Tensor:
    """x @ weight_out_in.T + bias (then tanh-GELU) with the owner's packed copy of `weight`."""
    key = _weight_key(weight)
    if getattr(owner, _PACKED_KEY, None) != key:
        rows = max(1, x.numel() // max(1, x.shape[-1]))  # a size hint for oneDNN's layout choice
        with torch.no_grad():
            packed = torch.ops.mkldnn._reorder_linear_weight(
                weight_out_in.detach().contiguous(), rows
            )
        object.__setattr__(owner, _PACKED, packed)
        object.__setattr__(owner, _PACKED_KEY, key)
    attr, algorithm = ("gelu", "tanh") if gelu_tanh else ("none", "")
    return torch.ops.mkldnn._linear_pointwise(x, getattr(owner, _PACKED), bias, attr, [], algorithm)


def _linear_forward(self: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    if not _can_pack(x, self.weight):
        return F.linear(x, self.weight, self.bias)
    return _packed_product(self, x, self.weight, self.weight, self.bias)


def _linear_gelu(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """gelu_tanh(layer(x)), fused when the layer is packed and no gradient is needed."""
    if not _can_pack(x, layer.weight) or not _is_patched(layer, _linear_forward):
        return F.gelu(layer(x), approximate="tanh")
    return _packed_product(layer, x, layer.weight, layer.weight, layer.bias, gelu_tanh=True)


def _diffusers_gelu_forward(self: DiffusersGELU, x: torch.Tensor) -> torch.Tensor:
    """diffusers `GELU` (proj, then tanh-GELU): the DiT's and the VL stack's feed-forwards."""
    return _linear_gelu(self.proj, x)


def _siglip_mlp_forward(self: SiglipMLP, x: torch.Tensor) -> torch.Tensor:
    """SigLIP's MLP (fc1, tanh-GELU, fc2) with fc1 and the activation in one kernel."""
    return self.fc2(_linear_gelu(self.fc1, x))


def _category_forward(
    self: CategorySpecificLinear, x: torch.Tensor, category: torch.Tensor
) -> torch.Tensor:
    """The action encoder's and decoder's (in, out) weights, packed when there is one embodiment."""
    if self.W.shape[0] != 1 or not _can_pack(x, self.W):
        return CategorySpecificLinear.forward(self, x, category)
    return _packed_product(self, x, self.W, self.W[0].T, self.b[0])


def _is_siglip_mlp_with_c_gelu_tanh(layer: nn.Module) -> bool:
    """SigLIP's MLP with `gelu_pytorch_tanh` (the C kernel; not the pure-Python variant)."""
    return (
        type(layer) is SiglipMLP
        and type(layer.activation_fn) is GELUTanh
        and isinstance(getattr(layer.activation_fn, "act", None), functools.partial)
    )


def _is_patched(module: nn.Module, function) -> bool:
    return getattr(vars(module).get("forward"), "__func__", None) is function


_PATCHES = (_linear_forward, _category_forward, _diffusers_gelu_forward, _siglip_mlp_forward)


def pack_linear_layers(module: nn.Module, min_weight: int = MIN_PACKED_WEIGHT) -> int:
    """Route the linear layers inside `module` (with at least `min_weight` weights) through
    packed oneDNN weights at inference, fusing a following tanh-GELU where the model has one.

    Returns the number of linear layers patched (0 when oneDNN is unavailable). Training
    passes (gradient enabled) and non-float32 or non-CPU tensors keep the default path.
    """
    if not packed_linear_available():
        return 0
    count = 0
    for layer in module.modules():
        # Exact types only: subclasses (quantized layers and the like) keep their own forward.
        if type(layer) is nn.Linear and layer.weight.numel() >= min_weight:
            layer.forward = types.MethodType(_linear_forward, layer)
            count += 1
        elif type(layer) is CategorySpecificLinear and layer.W[0].numel() >= min_weight:
            layer.forward = types.MethodType(_category_forward, layer)
            count += 1
    for layer in module.modules():  # the fusions, once their linear layers are patched
        if type(layer) is DiffusersGELU and layer.approximate == "tanh":
            layer.forward = types.MethodType(_diffusers_gelu_forward, layer)
        elif _is_siglip_mlp_with_c_gelu_tanh(layer):
            layer.forward = types.MethodType(_siglip_mlp_forward, layer)
    return count


def unpack_linear_layers(module: nn.Module) -> int:
    """Undo `pack_linear_layers`: default forwards again, packed copies freed."""
    count = 0
    for layer in module.modules():
        if any(_is_patched(layer, function) for function in _PATCHES):
            count += type(layer) in (nn.Linear, CategorySpecificLinear)
            del layer.forward
        for name in (_PACKED, _PACKED_KEY):
            if name in vars(layer):
                object.__delattr__(layer, name)
    return count


def packed_linear_count(module: nn.Module) -> int:
    """How many linear layers inside `module` are routed through packed weights."""
    return sum(
        _is_patched(layer, _linear_forward) or _is_patched(layer, _category_forward)
        for layer in module.modules()
    )

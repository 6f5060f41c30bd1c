"""The inference fast paths: oneDNN-packed linear layers, hoisted timestep conditioning, bf16
and torch.compile; each must give the default path's actions within float rounding."""

import copy

import pytest
import torch
import torch.nn.functional as F
from diffusers.models.activations import GELU
from torch import nn
from transformers import SiglipVisionConfig
from transformers.models.siglip.modeling_siglip import SiglipMLP

from nitrogen_hf.actions import ACTION_DIM
from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig
from nitrogen_hf.models.policy.action_codec import CategorySpecificLinear
from nitrogen_hf.models.policy.inference import (
    pack_linear_layers,
    packed_linear_available,
    packed_linear_count,
    unpack_linear_layers,
)

needs_onednn = pytest.mark.skipif(not packed_linear_available(), reason="no oneDNN in this build")


def frames(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)


@pytest.fixture(scope="module")
def policy():
    torch.manual_seed(0)
    return NitroGenPolicy(NitroGenPolicyConfig.preset("tiny", num_games=3)).eval()


def close(a, b, scale=1e-5):
    torch.testing.assert_close(a, b, rtol=0, atol=scale * b.abs().max().item())


@needs_onednn
def test_packed_linear_matches_and_follows_weight_updates():
    torch.manual_seed(0)
    layer = nn.Linear(64, 96)
    x = torch.randn(5, 7, 64)
    assert pack_linear_layers(layer, min_weight=0) == 1 and packed_linear_count(layer) == 1
    with torch.no_grad():
        close(layer(x), F.linear(x, layer.weight, layer.bias))
        layer.weight.mul_(-2.0)  # in place: the packed copy must be rebuilt
        close(layer(x), F.linear(x, layer.weight, layer.bias))
        layer.load_state_dict({"weight": torch.randn(96, 64), "bias": torch.randn(96)})
        close(layer(x), F.linear(x, layer.weight, layer.bias))
    # With a gradient needed, the default kernel runs: same numbers and gradients.
    x.requires_grad_(True)
    out = layer(x)
    assert torch.equal(out, F.linear(x, layer.weight, layer.bias))
    out.sum().backward()
    assert layer.weight.grad is not None and x.grad is not None
    assert unpack_linear_layers(layer) == 1 and "forward" not in vars(layer)
    assert packed_linear_count(layer) == 0


@needs_onednn
def test_packed_action_layers_and_gelu_fusions_match():
    torch.manual_seed(0)
    category = CategorySpecificLinear(1, 64, 96)
    nn.init.normal_(category.W)
    nn.init.normal_(category.b)
    gelu = GELU(64, 128, approximate="tanh")
    mlp = SiglipMLP(SiglipVisionConfig(hidden_size=64, intermediate_size=128))
    x = torch.randn(3, 10, 64)
    embodiment = torch.zeros(3, dtype=torch.long)
    with torch.no_grad():
        expected = [category(x, embodiment), gelu(x), mlp(x)]
        for module in (category, gelu, mlp):
            pack_linear_layers(module, min_weight=0)
        assert packed_linear_count(nn.ModuleList([category, gelu, mlp])) == 4
        assert "forward" in vars(gelu) and "forward" in vars(mlp)  # the fused forwards
        for got, want in zip([category(x, embodiment), gelu(x), mlp(x)], expected, strict=True):
            close(got, want)


@needs_onednn
def test_optimized_policy_matches_default_and_its_own_forward(policy):
    """Packed kernels everywhere (the tiny layers are below the size threshold, so pack them
    explicitly) and the conditioning of all steps hoisted: same actions within rounding, and
    the same as recomputing everything per step on the same kernels."""
    optimized = copy.deepcopy(policy).optimize_for_inference()
    pack_linear_layers(optimized, min_weight=0)
    assert packed_linear_count(optimized) == sum(
        type(m) in (nn.Linear, CategorySpecificLinear) for m in optimized.modules()
    )
    batch = frames(2, 3, 48, 40)
    kwargs = {"game": [1, 2], "num_steps": 5}
    expected = policy.predict_action(batch, generator=torch.Generator().manual_seed(3), **kwargs)
    got = optimized.predict_action(batch, generator=torch.Generator().manual_seed(3), **kwargs)
    close(got.vector, expected.vector)

    pixel_values = optimized.preprocess(batch)
    sample = torch.randn(2, 16, ACTION_DIM, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for i in range(5):
            bucket = torch.full((2,), int(i / 5 * 1000))
            sample = sample + (1 / 5) * optimized(
                pixel_values, sample, bucket, torch.tensor([1, 2])
            )
    close(got.vector, sample, scale=1e-6)

    optimized.optimize_for_inference(pack_linear=False)
    assert packed_linear_count(optimized) == 0


def test_hoisted_conditioning_equals_per_step(policy):
    """`timestep_conditioning` of K buckets, row k == the conditioning of bucket k alone."""
    buckets = torch.tensor([0, 250, 500, 750])
    with torch.no_grad():
        hoisted = policy.model.timestep_conditioning(buckets)
        for index, bucket in enumerate(buckets):
            alone = policy.model.timestep_conditioning(bucket[None])
            selected = hoisted.select(index)
            for (a, b), (c, d) in zip(
                selected.blocks + [selected.output], alone.blocks + [alone.output], strict=True
            ):
                close(a, c, scale=1e-6)
                close(b, d, scale=1e-6)


def test_bf16_model_integrates_in_float32(policy):
    """A bf16 model draws the same float32 noise and sums the Euler steps in float32."""
    bf16 = copy.deepcopy(policy).optimize_for_inference(dtype=torch.bfloat16)
    assert bf16.dtype == torch.bfloat16
    batch = frames(3, 3, 32, 32)
    expected = policy.predict_action(batch, generator=torch.Generator().manual_seed(0)).vector
    got = bf16.predict_action(batch, generator=torch.Generator().manual_seed(0))
    assert got.vector.dtype == torch.float32 and got.vector.shape == expected.shape
    # bf16 keeps 8 bits of mantissa: a few percent of the output's scale.
    close(got.vector, expected, scale=5e-2)
    assert not torch.allclose(got.vector, expected, rtol=0, atol=1e-6)  # it did run in bf16


def test_vision_tokens_skip_only_the_pooling_head(policy):
    pixel_values = policy.preprocess(frames(2, 3, 32, 32)).flatten(0, 1)
    assert policy.vision_encoder.use_head  # the head exists (its weights load from ng.pt)
    with torch.no_grad():
        full = policy.vision_encoder(pixel_values=pixel_values).last_hidden_state
        assert torch.equal(policy.vision_tokens(pixel_values), full)


@pytest.mark.slow
def test_compiled_policy_matches_default(policy):
    """torch.compile of the tower, the VL stack and one Euler step (about a minute on CPU)."""
    compiled = copy.deepcopy(policy).optimize_for_inference(compile=True)
    assert set(compiled._compiled) == {"vision", "vl", "step"}
    batch = frames(2, 3, 32, 32)
    expected = policy.predict_action(batch, game=1, generator=torch.Generator().manual_seed(0))
    got = compiled.predict_action(batch, game=1, generator=torch.Generator().manual_seed(0))
    close(got.vector, expected.vector)

"""Transformer blocks of the NitroGen policy: the VL self-attention stack and the DiT action head.

Module names follow NVIDIA's released checkpoint so that its state dict loads as is:
`transformer_blocks.N.{norm1, pos_embed.pe, attn1.to_{q,k,v}, attn1.to_out.0, norm3, ff.net.{0.proj,2}}`.
A block is: h = norm1(x) (+ fixed sinusoid AFTER the norm); x += attn(h); x += ff(norm3(x)).
No attention mask is used anywhere, which is what the released weights were trained with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.models.attention import FeedForward
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from torch import nn

# Width of the DiT's sinusoidal timestep projection (diffusers `Timesteps`) in NitroGen.
TIMESTEP_CHANNELS = 256
# Final AdaLN of the DiT uses a smaller eps than the blocks, as in the released model.
NORM_OUT_EPS = 1e-6

KeyValue = tuple[torch.Tensor, torch.Tensor]
# (scale, shift) of an AdaLN block, or (shift, scale) of the output norm, each (B, dim).
Modulation = tuple[torch.Tensor, torch.Tensor]


def sinusoid_table(num_positions: int, dim: int) -> torch.Tensor:
    """(1, P, dim) fixed positions: sin on even channels, cos on odd, wavelengths up to 10000 * 2pi."""
    position = torch.arange(num_positions, dtype=torch.float32)[:, None]
    freqs = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(1, num_positions, dim)
    table[0, :, 0::2] = torch.sin(position * freqs)
    table[0, :, 1::2] = torch.cos(position * freqs)
    return table


class SinusoidalPositions(nn.Module):
    """Adds the fixed sinusoid to a (B, L, dim) sequence; `pe` is saved, as in the released file."""

    def __init__(self, dim: int, max_positions: int):
        super().__init__()
        self.register_buffer("pe", sinusoid_table(max_positions, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.pe.shape[1]:
            raise ValueError(
                f"sequence of {x.shape[1]} tokens exceeds {self.pe.shape[1]} positions"
            )
        return x + self.pe[:, : x.shape[1]].to(x.dtype)


class Attention(nn.Module):
    """Multi-head attention with biased projections.

    Keys and values of a fixed memory can be projected once (`key_value`) and reused across
    Euler steps, which is where `NitroGenPolicy.predict_action` saves its time.
    """

    def __init__(
        self, dim: int, heads: int, head_dim: int, context_dim: int | None, dropout: float
    ):
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.to_q = nn.Linear(dim, inner)
        self.to_k = nn.Linear(context_dim or dim, inner)
        self.to_v = nn.Linear(context_dim or dim, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(dropout)])

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, heads * d) -> (B, heads, L, d)."""
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)

    def key_value(self, context: torch.Tensor) -> KeyValue:
        """Projected keys and values of `context` (B, L, C), each (B, heads, L, d)."""
        return self._heads(self.to_k(context)), self._heads(self.to_v(context))

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None = None,
        key_value: KeyValue | None = None,
    ) -> torch.Tensor:
        """Attend from x to `key_value`, else to `context`, else to x itself."""
        if key_value is None:
            key_value = self.key_value(x if context is None else context)
        out = F.scaled_dot_product_attention(self._heads(self.to_q(x)), *key_value)
        return self.to_out[1](self.to_out[0](out.transpose(1, 2).flatten(2)))


class AdaLayerNorm(nn.Module):
    """LayerNorm without affine, modulated by the timestep embedding: (scale, shift) in that order."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.linear = nn.Linear(dim, 2 * dim)
        self.norm = nn.LayerNorm(dim, eps=eps, elementwise_affine=False)

    def modulation(self, temb: torch.Tensor) -> Modulation:
        """(scale, shift), each (B, dim): depends on the timestep only, not on the tokens."""
        scale, shift = self.linear(F.silu(temb)).chunk(2, dim=-1)
        return scale, shift

    def forward(
        self, x: torch.Tensor, temb: torch.Tensor | None, modulation: Modulation | None = None
    ) -> torch.Tensor:
        scale, shift = self.modulation(temb) if modulation is None else modulation
        return self.norm(x) * (1 + scale[:, None]) + shift[:, None]


class TransformerBlock(nn.Module):
    """Pre-norm attention + GELU-tanh MLP; AdaLN-conditioned in the DiT, plain LayerNorm in the VL stack."""

    def __init__(
        self,
        dim: int,
        heads: int,
        head_dim: int,
        *,
        context_dim: int | None = None,
        ada_norm: bool = False,
        norm_eps: float = 1e-5,
        dropout: float = 0.0,
        max_positions: int | None = None,
    ):
        super().__init__()
        self.is_cross_attention = context_dim is not None
        self.norm1 = AdaLayerNorm(dim, norm_eps) if ada_norm else nn.LayerNorm(dim, eps=norm_eps)
        self.pos_embed = SinusoidalPositions(dim, max_positions) if max_positions else None
        self.attn1 = Attention(dim, heads, head_dim, context_dim, dropout)
        # The DiT's norms carry no affine parameters (AdaLN provides the modulation).
        self.norm3 = nn.LayerNorm(dim, eps=norm_eps, elementwise_affine=not ada_norm)
        self.ff = FeedForward(
            dim, dropout=dropout, activation_fn="gelu-approximate", final_dropout=True
        )

    def forward(
        self,
        x: torch.Tensor,
        temb: torch.Tensor | None = None,
        context: torch.Tensor | None = None,
        key_value: KeyValue | None = None,
        modulation: Modulation | None = None,
    ) -> torch.Tensor:
        if temb is None and modulation is None:
            h = self.norm1(x)
        else:
            h = self.norm1(x, temb, modulation)
        if self.pos_embed is not None:
            h = self.pos_embed(h)
        x = x + self.attn1(h, context, key_value)
        return x + self.ff(self.norm3(x))


class SelfAttentionStack(nn.Module):
    """The VL stack: self-attention over the padded [game, image] tokens, width = vision width."""

    def __init__(self, config):
        super().__init__()
        dim = config.vision_hidden_size
        positions = config.vl_max_positions if config.vl_positional_embeddings else None
        self.transformer_blocks = nn.ModuleList(
            TransformerBlock(
                dim,
                config.vl_num_attention_heads,
                config.vl_attention_head_dim,
                norm_eps=config.vl_norm_eps,
                dropout=config.vl_dropout,
                max_positions=positions,
            )
            for _ in range(config.vl_num_layers)
        )
        self.gradient_checkpointing = False  # set by `gradient_checkpointing_enable()`

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        for block in self.transformer_blocks:
            if self.gradient_checkpointing and self.training:
                tokens = self._gradient_checkpointing_func(block.__call__, tokens)
            else:
                tokens = block(tokens)
        return tokens


class TimestepEncoder(nn.Module):
    """Integer bucket -> 256-channel sinusoid (cos first, freq shift 1) -> Linear, SiLU, Linear."""

    def __init__(self, dim: int):
        super().__init__()
        self.time_proj = Timesteps(TIMESTEP_CHANNELS, flip_sin_to_cos=True, downscale_freq_shift=1)
        self.timestep_embedder = TimestepEmbedding(TIMESTEP_CHANNELS, dim)

    def forward(self, timestep: torch.Tensor) -> torch.Tensor:
        dtype = self.timestep_embedder.linear_1.weight.dtype
        return self.timestep_embedder(self.time_proj(timestep).to(dtype))


class DiT(nn.Module):
    """Action-token transformer conditioned on the bucket (AdaLN) and the VL memory (cross-attention).

    With `dit_interleave_self_attention`, odd blocks attend to the action tokens instead.
    """

    def __init__(self, config):
        super().__init__()
        dim = config.hidden_size
        positions = config.dit_max_positions if config.dit_positional_embeddings else None
        self.timestep_encoder = TimestepEncoder(dim)
        self.transformer_blocks = nn.ModuleList(
            TransformerBlock(
                dim,
                config.dit_num_attention_heads,
                config.dit_attention_head_dim,
                context_dim=None
                if config.dit_interleave_self_attention and index % 2 == 1
                else config.vision_hidden_size,
                ada_norm=True,
                norm_eps=config.dit_norm_eps,
                dropout=config.dit_dropout,
                max_positions=positions,
            )
            for index in range(config.dit_num_layers)
        )
        self.norm_out = nn.LayerNorm(dim, eps=NORM_OUT_EPS, elementwise_affine=False)
        self.proj_out_1 = nn.Linear(dim, 2 * dim)
        self.proj_out_2 = nn.Linear(dim, dim)
        self.gradient_checkpointing = False  # set by `gradient_checkpointing_enable()`

    def memory_key_values(self, memory: torch.Tensor) -> list[KeyValue | None]:
        """Per block, the keys/values of the VL memory (None for self-attention blocks)."""
        return [
            block.attn1.key_value(memory) if block.is_cross_attention else None
            for block in self.transformer_blocks
        ]

    def timestep_conditioning(self, timestep: torch.Tensor) -> DiTConditioning:
        """Everything the DiT computes from the bucket alone, for a batch of buckets (N,).

        `predict_action` evaluates it for all K Euler steps in one product each (a tenth of a
        DiT step's weights) instead of once per step; `select` picks one step's rows.
        """
        temb = self.timestep_encoder(timestep)
        blocks = [block.norm1.modulation(temb) for block in self.transformer_blocks]
        shift, scale = self.proj_out_1(F.silu(temb)).chunk(2, dim=-1)
        return DiTConditioning(blocks, (shift, scale))

    def forward(
        self,
        tokens: torch.Tensor,
        timestep: torch.Tensor | None,
        memory: torch.Tensor | None = None,
        memory_kv: list[KeyValue | None] | None = None,
        conditioning: DiTConditioning | None = None,
    ) -> torch.Tensor:
        """(B, H, D) action tokens -> (B, H, D); give the memory or its precomputed keys/values,
        and the bucket (B,) or its precomputed `timestep_conditioning`.

        With gradient checkpointing (training), each block recomputes its keys/values and its
        modulation in the backward pass instead of keeping them."""
        if self.gradient_checkpointing and self.training and memory is not None:
            temb = self.timestep_encoder(timestep)
            for block in self.transformer_blocks:
                context = memory if block.is_cross_attention else None
                tokens = self._gradient_checkpointing_func(block.__call__, tokens, temb, context)
            shift, scale = self.proj_out_1(F.silu(temb)).chunk(2, dim=-1)
        else:
            if memory_kv is None:
                memory_kv = self.memory_key_values(memory)
            if conditioning is None:
                conditioning = self.timestep_conditioning(timestep)
            for block, key_value, modulation in zip(
                self.transformer_blocks, memory_kv, conditioning.blocks, strict=True
            ):
                tokens = block(tokens, key_value=key_value, modulation=modulation)
            shift, scale = conditioning.output
        tokens = self.norm_out(tokens) * (1 + scale[:, None]) + shift[:, None]
        return self.proj_out_2(tokens)


@dataclass
class DiTConditioning:
    """The DiT's timestep-only tensors: per block AdaLN (scale, shift), output (shift, scale)."""

    blocks: list[Modulation]
    output: Modulation

    def select(self, index: int) -> DiTConditioning:
        """The rows of one bucket, (1, dim) each, broadcasting over any batch."""

        def rows(pair: Modulation) -> Modulation:
            return pair[0][index : index + 1], pair[1][index : index + 1]

        return DiTConditioning([rows(pair) for pair in self.blocks], rows(self.output))

"""NitroGen vision-action policy: frames (+ game id) -> a chunk of gamepad actions by flow matching.

vision tower -> [game token] + image tokens, left-padded with zeros -> VL self-attention
stack (the memory) -> DiT over encoded noisy actions, cross-attending to the memory ->
decoded velocity. Parameter names map one-to-one onto NVIDIA's released `ng.pt`
(see `convert_nitrogen.py`), so those weights load without renaming.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoModel, PreTrainedModel, SiglipVisionModel
from transformers import initialization as init

from ...schedulers.scheduling_flow_matching import FlowMatchingScheduler
from ..hub_mixin import NitroGenHubMixin
from .action_codec import ActionDecoder, ActionEncoder, CategorySpecificLinear
from .configuration_policy import NitroGenPolicyConfig
from .dit import DiT, DiTConditioning, SelfAttentionStack, SinusoidalPositions, sinusoid_table
from .processing_policy import ActionChunk, frames_to_batch, preprocess_frames

GameSpec = int | str | Sequence[int | str] | torch.Tensor | None


class NitroGenPolicy(NitroGenHubMixin, PreTrainedModel):
    """Flow-matching policy over a HF vision backbone (SigLIP 2 by default).

    `forward` is one velocity evaluation (the documented NitroGen forward); `compute_loss` is
    the masked flow-matching loss for the shared training loop; `predict_action` samples a chunk,
    computing the vision tower, the VL stack and the memory keys/values once per call.
    """

    config_class = NitroGenPolicyConfig
    base_model_prefix = "nitrogen_policy"
    main_input_name = "pixel_values"
    _supports_sdpa = True
    supports_gradient_checkpointing = True  # the tower, the VL stack and the DiT blocks
    _no_split_modules = ["TransformerBlock"]

    def __init__(self, config: NitroGenPolicyConfig):
        super().__init__(config)
        self.vision_encoder = AutoModel.from_config(config.vision_config)
        self.game_embedding = (
            nn.Embedding(config.num_games + 1, config.vision_hidden_size)
            if config.num_games
            else None
        )
        self.vl_self_attention_model = SelfAttentionStack(config)
        self.model = DiT(config)
        self.action_encoder = ActionEncoder(
            config.action_dim, config.hidden_size, config.num_embodiments
        )
        self.action_decoder = ActionDecoder(
            config.hidden_size, config.action_dim, config.num_embodiments
        )
        self.position_embedding = (
            nn.Embedding(config.max_action_positions, config.hidden_size)
            if config.add_action_position_embedding
            else None
        )
        self.scheduler = FlowMatchingScheduler(
            num_train_timesteps=config.num_timestep_buckets,
            noise_beta_alpha=config.noise_beta_alpha,
            noise_beta_beta=config.noise_beta_beta,
            noise_s=config.noise_s,
        )
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        """Defaults for Linear/Embedding/LayerNorm; our per-embodiment weights and fixed sinusoids."""
        super()._init_weights(module)
        if isinstance(module, CategorySpecificLinear):
            init.normal_(module.W, mean=0.0, std=self.config.initializer_range)
            init.zeros_(module.b)
        elif isinstance(module, SinusoidalPositions):
            init.copy_(module.pe, sinusoid_table(module.pe.shape[1], module.pe.shape[2]))

    @classmethod
    def from_vision_pretrained(cls, name_or_path: str, **config_overrides) -> NitroGenPolicy:
        """A fresh policy whose vision tower starts from pretrained weights (e.g. a SigLIP 2
        checkpoint such as google/siglip2-base-patch16-256); the rest is randomly initialised."""
        from transformers import AutoModel

        tower = AutoModel.from_pretrained(name_or_path)
        tower = getattr(tower, "vision_model", tower)  # a full SigLIP (text + vision) checkpoint
        config = NitroGenPolicyConfig(
            **{
                "vision_encoder_name": str(name_or_path),
                "vision_config": tower.config.to_dict(),
                **config_overrides,
            }
        )
        model = cls(config)
        model.vision_encoder.load_state_dict(tower.state_dict())
        return model

    # --- inputs ---------------------------------------------------------------------------
    def preprocess(self, frames) -> torch.Tensor:
        """Frames (one, a list, a batch: HWC or CHW uint8, PIL) -> pixel values (B, C, 3, h, w)."""
        frames = frames_to_batch(frames, self.config.frame_per_sample).to(self.device)
        return preprocess_frames(
            frames,
            self.config.image_size,
            self.config.image_mean,
            self.config.image_std,
            self.dtype,
        )

    def game_ids(self, game: GameSpec, batch_size: int) -> torch.Tensor | None:
        """(B,) embedding rows for `game`: None -> 0 (unconditional), ids, names, or one per sample."""
        if self.game_embedding is None:
            if game is not None:
                raise ValueError("this policy has no game embedding (num_games=0); pass game=None")
            return None
        if game is None:
            return torch.zeros(batch_size, dtype=torch.long, device=self.device)
        games = game.tolist() if isinstance(game, torch.Tensor) else game
        if isinstance(games, Integral | str):
            games = [games] * batch_size
        ids = torch.tensor([self._game_row(g) for g in games], dtype=torch.long, device=self.device)
        if ids.shape != (batch_size,):
            raise ValueError(f"got {len(ids)} games for a batch of {batch_size}")
        return ids

    def add_games(self, names: Sequence[str]) -> list[str]:
        """Give games this policy has no row for their own embedding rows, started as copies of
        the unconditional row 0 (a new game plays as the unconditional policy until trained).
        Returns the names added, in order; for LoRA, train `game_embedding` beside the adapter."""
        if self.game_embedding is None:
            raise ValueError(
                "this policy has no game embedding (num_games=0): it cannot condition on games; "
                "train it without game conditioning"
            )
        known = list(self.config.game_names or [])
        if len(known) != self.config.num_games:
            raise ValueError(
                f"the {self.config.num_games} game rows of this policy have no names; give them "
                "(e.g. convert-nitrogen --games) before adding games"
            )
        new = [name for name in dict.fromkeys(names) if name and name not in known]
        if new:
            old = self.game_embedding.weight.data
            rows = torch.cat([old, old[:1].expand(len(new), -1)])
            self.game_embedding = nn.Embedding.from_pretrained(rows.clone(), freeze=False)
            self.config.num_games += len(new)
            self.config.game_names = known + new
        return new

    def _game_row(self, game: Integral | str) -> int:
        names = self.config.game_names or []
        if isinstance(game, str):
            if not game:  # a chunk whose game nobody named: the unconditional row
                return 0
            if game not in names:
                raise ValueError(
                    f"unknown game {game!r}; known: {names[:10]}...; pass None for unconditional"
                )
            return names.index(game) + 1
        if not 0 <= game <= self.config.num_games:
            raise ValueError(f"game id {game} outside 0..{self.config.num_games}")
        return int(game)

    # --- the documented forward -----------------------------------------------------------
    def embed_observations(
        self, pixel_values: torch.Tensor, game_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, C, 3, h, w) -> (B, max_sequence_length, V): [game] + image tokens, zeros on the LEFT."""
        batch, frames = pixel_values.shape[:2]
        tokens = self._inference_fn("vision", self.vision_tokens)(pixel_values.flatten(0, 1))
        tokens = tokens.reshape(batch, frames * tokens.shape[1], tokens.shape[2])
        if self.game_embedding is not None:
            if game_ids is None:
                game_ids = torch.zeros(batch, dtype=torch.long, device=tokens.device)
            tokens = torch.cat([self.game_embedding(game_ids)[:, None], tokens], dim=1)
        padding = self.config.max_sequence_length - tokens.shape[1]
        if padding < 0:
            raise ValueError(
                f"{tokens.shape[1]} VL tokens exceed max_sequence_length={self.config.max_sequence_length}"
            )
        return F.pad(tokens, (0, 0, padding, 0))

    def vision_tokens(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) -> the tower's last hidden state (N, tokens, V).

        A SigLIP tower also runs its attention-pooling head, whose output the policy never
        reads (NitroGen keeps the head's weights but uses `last_hidden_state`); calling its
        embeddings, encoder and final norm directly gives the same tokens without it.
        """
        tower = self.vision_encoder
        if isinstance(tower, SiglipVisionModel) and tower.use_head:
            hidden = tower.embeddings(pixel_values)
            return tower.post_layernorm(tower.encoder(inputs_embeds=hidden).last_hidden_state)
        return tower(pixel_values=pixel_values).last_hidden_state

    def encode_memory(
        self, pixel_values: torch.Tensor, game_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The DiT's cross-attention memory (B, L, V): padded VL tokens through the VL stack."""
        tokens = self.embed_observations(pixel_values, game_ids)
        return self._inference_fn("vl", self.vl_self_attention_model)(tokens)

    def velocity(
        self,
        noisy_actions: torch.Tensor,
        timestep: torch.Tensor,
        memory: torch.Tensor | None = None,
        memory_kv: list | None = None,
        conditioning: DiTConditioning | None = None,
    ) -> torch.Tensor:
        """(B, H, 25) predicted velocity at integer bucket `timestep` (B,), given the memory or
        its K/V, and optionally the bucket's precomputed `DiT.timestep_conditioning`."""
        batch, horizon = noisy_actions.shape[:2]
        timestep = torch.as_tensor(timestep, device=noisy_actions.device).expand(batch)
        embodiment = torch.zeros(batch, dtype=torch.long, device=noisy_actions.device)
        tokens = self.action_encoder(noisy_actions, timestep, embodiment)
        if self.position_embedding is not None:
            positions = torch.arange(horizon, device=tokens.device)
            tokens = tokens + self.position_embedding(positions)[None]
        tokens = self.model(
            tokens, timestep, memory=memory, memory_kv=memory_kv, conditioning=conditioning
        )
        return self.action_decoder(tokens, embodiment)[:, -horizon:]

    def forward(
        self,
        pixel_values: torch.Tensor,
        noisy_actions: torch.Tensor,
        timestep: torch.Tensor,
        game_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One full velocity evaluation: pixel values (B, C, 3, h, w), actions (B, H, 25), bucket (B,)."""
        memory = self.encode_memory(pixel_values, game_ids)
        return self.velocity(noisy_actions, timestep, memory=memory)

    # --- training and sampling ------------------------------------------------------------
    def compute_loss(
        self,
        frames: torch.Tensor,
        actions: torch.Tensor,
        observed_mask: torch.Tensor,
        game: GameSpec = None,
    ) -> torch.Tensor:
        """Masked flow-matching MSE: frames uint8 (B, [C,] 3, H, W), actions (B, H, 25) model layout,
        observed_mask (25,), (B, 25) or (B, H, 25) bool; the mean over observed dims only, so a
        controller without a button neither teaches "never pressed" nor dilutes the loss."""
        pixel_values = self.preprocess(frames)
        actions = actions.to(device=self.device, dtype=self.dtype)
        noise = torch.randn_like(actions)
        time = self.scheduler.sample_time(actions.shape[0], device=self.device)
        noisy = self.scheduler.add_noise(actions, noise, time)
        game_ids = self.game_ids(game, actions.shape[0])
        predicted = self(pixel_values, noisy, self.scheduler.time_to_bucket(time), game_ids)
        mask = torch.as_tensor(observed_mask, device=self.device)
        if mask.ndim == 2:
            mask = mask[:, None]
        mask = mask.to(predicted.dtype).expand_as(predicted)
        error = (predicted - self.scheduler.velocity_target(actions, noise)) ** 2
        return (error * mask).sum() / mask.sum().clamp_min(1.0)

    @torch.no_grad()
    def predict_action(
        self,
        frames,
        game: GameSpec = None,
        num_steps: int | None = None,
        generator: torch.Generator | None = None,
    ) -> ActionChunk:
        """Sample one chunk per sample from frames as an HF image processor takes them: one
        frame or a list of frames ((H, W, 3) arrays, PIL images, (3, H, W) tensors), or a batch
        (B, [C,] 3, H, W) / (B, [C,] H, W, 3) of uint8.

        The memory and every cross-attention key/value are computed once, then reused by all K
        Euler steps (NVIDIA recomputes them per step; the numbers are the same). `game` as for
        `game_ids`; `num_steps` defaults to the config's K; `generator` must be on the model's
        device. The start noise and the Euler sum are float32 whatever the model's dtype, so a
        bf16 model integrates without bf16 round-off and draws the same noise as a float32 one.
        After `optimize_for_inference`, the timestep conditioning of all K steps is computed
        up front, in one product per layer.
        """
        pixel_values = self.preprocess(frames)
        batch = pixel_values.shape[0]
        memory = self.encode_memory(pixel_values, self.game_ids(game, batch))
        memory_kv = self.model.memory_key_values(memory)
        shape = (batch, self.config.action_horizon, self.config.action_dim)
        dtype = torch.promote_types(self.dtype, torch.float32)
        sample = torch.randn(shape, generator=generator, device=self.device, dtype=dtype)
        self.scheduler.set_timesteps(num_steps or self.config.num_inference_timesteps, self.device)
        timesteps = self.scheduler.timesteps
        conditioning = self.model.timestep_conditioning(timesteps) if self._optimized else None
        step = self._inference_fn("step", self.velocity)
        for index, bucket in enumerate(timesteps):
            velocity = step(
                sample.to(self.dtype),
                bucket,
                memory_kv=memory_kv,
                conditioning=None if conditioning is None else conditioning.select(index),
            )
            sample = self.scheduler.step(velocity.to(dtype), bucket, sample).prev_sample
        return ActionChunk.from_vector(sample, self.config.button_threshold)

    # --- inference speed ------------------------------------------------------------------
    def optimize_for_inference(
        self,
        *,
        pack_linear: bool | None = None,
        compile: bool = False,
        compile_options: dict | None = None,
        dtype: torch.dtype | None = None,
    ) -> NitroGenPolicy:
        """Make `predict_action` faster; call once after loading (and after `.to(device)`).

        - `pack_linear` (default: on for a float32 model on CPU): the linear layers of 512 x 512
          weights and more run on weights pre-packed for oneDNN, with the tanh-GELU that
          follows fused, when no gradient is needed (see `inference.py`); about one extra
          copy of those weights in memory, rebuilt if the weights change.
        - `compile`: `torch.compile` the vision tower, the VL stack and one Euler step
          (`compile_options` go to `torch.compile`); meant for GPUs, where it fuses the
          elementwise work; the first call pays the compilation. Off by default.
        - `dtype`: cast the weights (e.g. `torch.bfloat16` on a GPU for large batches); the
          Euler integration stays float32.
        In every mode the timestep conditioning of all K steps is precomputed per call.
        Actions stay within float32 rounding of the default path (bf16 aside).
        Calling it again replaces the previous settings (`pack_linear=False` undoes packing).
        """
        from .inference import pack_linear_layers, unpack_linear_layers

        if dtype is not None:
            self.to(dtype)
        if pack_linear is None:
            pack_linear = self.device.type == "cpu" and self.dtype == torch.float32 and not compile
        unpack_linear_layers(self)
        if pack_linear:
            pack_linear_layers(self)
        self._compiled = {}
        if compile:
            options = compile_options or {}
            self._compiled = {
                "vision": torch.compile(self.vision_tokens, **options),
                "vl": torch.compile(self.vl_self_attention_model, **options),
                "step": torch.compile(self.velocity, **options),
            }
        self._optimized = True
        return self

    _optimized = False
    _compiled: dict = {}

    def _inference_fn(self, name: str, default):
        """The compiled version of a stage when `optimize_for_inference(compile=True)` made one
        and no gradient is needed; the eager one otherwise."""
        compiled = self._compiled.get(name)
        return compiled if compiled is not None and not torch.is_grad_enabled() else default

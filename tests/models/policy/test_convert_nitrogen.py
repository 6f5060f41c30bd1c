"""A synthetic `ng.pt` in NVIDIA's layout must convert to a model that reproduces the documented
forward, computed here independently with plain torch ops on the raw weights."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModel, SiglipImageProcessorPil, SiglipVisionConfig, SiglipVisionModel

from nitrogen_hf.models.policy import NitroGenPolicy, convert_nitrogen_checkpoint
from nitrogen_hf.models.policy.convert_nitrogen import load_nitrogen_checkpoint, read_game_names

V, D, E = 32, 48, 2  # vision width, action/DiT width, embodiments
VL_HEADS, DIT_HEADS, HEAD_DIM = 2, 3, 16
VL_LAYERS, DIT_LAYERS, HORIZON, GAMES = 2, 3, 5, 3
POSITIONS, MAX_SEQ_LEN, IMAGE = 40, 8, 32
TOWER = {
    "hidden_size": V,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "image_size": IMAGE,
    "patch_size": 8,
}


def ckpt_config(tower_dir, frames: int = 1, old_layout: bool = False) -> dict:
    block = {
        "num_attention_heads": VL_HEADS,
        "attention_head_dim": HEAD_DIM,
        "positional_embeddings": "sinusoidal",
        "max_num_positional_embeddings": POSITIONS,
        "activation_fn": "gelu-approximate",
        "dropout": 0.2,
    }
    dit = {
        **block,
        "num_layers": DIT_LAYERS,
        "num_attention_heads": DIT_HEADS,
        "output_dim": D,
        "cross_attention_dim": V,
        "interleave_self_attention": True,
        "norm_type": "ada_norm",
    }
    model_cfg = {
        "hidden_size": D,
        "vision_hidden_size": V,
        "vision_encoder_name": str(tower_dir),
        "action_dim": 25,
        "action_horizon": HORIZON,
        "max_seq_len": MAX_SEQ_LEN,
        "add_pos_embed": True,
        "noise_beta_alpha": 1.5,
        "noise_beta_beta": 1.0,
        "noise_s": 0.999,
        "num_timestep_buckets": 1000,
        "num_inference_timesteps": 4,
        "max_num_embodiments": E,
        "diffusion_model_cfg": dit,
        "vl_self_attention_cfg": {**block, "num_layers": VL_LAYERS},
    }
    tokenizer_cfg = {
        "num_visual_tokens_per_frame": 16,
        "max_sequence_length": 20 if frames == 1 else 36,
        "action_horizon": HORIZON,
        "game_mapping_cfg": {"src_files": ["games.parquet"]},
        "old_layout": old_layout,
    }
    modality_cfg = {
        "frame_per_sample": frames,
        "action_per_chunk": HORIZON,
        "frame_spacing": 2,
        "action_shift": 1,
    }
    return {
        "experiment_name": "synthetic",
        "model_cfg": model_cfg,
        "tokenizer_cfg": tokenizer_cfg,
        "modality_cfg": modality_cfg,
    }


def synthetic_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights under the documented names and shapes (pos_embed.pe random too)."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape, scale=0.2):
        return torch.randn(*shape, generator=generator) * scale

    def linear(name, out_features, in_features):
        return {
            f"{name}.weight": rand(out_features, in_features),
            f"{name}.bias": rand(out_features),
        }

    with torch.device("meta"):  # only the tower's key names and shapes; values come from `rand`
        tower = SiglipVisionModel(SiglipVisionConfig(**TOWER))
    state = {
        f"vision_encoder.{k}": (1 + rand(*v.shape))
        if "norm" in k and k.endswith("weight")
        else rand(*v.shape)
        for k, v in tower.state_dict().items()
    }
    for n in range(VL_LAYERS):
        p = f"vl_self_attention_model.transformer_blocks.{n}."
        state |= {p + "pos_embed.pe": rand(1, POSITIONS, V, scale=1.0)}
        state |= {p + "norm1.weight": 1 + rand(V), p + "norm1.bias": rand(V)}
        state |= {p + "norm3.weight": 1 + rand(V), p + "norm3.bias": rand(V)}
        for proj in ("to_q", "to_k", "to_v", "to_out.0"):
            state |= linear(p + "attn1." + proj, V, V)
        state |= linear(p + "ff.net.0.proj", 4 * V, V) | linear(p + "ff.net.2", V, 4 * V)
    state |= linear("model.timestep_encoder.timestep_embedder.linear_1", D, 256)
    state |= linear("model.timestep_encoder.timestep_embedder.linear_2", D, D)
    for n in range(DIT_LAYERS):
        p = f"model.transformer_blocks.{n}."
        context = V if n % 2 == 0 else D
        state |= {p + "pos_embed.pe": rand(1, POSITIONS, D, scale=1.0)}
        state |= linear(p + "norm1.linear", 2 * D, D) | linear(p + "attn1.to_q", D, D)
        state |= linear(p + "attn1.to_k", D, context) | linear(p + "attn1.to_v", D, context)
        state |= linear(p + "attn1.to_out.0", D, D)
        state |= linear(p + "ff.net.0.proj", 4 * D, D) | linear(p + "ff.net.2", D, 4 * D)
    state |= linear("model.proj_out_1", 2 * D, D) | linear("model.proj_out_2", D, D)
    for name, (fan_in, fan_out) in {"W1": (25, D), "W2": (2 * D, D), "W3": (D, D)}.items():
        state |= {
            f"action_encoder.{name}.W": rand(E, fan_in, fan_out),
            f"action_encoder.{name}.b": rand(E, fan_out),
        }
    for name, (fan_in, fan_out) in {"layer1": (D, D), "layer2": (D, 25)}.items():
        state |= {
            f"action_decoder.{name}.W": rand(E, fan_in, fan_out),
            f"action_decoder.{name}.b": rand(E, fan_out),
        }
    state["position_embedding.weight"] = rand(MAX_SEQ_LEN, D)
    state["game_embedding.weight"] = rand(GAMES + 1, V)
    return state


@pytest.fixture
def tower_dir(tmp_path):
    """`vision_encoder_name` as a local path: the tower is built from AutoConfig of it."""
    path = tmp_path / "tower"
    SiglipVisionConfig(**TOWER).save_pretrained(path)
    return path


def make_checkpoint(tower_dir, frames=1, old_layout=False) -> dict:
    return {
        "model": synthetic_state_dict(),
        "ckpt_config": ckpt_config(tower_dir, frames, old_layout),
    }


# --- the documented forward, with plain torch ops on the raw state dict ----------------------
def _linear(state, name, x):
    return x @ state[f"{name}.weight"].T + state[f"{name}.bias"]


def _attention(q, k, v, heads):
    def split(x):
        return x.reshape(x.shape[0], x.shape[1], heads, -1).transpose(1, 2)

    q, k, v = split(q), split(k), split(v)
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
    out = weights @ v
    return out.transpose(1, 2).reshape(out.shape[0], out.shape[2], -1)


def _block(state, p, x, heads, temb=None, memory=None):
    width = x.shape[-1]
    if temb is None:  # VL stack: affine LayerNorms
        h = F.layer_norm(x, (width,), state[p + "norm1.weight"], state[p + "norm1.bias"], 1e-5)
    else:  # DiT: AdaLN, scale then shift
        scale, shift = _linear(state, p + "norm1.linear", F.silu(temb)).chunk(2, dim=-1)
        h = F.layer_norm(x, (width,), eps=1e-5) * (1 + scale[:, None]) + shift[:, None]
    h = h + state[p + "pos_embed.pe"][:, : x.shape[1]]  # added AFTER the norm
    context = h if memory is None else memory
    q = _linear(state, p + "attn1.to_q", h)
    k, v = _linear(state, p + "attn1.to_k", context), _linear(state, p + "attn1.to_v", context)
    x = x + _linear(state, p + "attn1.to_out.0", _attention(q, k, v, heads))
    if temb is None:
        h = F.layer_norm(x, (width,), state[p + "norm3.weight"], state[p + "norm3.bias"], 1e-5)
    else:
        h = F.layer_norm(x, (width,), eps=1e-5)
    hidden = F.gelu(_linear(state, p + "ff.net.0.proj", h), approximate="tanh")
    return x + _linear(state, p + "ff.net.2", hidden)


def _timestep_embedding(bucket: int, batch: int, dtype) -> torch.Tensor:
    """256 channels, freq shift 1, flip_sin_to_cos (cos first)."""
    half = 128
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=dtype) / (half - 1))
    angles = torch.full((batch, 1), float(bucket), dtype=dtype) * freqs
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


def reference_velocity(state, max_len, pixel_values, game_ids, noisy, bucket):
    """NitroGen's forward as the doc describes it, in the checkpoint's own action layout."""
    batch, frames = pixel_values.shape[:2]
    tower = SiglipVisionModel(SiglipVisionConfig(**TOWER)).eval().to(noisy.dtype)
    tower.load_state_dict(
        {
            k.removeprefix("vision_encoder."): v
            for k, v in state.items()
            if k.startswith("vision_encoder.")
        }
    )
    tokens = tower(pixel_values=pixel_values.flatten(0, 1)).last_hidden_state.reshape(batch, -1, V)
    tokens = torch.cat([state["game_embedding.weight"][game_ids][:, None], tokens], dim=1)
    tokens = torch.cat(
        [torch.zeros(batch, max_len - tokens.shape[1], V, dtype=tokens.dtype), tokens], dim=1
    )  # LEFT pad
    for n in range(VL_LAYERS):
        tokens = _block(state, f"vl_self_attention_model.transformer_blocks.{n}.", tokens, VL_HEADS)

    temb = _timestep_embedding(bucket, batch, noisy.dtype)
    temb = _linear(state, "model.timestep_encoder.timestep_embedder.linear_1", temb)
    temb = _linear(state, "model.timestep_encoder.timestep_embedder.linear_2", F.silu(temb))

    def per_embodiment(name, x):
        return x @ state[f"{name}.W"][0] + state[f"{name}.b"][0]

    half = D // 2
    freqs = torch.exp(-torch.arange(half, dtype=noisy.dtype) * math.log(10000.0) / half)
    angles = float(bucket) * freqs
    time = torch.cat([torch.sin(angles), torch.cos(angles)]).expand(batch, HORIZON, D)
    h = torch.cat([per_embodiment("action_encoder.W1", noisy), time], dim=-1)
    h = per_embodiment("action_encoder.W3", F.silu(per_embodiment("action_encoder.W2", h)))
    h = h + state["position_embedding.weight"][:HORIZON]
    for n in range(DIT_LAYERS):
        memory = tokens if n % 2 == 0 else None  # interleaved: odd blocks are self-attention
        h = _block(state, f"model.transformer_blocks.{n}.", h, DIT_HEADS, temb, memory)
    shift, scale = _linear(state, "model.proj_out_1", F.silu(temb)).chunk(2, dim=-1)  # shift first
    h = F.layer_norm(h, (D,), eps=1e-6) * (1 + scale[:, None]) + shift[:, None]
    h = _linear(state, "model.proj_out_2", h)
    return per_embodiment(
        "action_decoder.layer2", F.relu(per_embodiment("action_decoder.layer1", h))
    )


def processor_pixels(frames: np.ndarray) -> torch.Tensor:
    """(B, C, 3, H, W) uint8 -> the SigLIP image processor's pixel values, (B, C, 3, 32, 32)."""
    processor = SiglipImageProcessorPil(size={"height": IMAGE, "width": IMAGE})
    flat = list(frames.reshape(-1, *frames.shape[2:]))
    pixels = processor(images=flat, return_tensors="pt")["pixel_values"]
    return pixels.reshape(*frames.shape[:2], 3, IMAGE, IMAGE)


def to_old(x):
    """New layout [buttons, sticks] -> old layout [sticks, buttons]."""
    return torch.cat([x[..., 21:], x[..., :21]], dim=-1)


def to_new(x):
    return torch.cat([x[..., 4:], x[..., :4]], dim=-1)


# --- tests ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("frames", "old_layout"), [(1, False), (2, True)])
def test_converted_model_matches_documented_forward(tower_dir, frames, old_layout):
    checkpoint = make_checkpoint(tower_dir, frames, old_layout)
    model = load_nitrogen_checkpoint(checkpoint, game_names=["zelda", "celeste", "doom"])
    config = model.config
    assert (config.hidden_size, config.vision_hidden_size, config.action_horizon) == (D, V, HORIZON)
    assert (config.num_embodiments, config.max_action_positions, config.frame_per_sample) == (
        E,
        MAX_SEQ_LEN,
        frames,
    )
    assert (config.frame_spacing, config.action_shift) == (2, 1)
    assert config.game_names == [
        "celeste",
        "doom",
        "zelda",
    ]  # sorted, as NitroGen builds the mapping

    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, (2, frames, 3, 45, 60), dtype=np.uint8)
    pixel_values = processor_pixels(raw)
    torch.testing.assert_close(
        model.preprocess(torch.from_numpy(raw)), pixel_values, rtol=0, atol=0
    )
    games = torch.tensor([0, 2])
    noisy = torch.randn(2, HORIZON, 25)
    max_len = config.max_sequence_length
    state = checkpoint["model"]
    for bucket in (0, 250, 999):
        with torch.no_grad():
            ours = model(pixel_values, noisy, torch.tensor([bucket, bucket]), games)
            file_noisy = to_old(noisy) if old_layout else noisy
            expected = reference_velocity(state, max_len, pixel_values, games, file_noisy, bucket)
        expected = to_new(expected) if old_layout else expected
        # float32 accumulation order differs; structural errors would be of the output's scale.
        torch.testing.assert_close(ours, expected, rtol=0, atol=2e-5 * expected.abs().max().item())

    # In float64 at bucket 0 (exact sinusoids) the two computations agree to rounding.
    model, state = model.double(), {k: v.double() for k, v in state.items()}
    noisy, pixel_values = noisy.double(), pixel_values.double()
    with torch.no_grad():
        ours = model(pixel_values, noisy, torch.tensor([0, 0]), games)
        expected = reference_velocity(
            state, max_len, pixel_values, games, to_old(noisy) if old_layout else noisy, 0
        )
    torch.testing.assert_close(
        ours, to_new(expected) if old_layout else expected, rtol=0, atol=1e-10
    )


def test_predict_action_matches_documented_sampling(tower_dir):
    checkpoint = make_checkpoint(tower_dir)
    model = load_nitrogen_checkpoint(checkpoint)
    raw = np.random.default_rng(1).integers(0, 256, (2, 1, 3, IMAGE, IMAGE), dtype=np.uint8)
    steps = 3
    chunk = model.predict_action(
        torch.from_numpy(raw),
        game=[1, 3],
        num_steps=steps,
        generator=torch.Generator().manual_seed(7),
    )

    pixel_values, games = processor_pixels(raw), torch.tensor([1, 3])
    sample = torch.randn(2, HORIZON, 25, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        for i in range(steps):
            velocity = reference_velocity(
                checkpoint["model"], 20, pixel_values, games, sample, int(i / steps * 1000)
            )
            sample = sample + (1 / steps) * velocity
    torch.testing.assert_close(chunk.vector, sample, rtol=0, atol=2e-5 * sample.abs().max().item())
    assert torch.equal(chunk.buttons, chunk.vector[..., :21] > 0.5)
    assert torch.equal(chunk.sticks, (chunk.vector[..., 21:] * 2 - 1).clamp(-1, 1))


def test_convert_writes_loadable_folder(tower_dir, tmp_path):
    path = tmp_path / "ng.pt"
    torch.save(make_checkpoint(tower_dir), path)
    out = convert_nitrogen_checkpoint(path, tmp_path / "hf", game_names=["a", "b", "c"])
    assert {"config.json", "model.safetensors"} <= {p.name for p in out.iterdir()}
    loaded = AutoModel.from_pretrained(out)
    direct = load_nitrogen_checkpoint(path)
    assert isinstance(loaded, NitroGenPolicy) and loaded.config.game_names == ["a", "b", "c"]
    for (key, a), (key_b, b) in zip(
        direct.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert key == key_b and torch.equal(a, b), key


def test_legacy_tower_keys_are_normalised(tower_dir):
    checkpoint = make_checkpoint(tower_dir)
    state = checkpoint["model"]
    state["vision_encoder.embeddings.position_ids"] = torch.arange(16)[None]
    state["vision_encoder.vision_model.post_layernorm.weight"] = state.pop(
        "vision_encoder.post_layernorm.weight"
    )
    model = load_nitrogen_checkpoint(checkpoint)
    assert torch.equal(
        model.vision_encoder.post_layernorm.weight,
        state["vision_encoder.vision_model.post_layernorm.weight"],
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s.update({"model.extra.weight": torch.zeros(1)}),
            r"1 unexpected \['model.extra.weight'\]",
        ),
        (lambda s: s.pop("action_decoder.layer2.b"), r"1 missing \['action_decoder.layer2.b'\]"),
        (
            lambda s: s.update({"model.proj_out_2.bias": torch.zeros(7)}),
            r"1 shape mismatches \['model.proj_out_2.bias: file \(7,\)",
        ),
    ],
)
def test_state_dict_is_loaded_strictly(tower_dir, edit, message):
    checkpoint = make_checkpoint(tower_dir)
    edit(checkpoint["model"])
    with pytest.raises(ValueError, match=message):
        load_nitrogen_checkpoint(checkpoint)


def test_sizes_are_read_not_assumed(tower_dir, tmp_path):
    checkpoint = make_checkpoint(tower_dir)
    del checkpoint["ckpt_config"]["model_cfg"]["diffusion_model_cfg"]["num_layers"]
    with pytest.raises(
        ValueError,
        match=r"diffusion_model_cfg.num_layers gives dit_num_layers = 12 but the weights have 3 "
        r"\(model.transformer_blocks.N\)",
    ):
        load_nitrogen_checkpoint(checkpoint)  # NVIDIA's default (12) contradicts the weights
    checkpoint = make_checkpoint(tower_dir)
    del checkpoint["ckpt_config"]["model_cfg"]["action_horizon"]  # NVIDIA has no default either
    with pytest.raises(ValueError, match=r"model_cfg: 'action_horizon' missing"):
        load_nitrogen_checkpoint(checkpoint)
    checkpoint = make_checkpoint(tower_dir)
    checkpoint["ckpt_config"]["model_cfg"]["vision_hidden_size"] = 64
    with pytest.raises(ValueError, match="vision_hidden_size 64"):
        load_nitrogen_checkpoint(checkpoint)
    path = tmp_path / "bad.pt"
    torch.save({"model": {}}, path)
    with pytest.raises(ValueError, match=rf"{path}: no 'ckpt_config' entry"):
        load_nitrogen_checkpoint(path)


def one_embodiment(checkpoint: dict) -> dict:
    """The checkpoint cut to a single embodiment, as NitroGen's release has."""
    for key, value in checkpoint["model"].items():
        if key.startswith(("action_encoder.", "action_decoder.")):
            checkpoint["model"][key] = value[:1].clone()
    checkpoint["ckpt_config"]["model_cfg"]["max_num_embodiments"] = 1
    return checkpoint


def test_omitted_fields_take_nvidias_defaults(tower_dir):
    """What NVIDIA's pydantic config defaults may be missing from ckpt_config; the model is the
    one the complete config builds (the dropout default, 0.1, only matters in training)."""
    import copy

    complete = one_embodiment(make_checkpoint(tower_dir))
    for section, key, value in (
        ("tokenizer_cfg", "old_layout", False),
        ("modality_cfg", "action_shift", 1),
        ("modality_cfg", "frame_spacing", HORIZON),
    ):
        complete["ckpt_config"][section][key] = value
    partial = copy.deepcopy(complete)
    model_cfg = partial["ckpt_config"]["model_cfg"]
    for key in (
        "max_num_embodiments",
        "noise_s",
        "noise_beta_alpha",
        "noise_beta_beta",
        "num_timestep_buckets",
    ):
        del model_cfg[key]
    for block in ("diffusion_model_cfg", "vl_self_attention_cfg"):
        for key in ("activation_fn", "positional_embeddings", "dropout"):
            del model_cfg[block][key]
    del model_cfg["diffusion_model_cfg"]["norm_type"]
    del partial["ckpt_config"]["tokenizer_cfg"]["old_layout"]
    del partial["ckpt_config"]["modality_cfg"]["action_shift"]
    del partial["ckpt_config"]["modality_cfg"]["frame_spacing"]  # = action_per_chunk
    reference, defaulted = load_nitrogen_checkpoint(complete), load_nitrogen_checkpoint(partial)
    config = defaulted.config
    assert (config.num_embodiments, config.noise_s, config.num_timestep_buckets) == (1, 0.999, 1000)
    assert (config.noise_beta_alpha, config.noise_beta_beta) == (1.5, 1.0)
    assert (config.dit_dropout, config.vl_dropout) == (0.1, 0.1)
    assert (config.dit_positional_embeddings, config.action_shift) == ("sinusoidal", 1)
    assert config.frame_spacing == HORIZON
    generator = torch.Generator().manual_seed(0)
    pixel_values = torch.rand(1, 1, 3, IMAGE, IMAGE, generator=generator) * 2 - 1
    noisy = torch.randn(1, HORIZON, 25, generator=generator)
    with torch.no_grad():
        expected = reference(pixel_values, noisy, torch.tensor([500]), torch.tensor([1]))
        got = defaulted(pixel_values, noisy, torch.tensor([500]), torch.tensor([1]))
    assert torch.equal(got, expected)


def test_a_default_the_weights_contradict_names_the_key(tower_dir):
    checkpoint = make_checkpoint(tower_dir)  # two embodiments
    del checkpoint["ckpt_config"]["model_cfg"]["max_num_embodiments"]
    with pytest.raises(ValueError, match=r"max_num_embodiments gives num_embodiments = 1 but "):
        load_nitrogen_checkpoint(checkpoint)


def test_game_names_from_lists_mappings_and_files(tmp_path, tower_dir):
    assert read_game_names(["b", "a", "b", "c"]) == ["a", "b", "c"]
    assert read_game_names({"unconditional": 0, "z": 1, "a": 2}) == ["z", "a"]
    (tmp_path / "games.json").write_text(json.dumps({"z": 2, "y": 1}))
    assert read_game_names(tmp_path / "games.json") == ["y", "z"]
    (tmp_path / "games.txt").write_text("doom\nceleste\n\n")
    assert read_game_names(tmp_path / "games.txt") == ["celeste", "doom"]
    with pytest.raises(ValueError, match="rows must be 1..2"):
        read_game_names({"a": 1, "b": 3})
    with pytest.raises(ValueError, match="2 game names for 3 game embedding rows"):
        load_nitrogen_checkpoint(make_checkpoint(tower_dir), game_names=["a", "b"])


def test_golden_velocity(tower_dir):
    """Fixed synthetic weights and inputs give recorded numbers; a refactor must not change them."""
    model = load_nitrogen_checkpoint(make_checkpoint(tower_dir))
    generator = torch.Generator().manual_seed(0)
    pixel_values = torch.rand(1, 1, 3, IMAGE, IMAGE, generator=generator) * 2 - 1
    noisy = torch.randn(1, HORIZON, 25, generator=generator)
    with torch.no_grad():
        velocity = model(pixel_values, noisy, torch.tensor([500]), torch.tensor([1]))
    torch.testing.assert_close(velocity[0, 0, :4], torch.tensor(GOLDEN), rtol=1e-4, atol=1e-4)


GOLDEN = [0.80393499, 9.11924553, -4.14826488, 12.87607479]


def test_convert_command(tower_dir, tmp_path, capsys):
    from nitrogen_hf.cli import main

    path = tmp_path / "ng.pt"
    torch.save(make_checkpoint(tower_dir), path)
    (tmp_path / "games.txt").write_text("c\na\nb\n")
    assert (
        main(
            [
                "convert-nitrogen",
                str(path),
                str(tmp_path / "hf"),
                "--games",
                str(tmp_path / "games.txt"),
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    assert NitroGenPolicy.from_pretrained(tmp_path / "hf").config.game_names == ["a", "b", "c"]

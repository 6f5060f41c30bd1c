"""Latency of `NitroGenPolicy.predict_action` on CPU: our cached sampling vs NVIDIA's per-step
recomputation; and training throughput (samples/s of the flow-matching loss).

For each preset (random weights, built locally, nothing downloaded) and each number of Euler
steps K, times one call on one frame for
- cached: `predict_action` (vision tower, VL stack and memory K/V once per call);
- naive: as NVIDIA's `get_action`: vision tower once, then the VL stack and every
  cross-attention K/V again at each of the K steps;
checks that both give the same actions, and times the components. Training throughput is a
full step (forward, backward, AdamW) for `tiny`, and the loss forward only for the larger
presets (no download: random init of the same architecture). Writes JSON.

    python scripts/bench_policy.py --out bench_policy.json [--presets tiny base nitrogen_500m] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

PRESETS = ("tiny", "base", "nitrogen_500m")
# Timed calls per measurement (median): millisecond-scale tiny calls need many on a busy CPU.
DEFAULT_REPEATS = {"tiny": 25, "base": 3, "nitrogen_500m": 3}


def build_policy(preset: str):
    """A randomly initialised policy of a named preset, in eval mode."""
    import torch

    from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig

    torch.manual_seed(0)
    return NitroGenPolicy(getattr(NitroGenPolicyConfig, preset)()).eval()


def naive_predict(policy, frames, num_steps: int, generator):
    """NVIDIA's sampling loop: the VL stack and the memory K/V are recomputed at every step."""
    import torch

    config = policy.config
    tokens = policy.embed_observations(policy.preprocess(frames))
    shape = (tokens.shape[0], config.action_horizon, config.action_dim)
    sample = torch.randn(shape, generator=generator)
    for i in range(num_steps):
        memory = policy.vl_self_attention_model(tokens)
        bucket = torch.tensor(int(i / num_steps * config.num_timestep_buckets))
        sample = sample + (1.0 / num_steps) * policy.velocity(sample, bucket, memory=memory)
    return sample


def median_seconds(function, repeats: int) -> float:
    """Median wall time of `repeats` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def component_seconds(policy, frames, repeats: int) -> dict[str, float]:
    """Time of each stage of one call: tower, VL stack, memory K/V, one DiT velocity step."""
    import torch

    pixel_values = policy.preprocess(frames)
    tokens = policy.embed_observations(pixel_values)
    memory = policy.vl_self_attention_model(tokens)
    memory_kv = policy.model.memory_key_values(memory)
    sample = torch.randn(1, policy.config.action_horizon, policy.config.action_dim)
    return {
        "vision_tower": median_seconds(lambda: policy.embed_observations(pixel_values), repeats),
        "vl_stack": median_seconds(lambda: policy.vl_self_attention_model(tokens), repeats),
        "memory_key_values": median_seconds(
            lambda: policy.model.memory_key_values(memory), repeats
        ),
        "dit_step": median_seconds(
            lambda: policy.velocity(sample, torch.tensor(0), memory_kv=memory_kv), repeats
        ),
    }


# Batch of the training-throughput measurement per preset.
TRAIN_BATCH = {"tiny": 32, "base": 4, "nitrogen_500m": 2}


def training_samples_per_second(policy, preset: str, repeats: int) -> dict:
    """Samples/s of the masked flow-matching loss: a full AdamW step for tiny, forward otherwise."""
    import torch

    batch = TRAIN_BATCH[preset]
    height, width = policy.config.image_size
    frames = torch.randint(0, 256, (batch, 3, height, width), dtype=torch.uint8)
    actions = torch.rand(batch, policy.config.action_horizon, policy.config.action_dim)
    observed = torch.ones(policy.config.action_dim, dtype=torch.bool)
    full_step = preset == "tiny"
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-4) if full_step else None

    def step():
        if full_step:
            loss = policy.compute_loss(frames, actions, observed)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        else:
            with torch.inference_mode():
                policy.compute_loss(frames, actions, observed)

    policy.train(full_step)
    seconds = median_seconds(step, repeats)
    policy.eval()
    mode = "forward+backward+AdamW" if full_step else "forward only"
    return {"batch": batch, "mode": mode, "samples_per_s": batch / seconds}


def bench_preset(preset: str, steps: list[int], repeats: int) -> dict:
    """Parameter count, component times, and cached vs naive latency per K for one preset."""
    import torch

    policy = build_policy(preset)
    height, width = policy.config.image_size
    frames = torch.randint(0, 256, (1, 3, height, width), dtype=torch.uint8)
    result = {
        "parameters": sum(p.numel() for p in policy.parameters()),
        "vision_encoder": policy.config.vision_encoder_name,
        "action_horizon": policy.config.action_horizon,
        "components_s": component_seconds(policy, frames, repeats),
        "steps": {},
    }
    for num_steps in steps:
        cached = policy.predict_action(
            frames, num_steps=num_steps, generator=torch.Generator().manual_seed(0)
        )
        naive = naive_predict(policy, frames, num_steps, torch.Generator().manual_seed(0))
        cached_s = median_seconds(
            lambda k=num_steps: policy.predict_action(frames, num_steps=k), repeats
        )
        naive_s = median_seconds(
            lambda k=num_steps: naive_predict(policy, frames, k, torch.Generator()), repeats
        )
        result["steps"][f"K{num_steps}"] = {
            "cached_s": cached_s,
            "naive_s": naive_s,
            "speedup": naive_s / cached_s,
            "max_abs_diff": (cached.vector - naive).abs().max().item(),
        }
        print(
            f"{preset} K={num_steps}: cached {cached_s:.3f}s naive {naive_s:.3f}s ({naive_s / cached_s:.2f}x)"
        )
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--steps", nargs="+", type=int, default=[16, 4], help="Euler steps K")
    parser.add_argument(
        "--repeats", type=int, help="timed calls per measurement (default per preset)"
    )
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads; 1 avoids OpenMP stalls on a busy CPU"
    )
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    report = {
        "device": "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "batch": 1,
        "presets": {},
    }
    for preset in args.presets:
        repeats = args.repeats or DEFAULT_REPEATS[preset]
        with torch.inference_mode():
            report["presets"][preset] = bench_preset(preset, args.steps, repeats)
        training = training_samples_per_second(build_policy(preset), preset, max(3, repeats // 5))
        report["presets"][preset]["training"] = training
        print(f"{preset} training: {training['samples_per_s']:.1f} samples/s ({training['mode']})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()

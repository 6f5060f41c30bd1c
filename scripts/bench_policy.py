"""Latency of `NitroGenPolicy.predict_action` on CPU against NVIDIA's `get_action`, the bf16 and
`torch.compile` paths, and training throughput (samples/s of the flow-matching loss).

For each preset (random weights, built locally, nothing downloaded), frame size and number of
Euler steps K, one call on one frame of
- reference: NVIDIA's `get_action` as documented (shared/docs/nitrogen-checkpoint.md):
  transformers' `SiglipImageProcessorPil` on the frame, the tower's full forward (pooling head
  included) once, then at each of the K steps the VL stack, every cross-attention key/value
  and the DiT, all on PyTorch's default kernels;
- default: `predict_action` as loaded (tower, VL stack and memory K/V once per call);
- optimized: `predict_action` after `optimize_for_inference()` (oneDNN-packed linear layers,
  the timestep conditioning of all K steps in one product per layer).
The three run alternately within every round (their order rotating), so that load from other
processes on a shared CPU slows them alike; the JSON keeps every time, the medians, the median
of the per-round ratios and the load average. The same frame and start noise go into all
three, and the largest action difference to the reference is recorded. Stage times, a bf16
model (CPU) and a compiled one are measured on the smaller presets; GPU paths are not
measured here.

    python scripts/bench_policy.py --out scripts/results/bench_policy.json --threads 2
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
from pathlib import Path

PRESETS = ("tiny", "base", "nitrogen_500m")
# Rounds of interleaved calls per measurement: millisecond-scale tiny calls need many.
DEFAULT_ROUNDS = {"tiny": 25, "base": 5, "nitrogen_500m": 5}
# Batch of the training-throughput measurement per preset.
TRAIN_BATCH = {"tiny": 32, "base": 4, "nitrogen_500m": 2}
# Rounds in which other processes used more than this share of the CPUs are left out of the
# medians (all rounds are kept when fewer than two are quiet); before each round the script
# waits up to QUIET_WAIT_S for the machine to quieten.
QUIET_SHARE = 0.15
QUIET_WAIT_S = 60.0
# Total waiting allowed in one run, so that a machine that never quietens still finishes.
QUIET_BUDGET_S = 1800.0
quiet_budget_s = QUIET_BUDGET_S


def build_policy(preset: str):
    """A randomly initialised policy of a named preset, in eval mode."""
    import torch

    from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig

    torch.manual_seed(0)
    return NitroGenPolicy(NitroGenPolicyConfig.preset(preset)).eval()


def hf_processor(policy):
    """The image processor NVIDIA's `get_action` uses: SigLIP's, PIL backend, at the tower size."""
    from transformers import SiglipImageProcessorPil

    height, width = policy.config.image_size
    return SiglipImageProcessorPil(
        size={"height": height, "width": width},
        image_mean=policy.config.image_mean,
        image_std=policy.config.image_std,
    )


def reference_predict(policy, processor, frames, num_steps: int, generator):
    """NVIDIA's sampling: processor, full tower once, VL stack and memory K/V at every step.

    `frames`: uint8 numpy (B, 3, H, W), one context frame per sample. Returns (B, H, 25).
    """
    import torch
    import torch.nn.functional as F

    config = policy.config
    pixel_values = processor(images=list(frames), return_tensors="pt")["pixel_values"]
    tokens = policy.vision_encoder(pixel_values=pixel_values).last_hidden_state
    if policy.game_embedding is not None:
        rows = torch.zeros(tokens.shape[0], dtype=torch.long)
        tokens = torch.cat([policy.game_embedding(rows)[:, None], tokens], dim=1)
    tokens = F.pad(tokens, (0, 0, config.max_sequence_length - tokens.shape[1], 0))
    shape = (tokens.shape[0], config.action_horizon, config.action_dim)
    sample = torch.randn(shape, generator=generator)
    for i in range(num_steps):
        memory = policy.vl_self_attention_model(tokens)
        bucket = torch.tensor(int(i / num_steps * config.num_timestep_buckets))
        sample = sample + (1.0 / num_steps) * policy.velocity(sample, bucket, memory=memory)
    return sample


def busy_cpu_seconds() -> float:
    """CPU seconds all processes have spent busy since boot (/proc/stat; 0 where absent)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def others_share(seconds: float) -> float:
    """Share of the machine's CPUs that other processes kept busy over `seconds` of waiting."""
    before = busy_cpu_seconds()
    time.sleep(seconds)
    return (busy_cpu_seconds() - before) / (seconds * (os.cpu_count() or 1))


def wait_for_quiet(max_wait_s: float, threshold: float = 0.15) -> float:
    """Sleep until other processes use under `threshold` of the CPUs (at most `max_wait_s`,
    and at most what is left of the run's QUIET_BUDGET_S); returns the seconds waited.

    On a shared 2-core machine another job turns every 2-thread OpenMP barrier into a wait
    for a time slice, and the numbers into noise.
    """
    global quiet_budget_s
    waited = 0.0
    while waited < min(max_wait_s, quiet_budget_s) and others_share(0.3) > threshold:
        time.sleep(2.7)
        waited += 3.0
    quiet_budget_s -= waited
    return waited


def interleaved(functions: dict, rounds: int) -> dict:
    """Each function once per round, order rotating, after waiting for a quiet machine.

    Reports medians, minima, the median of per-round ratios to the first function, and per
    call the share of the CPUs that other processes used during it (from /proc/stat: all
    busy time minus this process's), so that disturbed rounds can be seen and left out.
    """
    names = list(functions)
    for function in functions.values():  # warm-up (and oneDNN packing / compilation)
        function()
    times = {name: [] for name in names}
    others = {name: [] for name in names}
    waited = 0.0
    for index in range(rounds):
        waited += wait_for_quiet(QUIET_WAIT_S)
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            start, start_cpu, start_busy = (
                time.perf_counter(),
                time.process_time(),
                busy_cpu_seconds(),
            )
            functions[name]()
            wall = time.perf_counter() - start
            mine = time.process_time() - start_cpu
            all_busy = busy_cpu_seconds() - start_busy
            times[name].append(wall)
            others[name].append(max(0.0, all_busy - mine) / (wall * (os.cpu_count() or 1)))
    first = names[0]
    quiet = [i for i in range(rounds) if max(others[n][i] for n in names) < QUIET_SHARE]
    kept = quiet if len(quiet) >= 2 else list(range(rounds))

    def summary(indices):
        return {n: statistics.median(times[n][i] for i in indices) for n in names}

    result = {
        "median_s": summary(kept),
        "median_all_rounds_s": summary(range(rounds)),
        "min_s": {n: min(t) for n, t in times.items()},
        "rounds_kept": kept,
        "times_s": times,
        "others_cpu_share": others,
        "waited_for_quiet_s": waited,
    }
    result["speedup_median_of_rounds"] = {
        n: statistics.median(times[first][i] / times[n][i] for i in kept) for n in names[1:]
    }
    return result


def parse_size(text: str, policy) -> tuple[int, int]:
    """'tower' -> the tower's (height, width); 'WxH' -> (H, W)."""
    if text == "tower":
        return policy.config.image_size
    width, height = (int(v) for v in text.lower().split("x"))
    return height, width


def latency(reference, optimized, processor, frames_np, steps: list[int], rounds: int) -> dict:
    """Reference vs default vs optimized `predict_action` per K on the same frame and noise."""
    import torch

    frames = torch.from_numpy(frames_np)
    result = {}
    for num_steps in steps:
        expected = reference_predict(
            reference, processor, frames_np, num_steps, torch.Generator().manual_seed(0)
        )
        diffs = {}
        for name, policy in (("default", reference), ("optimized", optimized)):
            got = policy.predict_action(
                frames, num_steps=num_steps, generator=torch.Generator().manual_seed(0)
            )
            diffs[name] = (got.vector - expected).abs().max().item()
        timed = interleaved(
            {
                "reference": lambda k=num_steps: reference_predict(
                    reference, processor, frames_np, k, torch.Generator()
                ),
                "default": lambda k=num_steps: reference.predict_action(frames, num_steps=k),
                "optimized": lambda k=num_steps: optimized.predict_action(frames, num_steps=k),
            },
            rounds,
        )
        median = timed["median_s"]
        timed["speedup"] = {n: median["reference"] / median[n] for n in ("default", "optimized")}
        timed["max_abs_diff_to_reference"] = diffs
        result[f"K{num_steps}"] = timed
        timed["loadavg"] = os.getloadavg()
        print(
            f"  K={num_steps}: reference {median['reference']:.3f}s, default "
            f"{median['default']:.3f}s ({timed['speedup']['default']:.2f}x), optimized "
            f"{median['optimized']:.3f}s ({timed['speedup']['optimized']:.2f}x); max diff "
            f"{diffs['optimized']:.1e}; {len(timed['rounds_kept'])} quiet rounds kept; "
            f"load {timed['loadavg'][0]:.2f}",
            flush=True,
        )
    return result


def stages(reference, optimized, processor, frames_np, rounds: int) -> dict:
    """Per stage, the reference's work against ours (default kernels, then optimized)."""
    import torch

    frames = torch.from_numpy(frames_np)
    pixel_values = reference.preprocess(frames)
    flat = pixel_values.flatten(0, 1)
    tokens = reference.embed_observations(pixel_values)
    memory = reference.vl_self_attention_model(tokens)
    memory_kv = reference.model.memory_key_values(memory)
    sample = torch.randn(frames.shape[0], reference.config.action_horizon, 25)
    bucket = torch.tensor(0)
    conditioning = optimized.model.timestep_conditioning(torch.tensor([0]))
    return {
        "preprocess": interleaved(
            {
                "hf_processor": lambda: processor(images=list(frames_np), return_tensors="pt"),
                "ours": lambda: reference.preprocess(frames),
            },
            rounds,
        ),
        "vision_tower": interleaved(
            {
                "full_forward": lambda: reference.vision_encoder(pixel_values=flat),
                "without_pooling_head": lambda: reference.vision_tokens(flat),
                "optimized": lambda: optimized.vision_tokens(flat),
            },
            rounds,
        ),
        "vl_stack": interleaved(
            {
                "default": lambda: reference.vl_self_attention_model(tokens),
                "optimized": lambda: optimized.vl_self_attention_model(tokens),
            },
            rounds,
        ),
        "memory_key_values": interleaved(
            {
                "default": lambda: reference.model.memory_key_values(memory),
                "optimized": lambda: optimized.model.memory_key_values(memory),
            },
            rounds,
        ),
        "dit_step": interleaved(
            {
                "default": lambda: reference.velocity(sample, bucket, memory_kv=memory_kv),
                "optimized_conditioning_hoisted": lambda: optimized.velocity(
                    sample, bucket, memory_kv=memory_kv, conditioning=conditioning
                ),
            },
            rounds * 3,
        ),
    }


def bf16_path(reference, frames_np, batch: int, rounds: int) -> dict:
    """A bf16 copy of the model on CPU against the optimized float32 one, batch 1 and `batch`."""
    import numpy as np
    import torch

    fp32 = copy.deepcopy(reference).optimize_for_inference()
    bf16 = copy.deepcopy(reference).optimize_for_inference(dtype=torch.bfloat16)
    result = {}
    for size in (1, batch):
        frames = torch.from_numpy(np.repeat(frames_np[:1], size, axis=0))
        seed = torch.Generator().manual_seed(0)
        expected = fp32.predict_action(frames, num_steps=4, generator=seed).vector
        got = bf16.predict_action(frames, num_steps=4, generator=torch.Generator().manual_seed(0))
        timed = interleaved(
            {
                "float32_optimized": lambda f=frames: fp32.predict_action(f, num_steps=4),
                "bf16": lambda f=frames: bf16.predict_action(f, num_steps=4),
            },
            rounds,
        )
        timed["max_abs_diff_to_float32"] = (got.vector - expected).abs().max().item()
        result[f"batch{size}_K4"] = timed
        median = timed["median_s"]
        print(
            f"  bf16 batch {size}: {median['bf16']:.3f}s vs float32 {median['float32_optimized']:.3f}s"
        )
    return result


def compile_path(reference, frames_np, steps: list[int], rounds: int) -> dict:
    """`optimize_for_inference(compile=True)` on CPU: compilation time, latency, difference."""
    import torch

    frames = torch.from_numpy(frames_np)
    optimized = copy.deepcopy(reference).optimize_for_inference()
    compiled = copy.deepcopy(reference).optimize_for_inference(compile=True)
    result = {}
    for num_steps in steps:
        start = time.perf_counter()
        got = compiled.predict_action(
            frames, num_steps=num_steps, generator=torch.Generator().manual_seed(0)
        )
        first_call = time.perf_counter() - start
        expected = optimized.predict_action(
            frames, num_steps=num_steps, generator=torch.Generator().manual_seed(0)
        ).vector
        timed = interleaved(
            {
                "optimized": lambda k=num_steps: optimized.predict_action(frames, num_steps=k),
                "compiled": lambda k=num_steps: compiled.predict_action(frames, num_steps=k),
            },
            rounds,
        )
        timed["first_call_s"] = first_call
        timed["max_abs_diff_to_optimized"] = (got.vector - expected).abs().max().item()
        result[f"K{num_steps}"] = timed
        median = timed["median_s"]
        print(
            f"  compiled K={num_steps}: {median['compiled']:.3f}s vs {median['optimized']:.3f}s "
            f"(first call {first_call:.0f}s)"
        )
    return result


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
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    policy.eval()
    mode = "forward+backward+AdamW" if full_step else "forward only"
    return {"batch": batch, "mode": mode, "samples_per_s": batch / statistics.median(times)}


def bench_preset(preset: str, args) -> dict:
    """Parameters, latency per frame size and K, stages, and the bf16 / compile paths."""
    import numpy as np
    import torch

    rounds = args.rounds or DEFAULT_ROUNDS[preset]
    reference = build_policy(preset)
    optimized = copy.deepcopy(reference).optimize_for_inference()
    processor = hf_processor(reference)
    result = {
        "parameters": sum(p.numel() for p in reference.parameters()),
        "vision_encoder": reference.config.vision_encoder_name,
        "action_horizon": reference.config.action_horizon,
        "rounds": rounds,
        "loadavg_start": os.getloadavg(),
        "frames": {},
    }
    rng = np.random.default_rng(0)
    for text in args.frames:
        height, width = parse_size(text, reference)
        frames_np = rng.integers(0, 256, (1, 3, height, width), dtype=np.uint8)
        print(f"{preset}, frame {width}x{height}:", flush=True)
        with torch.inference_mode():
            entry = {
                "size_hw": [height, width],
                "loadavg_start": os.getloadavg(),
                "latency": latency(reference, optimized, processor, frames_np, args.steps, rounds),
            }
            if not args.skip_stages:
                entry["stages"] = stages(reference, optimized, processor, frames_np, rounds)
            entry["loadavg_end"] = os.getloadavg()
        result["frames"][f"{width}x{height}"] = entry
    tower_np = rng.integers(0, 256, (1, 3, *reference.config.image_size), dtype=np.uint8)
    if preset in args.bf16_presets:  # CPU bf16 is slow without AVX-512 BF16: fewer rounds
        result["bf16_cpu"] = bf16_path(reference, tower_np, args.bf16_batch, min(rounds, 3))
    if preset in args.compile_presets:
        result["compile_cpu"] = compile_path(reference, tower_np, args.steps, rounds)
    del optimized
    if not args.skip_training:
        training = training_samples_per_second(reference, preset, max(3, rounds // 2))
        result["training"] = training
        print(f"{preset} training: {training['samples_per_s']:.1f} samples/s ({training['mode']})")
    result["loadavg_end"] = os.getloadavg()
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--steps", nargs="+", type=int, default=[16, 4], help="Euler steps K")
    parser.add_argument(
        "--frames",
        nargs="+",
        default=["tower", "1280x720"],
        help="frame sizes WxH, or 'tower' for the tower's own size (no resize)",
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default per preset)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--bf16-presets", nargs="*", default=["tiny", "base"], choices=PRESETS)
    parser.add_argument("--bf16-batch", type=int, default=4)
    parser.add_argument("--compile-presets", nargs="*", default=["tiny"], choices=PRESETS)
    parser.add_argument("--skip-stages", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    report = {
        "device": "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "batch": 1,
        "loadavg_start": os.getloadavg(),
        "presets": {},
    }
    for preset in args.presets:
        report["presets"][preset] = bench_preset(preset, args)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))  # partial results survive a kill
    report["loadavg_end"] = os.getloadavg()
    args.out.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()

"""The one training loop (over Accelerate) shared by the IDM, the policy and the latent action
model: each model brings its loss function, not its own loop.

Runs as is on one CPU; the same code under `accelerate launch` (or torchrun) runs DDP on
several processes or GPUs. Data sharding across ranks is the dataset's job (the window
dataset splits chunks by rank and worker), so the DataLoader is not re-sharded here.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.training.configs import TrainConfig

logger = logging.getLogger("nitrogen_hf")

LossFn = Callable[[torch.nn.Module, dict], dict[str, torch.Tensor]]
STATE_FILE = "trainer_state.json"


@dataclass
class TrainResult:
    steps: int  # optimizer steps
    seconds: float
    samples: int
    final_loss: float
    resumed_from: int | None = None
    history: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)  # precision, accumulation, processes: as run

    @property
    def samples_per_second(self) -> float:
        return self.samples / max(self.seconds, 1e-9)


def summed_over_ranks(counts: dict[str, int]) -> dict[str, int]:
    """Per-process counts (e.g. skipped chunks, each rank reads its own) summed over all
    processes; call it on every rank."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return dict(counts)
    gathered: list[dict] = [{} for _ in range(dist.get_world_size())]
    dist.all_gather_object(gathered, dict(counts))
    total: dict[str, int] = {}
    for part in gathered:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def model_fields(config) -> dict:
    """The fields a model config was built with, defaults resolved (for training_config.json:
    what was trained, not only what the preset changed)."""
    import inspect

    names = inspect.signature(type(config).__init__).parameters
    return {k: v for k, v in config.to_dict().items() if k in names and k != "kwargs"}


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch before a model is built: its initial weights (not only the
    training after them) must be the same in every run of the same config."""
    from accelerate.utils import set_seed

    set_seed(seed)


def is_main_process() -> bool:
    """Rank 0 of a launched run (or a single process): the one that writes reports and cards."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def make_accelerator(config: TrainConfig, output_dir: Path):
    """Accelerator with the run's precision, accumulation and trackers (see TrainConfig)."""
    import os

    from accelerate import Accelerator
    from accelerate.utils import GradientAccumulationPlugin

    precision = config.mixed_precision
    if precision is None and "ACCELERATE_MIXED_PRECISION" not in os.environ:
        precision = config.default_mixed_precision
    accumulation = {}
    if config.gradient_accumulation_steps is not None:  # an explicit value beats the launch's
        plugin = GradientAccumulationPlugin(num_steps=config.gradient_accumulation_steps)
        accumulation = {"gradient_accumulation_plugin": plugin}
    return Accelerator(
        mixed_precision=precision,
        log_with=list(config.report_to) or None,
        project_dir=str(output_dir),
        # Without a GPU, several launched processes must still form a (gloo) DDP group.
        cpu=not torch.cuda.is_available(),
        **accumulation,
    )


def make_scheduler(optimizer, config: TrainConfig):
    """Linear warmup, then cosine down to `min_lr_rate` of the peak (constant without a step
    budget). Stepped once per optimizer step, in every process alike."""
    from transformers import get_scheduler

    if config.max_steps is None:
        return get_scheduler("constant_with_warmup", optimizer, config.warmup_steps)
    return get_scheduler(
        "cosine_with_min_lr",
        optimizer,
        num_warmup_steps=config.warmup_steps,
        num_training_steps=config.max_steps,
        scheduler_specific_kwargs={"min_lr_rate": config.min_lr_rate},
    )


def train(
    model: torch.nn.Module,
    dataset: torch.utils.data.IterableDataset,
    config: TrainConfig,
    loss_fn: LossFn,
    output_dir: str | Path,
    collate_fn: Callable | None = None,
    save_fn: Callable[[torch.nn.Module, Path], None] | None = None,
    run_config: dict | None = None,
) -> TrainResult:
    """Train `model` on `dataset` for `config.max_steps` optimizer steps (or `max_minutes`),
    resuming from the newest checkpoint in `output_dir` (unless `config.resume` is off) and
    saving the final model there. `loss_fn(model, batch)` returns a dict
    with "loss" and any scalars to log; `save_fn(model, dir)` writes the final model (default
    save_pretrained); `run_config` (the caller's whole resolved config) is saved as
    `training_config.json`. Logged scalars also go to `training_log.jsonl`."""
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    output_dir = Path(output_dir)
    accelerator = make_accelerator(config, output_dir)
    set_seed(config.seed, device_specific=True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable, lr=config.learning_rate, weight_decay=config.weight_decay
    )
    # Not prepared: Accelerate would step it once per process per step (its data loader is
    # sharded; ours is not, every process counts the same optimizer steps).
    scheduler = make_scheduler(optimizer, config)
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(scheduler)
    ema = _make_ema(accelerator.unwrap_model(model), config.ema_decay)
    if ema is not None:
        accelerator.register_for_checkpointing(ema)
    if config.report_to:
        accelerator.init_trackers(
            "tensorboard", config={k: str(v) for k, v in asdict(config).items()}
        )
    if accelerator.is_main_process:
        write_json_atomic(output_dir / "training_config.json", run_config or asdict(config))

    state = {"step": 0, "epoch": 0, "samples": 0}
    resumed_from = _resume(accelerator, output_dir, state) if config.resume else None
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=config.batch_size, num_workers=config.num_workers, collate_fn=collate_fn
    )
    batches = _cycle(loader, dataset, state)
    progress = tqdm(
        total=config.max_steps,
        initial=state["step"],
        desc="train",
        unit="step",
        disable=not accelerator.is_main_process,
    )
    started, history, last_loss = time.monotonic(), [], math.nan
    model.train()
    while not _finished(accelerator, state, started, config):
        batch = _to_device(next(batches), accelerator.device)
        with accelerator.accumulate(model), accelerator.autocast():
            logs = loss_fn(model, batch)
            accelerator.backward(logs["loss"])
            if accelerator.sync_gradients and config.grad_clip:
                accelerator.clip_grad_norm_(trainable, config.grad_clip)
            optimizer.step()  # a no-op between accumulation boundaries
            optimizer.zero_grad(set_to_none=True)
        state["samples"] += _batch_size(batch) * accelerator.num_processes
        last_loss = float(logs["loss"].detach())
        if not accelerator.sync_gradients:
            continue
        scheduler.step()
        if ema is not None:
            ema.step(_trainable(accelerator.unwrap_model(model)))
        state["step"] += 1
        progress.update(1)
        if state["step"] % config.log_every == 0 or state["step"] == config.max_steps:
            scalars = {k: float(v.detach()) for k, v in logs.items()} | {
                "lr": scheduler.get_last_lr()[0]
            }
            _log(accelerator, output_dir, state["step"], scalars, bool(config.report_to))
            history.append({"step": state["step"], **scalars})
            progress.set_postfix(loss=f"{last_loss:.4f}")
        if state["step"] % config.checkpoint_every == 0:
            _checkpoint(accelerator, output_dir, state, config.keep_checkpoints)
    progress.close()
    seconds = time.monotonic() - started
    _checkpoint(accelerator, output_dir, state, config.keep_checkpoints)
    _save_final(accelerator, model, ema, output_dir, save_fn)
    accelerator.end_training()
    settings = {
        "mixed_precision": accelerator.mixed_precision,
        "gradient_accumulation_steps": accelerator.gradient_accumulation_steps,
        "num_processes": accelerator.num_processes,
    }
    return TrainResult(
        state["step"], seconds, state["samples"], last_loss, resumed_from, history, settings
    )


def _trainable(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    """What the optimizer and the EMA follow: frozen weights (a LoRA base) are left alone."""
    return [p for p in model.parameters() if p.requires_grad]


def _log(accelerator, output_dir: Path, step: int, scalars: dict, trackers: bool) -> None:
    if trackers:
        accelerator.log(scalars, step=step)
    if accelerator.is_main_process:
        with open(output_dir / "training_log.jsonl", "a") as log:
            log.write(json.dumps({"step": step, **scalars}) + "\n")


def _finished(accelerator, state: dict, started: float, config: TrainConfig) -> bool:
    if config.max_steps is not None and state["step"] >= config.max_steps:
        return True
    return _out_of_time(accelerator, started, config)


def _make_ema(model: torch.nn.Module, decay: float | None):
    if decay is None:
        return None
    from diffusers.training_utils import EMAModel

    return EMAModel(_trainable(model), decay=decay)


def _cycle(loader, dataset, state: dict) -> Iterator[dict]:
    """Endless batches; each pass over the data is an epoch with its own shuffle."""
    while True:
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(state["epoch"])
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise RuntimeError(
                "the training data yielded no samples (check the dataset and window size)"
            )
        state["epoch"] += 1


def _to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def _batch_size(batch: dict) -> int:
    return next(len(v) for v in batch.values() if isinstance(v, torch.Tensor))


def _out_of_time(accelerator, started: float, config: TrainConfig) -> bool:
    """Same answer on every rank (rank 0 decides), so no process waits forever in a collective."""
    if config.max_minutes is None:
        return False
    from accelerate.utils import broadcast

    flag = torch.tensor(
        [float(time.monotonic() - started > 60 * config.max_minutes)], device=accelerator.device
    )
    return bool(broadcast(flag, from_process=0).item())


def checkpoint_dirs(output_dir: Path) -> list[Path]:
    """Finished checkpoints, oldest first."""
    folder = output_dir / "checkpoints"
    found = (
        [p for p in folder.glob("step_*") if (p / STATE_FILE).is_file()] if folder.is_dir() else []
    )
    return sorted(found, key=lambda p: int(p.name.split("_")[1]))


def _checkpoint(accelerator, output_dir: Path, state: dict, keep: int) -> None:
    """Save resumable state; the state file is written last, so a torn save is ignored."""
    target = output_dir / "checkpoints" / f"step_{state['step']:07d}"
    if (target / STATE_FILE).is_file():
        return
    accelerator.wait_for_everyone()
    accelerator.save_state(str(target))
    if accelerator.is_main_process:
        write_json_atomic(target / STATE_FILE, state)
        for old in checkpoint_dirs(output_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def _resume(accelerator, output_dir: Path, state: dict) -> int | None:
    found = checkpoint_dirs(output_dir)
    if not found:
        return None
    latest = found[-1]
    accelerator.load_state(str(latest))
    state.update(json.loads((latest / STATE_FILE).read_text()))
    state["epoch"] += 1  # the stream restarts: begin a fresh shuffle rather than replay
    logger.info("resumed from %s (step %d)", latest, state["step"])
    return state["step"]


def _save_final(accelerator, model, ema, output_dir: Path, save_fn) -> None:
    accelerator.wait_for_everyone()
    if not accelerator.is_main_process:
        return
    unwrapped = accelerator.unwrap_model(model)
    if ema is not None:
        ema.store(_trainable(unwrapped))
        ema.copy_to(_trainable(unwrapped))
    (save_fn or (lambda m, d: m.save_pretrained(d)))(unwrapped, output_dir)
    if ema is not None:
        ema.restore(_trainable(unwrapped))

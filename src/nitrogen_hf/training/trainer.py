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
from typing import Any

import torch

from nitrogen_hf.data.files import write_json_atomic

logger = logging.getLogger("nitrogen_hf")

LossFn = Callable[[torch.nn.Module, dict], dict[str, torch.Tensor]]
STATE_FILE = "trainer_state.json"


@dataclass
class TrainConfig:
    """Optimisation and bookkeeping shared by every model's training."""

    output_dir: Path
    max_steps: int = 1000
    max_minutes: float | None = None  # wall-clock budget; stops cleanly and saves
    batch_size: int = 32  # per process
    learning_rate: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 50
    grad_clip: float = 1.0
    num_workers: int = 0
    log_every: int = 10
    checkpoint_every: int = 200  # resumable state (model, optimizer, scheduler, EMA, step)
    keep_checkpoints: int = 2
    seed: int = 0
    mixed_precision: str = "no"  # "bf16" on recent GPUs
    ema_decay: float | None = None  # EMA of the weights, saved as the final model when set
    resume: bool = True

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["output_dir"] = str(self.output_dir)
        return data


@dataclass
class TrainResult:
    steps: int
    seconds: float
    samples: int
    final_loss: float
    resumed_from: int | None = None
    history: list[dict] = field(default_factory=list)

    @property
    def samples_per_second(self) -> float:
        return self.samples / max(self.seconds, 1e-9)


def train(
    model: torch.nn.Module,
    dataset: torch.utils.data.IterableDataset,
    config: TrainConfig,
    loss_fn: LossFn,
    collate_fn: Callable | None = None,
    save_fn: Callable[[torch.nn.Module, Path], None] | None = None,
    run_config: dict | None = None,
) -> TrainResult:
    """Train `model` on `dataset` for `config.max_steps` (or `max_minutes`), resuming from the
    newest checkpoint in `output_dir`. `loss_fn(model, batch)` returns a dict with "loss" and
    any scalars to log; `save_fn(model, dir)` writes the final model (default save_pretrained);
    `run_config` (the caller's whole resolved config) is saved as `training_config.json`."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    output_dir = Path(config.output_dir)
    accelerator = Accelerator(
        mixed_precision=config.mixed_precision,
        log_with="tensorboard",
        project_dir=str(output_dir),
        # Without a GPU, several launched processes must still form a (gloo) DDP group.
        cpu=not torch.cuda.is_available(),
    )
    set_seed(config.seed, device_specific=True)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_cosine(config))
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    ema = _make_ema(accelerator.unwrap_model(model), config.ema_decay)
    if ema is not None:
        accelerator.register_for_checkpointing(ema)
    accelerator.init_trackers(
        "tensorboard", config={k: str(v) for k, v in config.to_json().items()}
    )
    if accelerator.is_main_process:
        write_json_atomic(output_dir / "training_config.json", run_config or config.to_json())

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
        disable=not accelerator.is_main_process,
    )
    started, history, last_loss = time.monotonic(), [], math.nan
    model.train()
    while state["step"] < config.max_steps and not _out_of_time(accelerator, started, config):
        batch = _to_device(next(batches), accelerator.device)
        with accelerator.accumulate(model), accelerator.autocast():
            logs = loss_fn(model, batch)
            accelerator.backward(logs["loss"])
            if accelerator.sync_gradients and config.grad_clip:
                accelerator.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        if ema is not None:
            ema.step(accelerator.unwrap_model(model).parameters())
        state["step"] += 1
        state["samples"] += _batch_size(batch) * accelerator.num_processes
        last_loss = float(logs["loss"].detach())
        progress.update(1)
        if state["step"] % config.log_every == 0 or state["step"] == config.max_steps:
            scalars = {k: float(v.detach()) for k, v in logs.items()} | {
                "lr": scheduler.get_last_lr()[0]
            }
            accelerator.log(scalars, step=state["step"])
            history.append({"step": state["step"], **scalars})
            progress.set_postfix(loss=f"{last_loss:.4f}")
        if state["step"] % config.checkpoint_every == 0:
            _checkpoint(accelerator, output_dir, state, config.keep_checkpoints)
    progress.close()
    seconds = time.monotonic() - started
    _checkpoint(accelerator, output_dir, state, config.keep_checkpoints)
    _save_final(accelerator, model, ema, output_dir, config, save_fn)
    accelerator.end_training()
    return TrainResult(state["step"], seconds, state["samples"], last_loss, resumed_from, history)


def _warmup_cosine(config: TrainConfig) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _make_ema(model: torch.nn.Module, decay: float | None):
    if decay is None:
        return None
    from diffusers.training_utils import EMAModel

    return EMAModel(model.parameters(), decay=decay)


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


def _save_final(accelerator, model, ema, output_dir: Path, config: TrainConfig, save_fn) -> None:
    accelerator.wait_for_everyone()
    if not accelerator.is_main_process:
        return
    unwrapped = accelerator.unwrap_model(model)
    if ema is not None:
        ema.store(unwrapped.parameters())
        ema.copy_to(unwrapped.parameters())
    (save_fn or (lambda m, d: m.save_pretrained(d)))(unwrapped, output_dir)
    if ema is not None:
        ema.restore(unwrapped.parameters())

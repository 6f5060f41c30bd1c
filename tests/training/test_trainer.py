"""The shared loop: optimizer-step budgets, accumulation, precision and trackers from flags or
the launch config, an EMA of the trainable weights only."""

from __future__ import annotations

import json

import pytest
import torch

from nitrogen_hf.training.configs import TrainConfig
from nitrogen_hf.training.trainer import make_accelerator, train


class Numbers(torch.utils.data.IterableDataset):
    """Endless (x, y = 3x) pairs; a fixed seed so every run sees the same stream."""

    def __iter__(self):
        generator = torch.Generator().manual_seed(0)
        while True:
            x = torch.randn(4, generator=generator)
            yield {"x": x, "y": 3 * x}


class Regression(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.frozen = torch.nn.Linear(4, 4)
        self.frozen.requires_grad_(False)
        self.head = torch.nn.Linear(4, 4)

    def forward(self, x):
        return self.head(self.frozen(x))

    def save_pretrained(self, folder):
        torch.save(self.state_dict(), f"{folder}/weights.pt")


def mse(model, batch):
    return {"loss": ((model(batch["x"]) - batch["y"]) ** 2).mean()}


def run(tmp_path, **fields) -> tuple[Regression, dict]:
    torch.manual_seed(0)
    model = Regression()
    fields = {"max_steps": 6, "batch_size": 2, "warmup_steps": 2, "log_every": 1, **fields}
    config = TrainConfig(report_to=(), **fields)
    result = train(model, Numbers(), config, mse, tmp_path)
    log = [json.loads(line) for line in (tmp_path / "training_log.jsonl").read_text().splitlines()]
    return model, {"result": result, "log": log}


def test_budgets_count_optimizer_steps_under_gradient_accumulation(tmp_path):
    _, plain = run(tmp_path / "plain")
    _, accumulated = run(tmp_path / "accumulated", gradient_accumulation_steps=3)
    assert plain["result"].steps == accumulated["result"].steps == 6
    assert accumulated["result"].samples == 3 * plain["result"].samples  # 3 micro-batches each
    lr = [entry["lr"] for entry in accumulated["log"]]
    assert lr == [entry["lr"] for entry in plain["log"]]  # the schedule follows optimizer steps
    assert [entry["step"] for entry in accumulated["log"]] == [1, 2, 3, 4, 5, 6]


def test_schedule_is_warmup_then_cosine_to_the_floor(tmp_path):
    _, runs = run(tmp_path, max_steps=12, warmup_steps=2, learning_rate=1.0)
    lr = [entry["lr"] for entry in runs["log"]]
    assert lr[0] == pytest.approx(0.5) and lr[1] == pytest.approx(1.0)  # after steps 1 and 2
    assert lr[-1] == pytest.approx(0.1)  # min_lr_rate at the last step, not halfway
    assert all(a >= b for a, b in zip(lr[1:], lr[2:], strict=False))


def test_ema_follows_only_the_trainable_weights(tmp_path):
    model, _ = run(tmp_path, ema_decay=0.5)
    torch.manual_seed(0)
    fresh = Regression()
    assert torch.equal(model.frozen.weight, fresh.frozen.weight)  # never touched
    assert not torch.equal(model.head.weight, fresh.head.weight)


def test_precision_from_the_flag_else_the_launch_config_else_the_preset(tmp_path, monkeypatch):
    from accelerate.state import AcceleratorState

    def precision(**fields):
        AcceleratorState._reset_state(True)  # one Accelerator per process, as in a real run
        config = TrainConfig(report_to=(), **fields)
        try:
            return make_accelerator(config, tmp_path).mixed_precision
        finally:
            AcceleratorState._reset_state(True)

    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    assert precision(default_mixed_precision="bf16") == "bf16"  # the preset's
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")  # what `accelerate launch` sets
    assert precision(default_mixed_precision="no") == "bf16"
    assert precision(mixed_precision="no", default_mixed_precision="bf16") == "no"  # the flag


def test_trackers_come_from_report_to(tmp_path):
    torch.manual_seed(0)
    config = TrainConfig(max_steps=2, batch_size=2, report_to=())
    train(Regression(), Numbers(), config, mse, tmp_path)
    assert not any(p.name.startswith("events") for p in tmp_path.rglob("*"))
    config = TrainConfig(max_steps=2, batch_size=2, log_every=1)
    train(Regression(), Numbers(), config, mse, tmp_path / "tb")
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").rglob("*"))


def test_no_step_limit_needs_a_time_limit(tmp_path):
    with pytest.raises(ValueError, match="needs max_minutes"):
        TrainConfig(max_steps=None)

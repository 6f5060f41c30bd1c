"""`--engine ray`: the same per-video labeling on Ray Data, for many videos on many machines.

Videos become rows of a Ray Dataset, one video per batch; `map_batches` hands them to a fixed
pool of actors (`ActorPoolStrategy`), each loading the IDM once (on a GPU when the cluster
has them, `num_gpus` per actor), running `worker.process_video` and writing chunks and done
markers straight to OUT. The driver only gathers the small per-video results and writes the
report. Labels equal the local engine's: same function, same weights, same settings.

Running on a multi-node cluster:

    # head node
    ray start --head --port=6379
    # every other node (GPUs are detected; `--num-gpus N` overrides)
    ray start --address=HEAD_IP:6379
    # from any node: videos, the IDM folder and OUT on storage every node mounts at the same path
    RAY_ADDRESS=HEAD_IP:6379 nitrogen-hf label --engine ray --model /shared/idm \\
        --videos /shared/videos --out /shared/labels --workers 16 --gpus-per-worker 1

(`--ray-address HEAD_IP:6379` instead of RAY_ADDRESS works too.) Every node needs the same
Python environment with nitrogen_hf installed. A killed job resumes like the local one: done
markers on the shared OUT tell every worker what is finished. Run one job per OUT at a time.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from nitrogen_hf.labeling.config import LabelConfig
from nitrogen_hf.labeling.provenance import LabelRun

logger = logging.getLogger("nitrogen_hf")


class VideoLabelerActor:
    """A Ray actor holding one IDM; each call labels the videos of one batch of paths."""

    def __init__(self, run: LabelRun, config: LabelConfig):
        from nitrogen_hf.models.idm.loading import load_idm

        self.run, self.config = run, config
        self.model = load_idm(config.model, config.device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from nitrogen_hf.labeling.worker import process_video

        results = [
            process_video(Path(str(path)), self.model, self.run, self.config)
            for path in batch["path"]
        ]
        return {"result": np.array([json.dumps(r) for r in results], dtype=object)}


def gpus_per_worker(configured: float | None) -> float:
    """The configured GPUs per actor, or 1 when the connected cluster has GPUs, else 0."""
    import ray

    if configured is not None:
        return float(configured)
    return 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0


# Seconds to wait for a cluster's head to accept a connection before saying it is not there
# (Ray itself retries for minutes).
CONNECT_TIMEOUT_S = 5.0


def check_cluster_address(address: str | None) -> None:
    """Fail at once, naming the address, when no Ray head listens there. `None` / "local"
    start a local cluster; "auto" and ray:// client addresses are left to Ray."""
    import os
    import socket

    address = address or os.environ.get("RAY_ADDRESS")
    if not address or address in ("local", "auto") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--ray-address {address!r}: expected HOST:PORT (e.g. 10.0.0.1:6379)")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        raise ConnectionError(
            f"--ray-address {address}: no Ray cluster answers there ({error}); start one with "
            "`ray start --head` or fix the address"
        ) from error


def label_with_ray(videos: list[Path], run: LabelRun, config: LabelConfig) -> list[dict]:
    """Label `videos` on the Ray cluster (connecting, or starting a local one, if needed)."""
    import ray

    if not videos:
        return []
    started_here = not ray.is_initialized()
    if started_here:
        check_cluster_address(config.ray.address)
        ray.init(address=config.ray.address, include_dashboard=False)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = config.progress
        gpus = gpus_per_worker(config.ray.gpus_per_worker)
        workers = max(1, min(config.ray.workers, len(videos)))
        logger.info(
            "ray: %d actors, %.2g CPU and %.2g GPU each", workers, config.ray.cpus_per_worker, gpus
        )
        paths = ray.data.from_items(
            [{"path": str(path)} for path in videos], override_num_blocks=len(videos)
        )
        labeled = paths.map_batches(
            VideoLabelerActor,
            fn_constructor_kwargs={"run": run, "config": config},
            batch_size=1,  # one video per task: long videos balance across actors
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=config.ray.cpus_per_worker,
            num_gpus=gpus,
        )
        rows = labeled.take_all()
    finally:
        if started_here:
            ray.shutdown()
    return [json.loads(row["result"]) for row in rows]

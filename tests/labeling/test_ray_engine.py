"""`--engine ray` on a local 2-CPU Ray cluster writes the same chunks as the local engine."""

from __future__ import annotations

import pytest

from nitrogen_hf.labeling.config import LabelConfig, RayConfig
from nitrogen_hf.labeling.pipeline import label_videos


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def config(model, videos, out, engine) -> LabelConfig:
    return LabelConfig(
        model=str(model),
        videos=[videos],
        out=out,
        chunk_seconds=2.0,
        engine=engine,
        ray=RayConfig(workers=2, cpus_per_worker=1.0),
        progress=False,
    )


@pytest.mark.slow
def test_ray_and_local_engines_write_the_same_labels(
    ray_cluster, tiny_idm, sprite_videos, tmp_path, same_labels
):
    local = label_videos(config(tiny_idm, sprite_videos, tmp_path / "local", "local"))
    on_ray = label_videos(config(tiny_idm, sprite_videos, tmp_path / "ray", "ray"))
    assert on_ray["engine"] == "ray" and on_ray["videos"]["labeled_now"] == 3
    same_labels(tmp_path / "ray", tmp_path / "local")
    for key in ("hours_in", "hours_kept", "hours_dropped", "chunks_written"):
        assert on_ray[key] == local[key]
    # Finished videos are skipped on Ray too.
    again = label_videos(config(tiny_idm, sprite_videos, tmp_path / "ray", "ray"))
    assert again["videos"]["already_done"] == 3
    assert not ray_cluster.cluster_resources().get("GPU")  # CPU actors here

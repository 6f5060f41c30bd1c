"""ViZDoom recordings through the whole IDM path: dataset, debug training, stick R^2 and
scores on the frames probing found identifiable."""

import numpy as np
import pytest

from nitrogen_hf.data.build import BuildConfig, build_dataset, split_of
from nitrogen_hf.data.hub_dataset import load_chunk_dataset
from nitrogen_hf.envs.recorder import RecordConfig, record, video_id_for
from nitrogen_hf.evaluation.idm_report import IDMEvalConfig, evaluate_idm
from nitrogen_hf.training.configs import IDM_PRESETS
from nitrogen_hf.training.train_idm import train_idm

ENV_ID, GAME, EPISODES = "vizdoom/deathmatch", "vizdoom_deathmatch", 3


def _seed_with_both_splits(fraction: float) -> int:
    """A run seed whose episodes land in the train and the validation split."""
    for seed in range(100):
        ids = [video_id_for(GAME, "sticky", seed, e, True) for e in range(EPISODES)]
        if len({split_of(v, fraction) for v in ids}) == 2:
            return seed
    raise AssertionError("no seed splits the episodes")


@pytest.fixture(scope="module")
def doom_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("doom")
    seed = _seed_with_both_splits(0.4)
    record(
        RecordConfig(
            env_id=ENV_ID, policy="sticky", episodes=EPISODES, max_seconds=3.0,
            chunk_seconds=1.0, out=root / "rec", seed=seed, probe_every_s=0.25, progress=False,
        )
    )  # fmt: skip
    out = root / "ds"
    build_dataset(
        BuildConfig(
            actions=[root / "rec" / "actions"], videos=root / "rec" / "videos", out=out,
            validation_fraction=0.4, progress=False,
        )
    )  # fmt: skip
    return out


def test_built_rows_carry_sticks_and_identifiable_frames(doom_dataset):
    rows = list(load_chunk_dataset(doom_dataset, "validation"))
    assert rows and all(r["game"] == GAME and r["fps"] == 35 for r in rows)
    sticks = np.concatenate([np.asarray(r["sticks"]) for r in rows])
    assert (np.abs(sticks) > 0.3).any() and all(r["observed"][21:] == [True] * 4 for r in rows)
    probed = [f for r in rows for f in r["identifiable"] if f is not None]
    assert probed and all(len(f) == 25 for f in probed)


def test_debug_idm_trains_on_sticks_and_reports_r2_on_identifiable_frames(doom_dataset, tmp_path):
    train_idm(IDM_PRESETS["debug"], str(doom_dataset), tmp_path / "idm")
    metrics = evaluate_idm(
        IDMEvalConfig(model=str(tmp_path / "idm"), data=str(doom_dataset), out=tmp_path / "eval")
    )
    sticks = metrics["models"]["idm"]["overall"]["sticks"]
    assert set(sticks) == {"j_left.x", "j_left.y", "j_right.x", "j_right.y"}
    assert all(isinstance(s["r2"], float) and s["frames"] > 0 for s in sticks.values())
    identifiable = metrics["identifiable"]
    assert identifiable["probed_frames"] > 0
    assert 0.0 < identifiable["dims"]["j_right.x"]["share"] <= 1.0  # turning mostly shows
    on_shown = identifiable["models"]["idm"][GAME]["sticks"]["j_right.x"]
    assert on_shown["frames"] < sticks["j_right.x"]["frames"]  # probed, identifiable frames only
    assert "On identifiable frames" in (tmp_path / "eval" / "metrics.md").read_text()

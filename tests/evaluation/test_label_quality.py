import numpy as np

from nitrogen_hf.actions import ATARI_OBSERVED, BUTTON_INDEX, GamepadActions
from nitrogen_hf.data.metadata import ChunkMetadata, OriginalVideo
from nitrogen_hf.data.nitrogen_writer import write_chunk
from nitrogen_hf.evaluation.label_quality import load_truth, score_pseudo_labels

SOUTH = BUTTON_INDEX["south"]


def chunk(video_id: str, index: int, start: int, size: int) -> ChunkMetadata:
    video = OriginalVideo(video_id, start / 30, (start + size) / 30, fps=30)
    return ChunkMetadata(f"{video_id}_chunk_{index:04d}_actions", f"{index:04d}", size, video)


def test_pseudo_chunks_are_scored_against_the_truth_at_their_own_time(tmp_path):
    truth = GamepadActions.zeros(90, ATARI_OBSERVED)
    truth.buttons[30:60, SOUTH] = 1  # pressed during the second second
    write_chunk(tmp_path / "truth", chunk("v", 0, 0, 45), truth[0:45])
    write_chunk(tmp_path / "truth", chunk("v", 1, 45, 45), truth[45:90])
    # A pseudo chunk covering frames 30..59, labeled exactly right, and one 60..89 labeled wrong.
    right = truth[30:60]
    wrong = GamepadActions.zeros(30, ATARI_OBSERVED)
    wrong.buttons[:, SOUTH] = 1
    write_chunk(tmp_path / "pseudo", chunk("v", 0, 30, 30), right, confidence=np.full(30, 0.9))
    write_chunk(tmp_path / "pseudo", chunk("v", 1, 60, 30), wrong, confidence=np.full(30, 0.2))
    write_chunk(tmp_path / "pseudo", chunk("other", 0, 0, 30), wrong)  # no truth: ignored
    truths = load_truth(tmp_path / "truth")
    assert len(truths["v"]) == 90
    scores = score_pseudo_labels(tmp_path / "pseudo", truths)
    assert scores["frames"] == 60
    assert scores["exact_match"] == 0.5
    assert scores["button_precision"] == 0.5  # 60 claimed presses, 30 real
    assert abs(scores["mean_confidence"] - 0.55) < 1e-6
    only_right = tmp_path / "only_right"
    write_chunk(only_right, chunk("v", 0, 30, 30), right)
    assert score_pseudo_labels(only_right, truths)["exact_match"] == 1.0

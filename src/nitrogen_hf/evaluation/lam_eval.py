"""Score latent actions against the true gamepad actions: run the LAM (and, for comparison,
an IDM) over whole labeled chunks, fit probes on a labeled budget, score them per game.

Every transition t -> t+1 with a full LAM context (t >= C-1) is scored, for the LAM probes
and the IDM alike, so both are judged on the same frames.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, fields

import numpy as np

from nitrogen_hf.actions import BUTTON_THRESHOLD, NUM_BUTTONS, GamepadActions
from nitrogen_hf.data.nitrogen_reader import ChunkError
from nitrogen_hf.data.windows import ReaderCache, WindowConfig, load_chunk_frames
from nitrogen_hf.evaluation.idm_metrics import majority_vector, score_by_group
from nitrogen_hf.evaluation.lam_probe import fit_code_table, fit_logistic_probe

logger = logging.getLogger("nitrogen_hf")


@dataclass
class TransitionTable:
    """Per-transition latent actions and ground truth over many chunks (M transitions)."""

    codes: np.ndarray  # (M,) latent action
    embeddings: np.ndarray  # (M, D) before quantisation
    targets: np.ndarray  # (M, 25) true model vectors
    observed: np.ndarray  # (M, 25) bool
    games: np.ndarray  # (M,) str
    idm_vectors: np.ndarray | None = None  # (M, 25) IDM predictions, when an IDM was given

    def __len__(self) -> int:
        return len(self.codes)

    def subset(self, rows: np.ndarray) -> TransitionTable:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return TransitionTable(**{k: None if v is None else v[rows] for k, v in values.items()})

    @classmethod
    def concatenate(cls, parts: list[TransitionTable]) -> TransitionTable:
        values = {}
        for f in fields(cls):
            items = [getattr(p, f.name) for p in parts]
            values[f.name] = None if any(i is None for i in items) else np.concatenate(items)
        return cls(**values)


def chunk_transitions(lam, frames, row: dict, idm=None, idm_frames=None) -> TransitionTable:
    """Transitions of one chunk: `frames` (N, 3, H, W) at the LAM's size; `idm_frames` at the
    IDM's (the same tensor when the sizes agree)."""
    c = lam.config.context_frames
    latent = lam.encode_clip(frames)
    truth = GamepadActions(
        np.asarray(row["buttons"]), np.asarray(row["sticks"]), np.asarray(row["observed"])
    )
    n = len(latent.codes)  # transitions t = c-1 .. N-2
    idm_vectors = None
    if idm is not None:
        idm_vectors = idm.predict_sequence(idm_frames).vector.numpy()[c - 1 : c - 1 + n]
    return TransitionTable(
        latent.codes.numpy(),
        latent.embeddings.numpy(),
        truth.to_vector()[c - 1 : c - 1 + n],
        np.tile(truth.observed, (n, 1)),
        np.full(n, row["game"] or "unknown", dtype=object),
        idm_vectors,
    )


def encode_chunks(
    lam, rows, idm=None, backend: str = "auto", max_chunks: int | None = None
) -> TransitionTable:
    """Run the LAM (and the IDM) over every chunk row; chunks whose video fails are skipped."""
    from tqdm.auto import tqdm

    lam.eval()
    if idm is not None:
        idm.eval()
    sizes = {"lam": tuple(lam.config.frame_size)}
    if idm is not None:
        sizes["idm"] = tuple(idm.config.frame_size)
    readers, skipped, parts = ReaderCache(backend), Counter(), []
    for row in tqdm(rows, desc="encode", total=max_chunks, leave=False):
        if max_chunks is not None and len(parts) >= max_chunks:
            break
        if row["num_frames"] <= lam.config.context_frames:
            continue
        try:
            frames = {
                size: load_chunk_frames(
                    row,
                    np.arange(row["num_frames"]),
                    readers,
                    WindowConfig(frame_size=size, backend=backend, shuffle=False),
                )[1]
                for size in set(sizes.values())
            }
        except ChunkError as error:
            skipped[error.kind] += 1
            logger.warning("skipped chunk %s: %s", row["uuid"], error)
            continue
        idm_frames = frames[sizes["idm"]] if idm is not None else None
        parts.append(chunk_transitions(lam, frames[sizes["lam"]], row, idm, idm_frames))
    readers.close()
    if not parts:
        raise RuntimeError(f"no chunk could be encoded (skipped: {dict(skipped)})")
    return TransitionTable.concatenate(parts)


def probe_predictions(labeled: TransitionTable, evaluated: TransitionTable, num_codes: int):
    """{method: (M, 25) predicted vectors on `evaluated`}, every probe fitted on `labeled`:
    pooled over games (like the IDM), and per game where that game has labels."""
    predictions = {
        "lam_code_table": fitted_code_table(labeled, num_codes)[evaluated.codes],
        "lam_logistic": fitted_logistic(labeled).predict(evaluated.embeddings),
    }
    for name in ("lam_code_table", "lam_logistic"):
        predictions[f"{name}_per_game"] = predictions[name].copy()
    for game in set(evaluated.games.tolist()) & set(labeled.games.tolist()):
        mine, theirs = evaluated.games == game, labeled.subset(labeled.games == game)
        table = fitted_code_table(theirs, num_codes)
        predictions["lam_code_table_per_game"][mine] = table[evaluated.codes[mine]]
        predictions["lam_logistic_per_game"][mine] = fitted_logistic(theirs).predict(
            evaluated.embeddings[mine]
        )
    majority = majority_vector(labeled.targets, labeled.observed)
    predictions["majority"] = np.tile(majority, (len(evaluated), 1))
    predictions["always_pressed"] = np.tile(always_pressed(labeled), (len(evaluated), 1))
    if evaluated.idm_vectors is not None:
        predictions["idm"] = evaluated.idm_vectors
    return predictions


def always_pressed(labeled: TransitionTable) -> np.ndarray:
    """(25,) every button the labels show pressed, held down: the best a constant guess can do
    for F1 (recall 1), so a probe must beat this, not only the no-op, to show it read anything."""
    vector = majority_vector(labeled.targets, labeled.observed)
    pressed = (
        (labeled.targets[:, :NUM_BUTTONS] > BUTTON_THRESHOLD) & labeled.observed[:, :NUM_BUTTONS]
    ).any(0)
    vector[:NUM_BUTTONS][pressed] = 1.0
    return vector


def fitted_code_table(labeled: TransitionTable, num_codes: int) -> np.ndarray:
    return fit_code_table(labeled.codes, labeled.targets, labeled.observed, num_codes)


def fitted_logistic(labeled: TransitionTable):
    return fit_logistic_probe(labeled.embeddings, labeled.targets, labeled.observed)


def probe_scores(labeled: TransitionTable, evaluated: TransitionTable, num_codes: int) -> dict:
    """{method: {"overall" | game: {"macro_f1", "exact_match"}}} plus per-button F1 overall."""
    out = {}
    for name, vectors in probe_predictions(labeled, evaluated, num_codes).items():
        scores = score_by_group(vectors, evaluated.targets, evaluated.observed, evaluated.games)
        out[name] = {
            group: {"macro_f1": s["macro_f1"], "exact_match": s["exact_match"]}
            for group, s in scores.items()
        }
        out[name]["per_button"] = {
            b: round(s["f1"], 4) for b, s in scores["overall"]["buttons"].items()
        }
    return out


def code_statistics(table: TransitionTable, num_codes: int) -> dict:
    """How the codes are used, and how much they say about the true button state (normalised
    mutual information, 0 = nothing, 1 = the codes determine the buttons), per game."""
    result = {"usage": _usage(table.codes, num_codes), "nmi": {}}
    buttons = table.targets[:, :NUM_BUTTONS] > BUTTON_THRESHOLD
    for game in sorted(set(table.games.tolist())):
        rows = table.games == game
        result["nmi"][str(game)] = normalized_mutual_information(table.codes[rows], buttons[rows])
    result["nmi"]["overall"] = normalized_mutual_information(table.codes, buttons)
    return result


def _usage(codes: np.ndarray, num_codes: int) -> dict:
    share = np.bincount(codes, minlength=num_codes) / max(1, len(codes))
    entropy = -(share[share > 0] * np.log(share[share > 0])).sum()
    return {"share": [round(float(s), 4) for s in share], "perplexity": float(np.exp(entropy))}


def normalized_mutual_information(codes: np.ndarray, buttons: np.ndarray) -> float:
    """NMI (arithmetic normalisation) between (N,) codes and (N, 21) joint button states."""
    _, action = np.unique(buttons, axis=0, return_inverse=True)
    action = action.ravel()
    joint = np.zeros((codes.max() + 1, action.max() + 1))
    np.add.at(joint, (codes, action), 1.0)
    joint /= joint.sum()
    p_code, p_action = joint.sum(1), joint.sum(0)
    nonzero = joint > 0
    mutual = (joint[nonzero] * np.log(joint[nonzero] / np.outer(p_code, p_action)[nonzero])).sum()
    h_code = -(p_code[p_code > 0] * np.log(p_code[p_code > 0])).sum()
    h_action = -(p_action[p_action > 0] * np.log(p_action[p_action > 0])).sum()
    denominator = (h_code + h_action) / 2
    return float(mutual / denominator) if denominator > 0 else 0.0

"""The demo's report: report.json (everything), report.md (the tables) and PNG plots."""

from __future__ import annotations

from pathlib import Path

from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.evaluation.closed_loop import normalized_score
from nitrogen_hf.evaluation.formatting import fmt, fmt_percent

VARIANT_NAMES = {
    "a_labeled": "(a) labeled only",
    "b_labeled_pseudo": "(b) labeled + pseudo-labels",
    "c_labeled_truth": "(c) labeled + true walkthrough labels (ceiling)",
}


def write_report(out: Path, results: dict) -> dict:
    results["normalized_scores"] = normalized_scores(results["closed_loop"])
    results["plots"] = {
        "policy_scores": str(plot_policy_scores(results, out / "policy_scores.png")),
        "label_quality": str(plot_label_quality(results, out / "label_quality.png")),
    }
    write_json_atomic(out / "report.json", results)
    (out / "report.md").write_text(format_report(results))
    return results


def normalized_scores(closed_loop: dict) -> dict:
    """(R - random) / (expert - random) per game and variant, and the mean over games."""
    scores: dict[str, dict] = {}
    for game, result in closed_loop.items():
        for variant in VARIANT_NAMES:
            value = normalized_score(
                result[variant]["mean"], result["random"]["mean"], result["expert"]["mean"]
            )
            scores.setdefault(variant, {})[game] = value
    for per_game in scores.values():
        values = [v for v in per_game.values() if v is not None]
        per_game["mean"] = sum(values) / len(values) if values else None
    return scores


def format_report(r: dict) -> str:
    lines = [
        f"# nitrogen_hf demo (scale `{r['scale']}`, seed {r['seed']})",
        "",
        "Question: do IDM pseudo-labels on unlabeled gameplay make a better policy than the "
        "overlay-labeled data alone? Everything below was recorded from real Atari games (ALE) in this run.",
        "",
    ]
    lines += _idm_section(r) + _label_section(r) + _policy_section(r) + _timing_section(r)
    if "lam" in r:
        from nitrogen_hf.evaluation.lam_report import lam_markdown

        lines += [lam_markdown(r["lam"]), ""]
    return "\n".join(lines)


def _idm_section(r: dict) -> list[str]:
    lines = [
        "## Inverse dynamics model",
        "",
        f"Trained {r['idm_training']['steps']} steps in {r['idm_training']['seconds'] / 60:.1f} min "
        f"({r['idm_training']['parameters']:,} parameters).",
        "",
        "| evaluation | frames | IDM macro-F1 | IDM exact match | majority macro-F1 | majority exact match | ECE |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in (("held_out", "held-out episodes"), ("unseen", "unseen game")):
        m = r["idm"][name]
        lines.append(
            f"| {label} | {m['frames']} | {fmt(m['macro_f1'])} | {fmt(m['exact_match'])} | "
            f"{fmt(m['majority_macro_f1'])} | {fmt(m['majority_exact_match'])} | {fmt(m['ece'])} |"
        )
    lines += [
        "",
        "Per game (held-out): "
        + ", ".join(
            f"{g} {fmt(v['macro_f1'])}" for g, v in r["idm"]["held_out"]["per_game"].items()
        ),
        "",
    ]
    return lines


def _label_section(r: dict) -> list[str]:
    report, quality = r["labels"]["report"], r["labels"]["quality"]
    dropped = ", ".join(
        f"{k} {v:.3f} h" for k, v in (report.get("hours_dropped") or {}).items() if v
    )
    lines = [
        "## Pseudo-labels of the walkthroughs (scored against their hidden truth)",
        "",
        f"{report['hours_in']:.3f} h in, {report['hours_kept']:.3f} h kept "
        f"({fmt_percent(report['kept_fraction'])}); dropped: {dropped or 'nothing'}. "
        f"Confidence threshold from: {report.get('min_confidence_source')}.",
        "",
        "| labels | frames | macro-F1 | exact match | precision of claimed presses | mean confidence |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("unfiltered", "filtered"):
        q = quality[name]
        lines.append(
            f"| {name} | {q['frames']} | {fmt(q['macro_f1'])} | {fmt(q['exact_match'])} | "
            f"{fmt(q['button_precision'])} | {fmt(q['mean_confidence'])} |"
        )
    return lines + [""]


def _policy_section(r: dict) -> list[str]:
    games = list(r["closed_loop"])
    header = (
        "| policy | "
        + " | ".join(f"{g} return (95% CI) | {g} normalized" for g in games)
        + " | mean normalized |"
    )
    lines = [
        "## Policies in closed loop",
        "",
        "Same architecture and training budget; normalized score = (R - random) / (expert - random).",
        "",
        header,
        "|---|" + "---|---|" * len(games) + "---|",
    ]
    for variant, label in VARIANT_NAMES.items():
        cells = []
        for game in games:
            result = r["closed_loop"][game][variant]
            cells.append(
                f"{result['mean']:.1f} ({result['ci95'][0]:.1f}, {result['ci95'][1]:.1f}) | "
                f"{fmt(r['normalized_scores'][variant][game])}"
            )
        lines.append(
            f"| {label} | "
            + " | ".join(cells)
            + f" | {fmt(r['normalized_scores'][variant]['mean'])} |"
        )
    for reference in ("random", "expert"):
        cells = [
            f"{r['closed_loop'][g][reference]['mean']:.1f} | {'0' if reference == 'random' else '1'}"
            for g in games
        ]
        lines.append(f"| {reference} | " + " | ".join(cells) + " | |")
    lines += [
        "",
        _verdict(r),
        "",
        f"![policy scores]({Path(r['plots']['policy_scores']).name})",
        "",
    ]
    return lines


def _verdict(r: dict) -> str:
    a = r["normalized_scores"]["a_labeled"]["mean"]
    b = r["normalized_scores"]["b_labeled_pseudo"]["mean"]
    c = r["normalized_scores"]["c_labeled_truth"]["mean"]
    if a is None or b is None:
        return "No verdict: a normalized score is missing."
    word = "beats" if b > a else "does not beat"
    return (
        f"Verdict: (b) {word} (a) on the mean normalized score ({b:.3f} vs {a:.3f}; ceiling (c) {fmt(c)}). "
        "Closed-loop returns are noisy at this scale; read the confidence intervals before the means."
    )


def _timing_section(r: dict) -> list[str]:
    lines = ["## Time per stage", "", "| stage | minutes |", "|---|---|"]
    lines += [f"| {name} | {seconds / 60:.1f} |" for name, seconds in r["stage_seconds"].items()]
    total = sum(r["stage_seconds"].values())
    return lines + [f"| total | {total / 60:.1f} |", ""]


def plot_policy_scores(r: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    games = list(r["closed_loop"])
    fig, ax = plt.subplots(figsize=(1.8 + 2.2 * len(games), 3.6))
    width = 0.25
    for k, (variant, label) in enumerate(VARIANT_NAMES.items()):
        values = [r["normalized_scores"][variant][g] or 0.0 for g in games]
        ax.bar([i + k * width for i in range(len(games))], values, width, label=label)
    ax.axhline(0, color="gray", linewidth=0.8)
    ax.axhline(1, color="gray", linewidth=0.8, linestyle="--")
    ax.set_xticks([i + width for i in range(len(games))], games)
    ax.set(ylabel="normalized score (0 random, 1 expert)", title="Closed-loop policies")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_label_quality(r: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quality = r["labels"]["quality"]
    metrics = ("macro_f1", "exact_match", "button_precision")
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for k, name in enumerate(("unfiltered", "filtered")):
        ax.bar(
            [i + 0.35 * k for i in range(len(metrics))],
            [quality[name][m] or 0.0 for m in metrics],
            0.35,
            label=name,
        )
    ax.set_xticks([i + 0.175 for i in range(len(metrics))], metrics)
    ax.set(ylim=(0, 1), title="Pseudo-labels vs hidden truth")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

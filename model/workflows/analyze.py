"""``mtsim analyze``: the figures, tables and analysis.md of a sweep's result folder.

Reads a result store (model/experiment/store.py) and writes its analysis next to it;
the statistics and figures are the pure functions of model/analysis/sensitivity.py
(response curves and heatmaps for grids, Sobol or Morris indices for their designs,
rank correlations and scatter plots for samples). Runs no model.

The counts in analysis.md are those of the table analysed: a damaged part (unreadable,
empty, another study's, or a run not in the design) is left out and named, and an
outcome without a finite value in some runs says in how many.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from model.analysis.sensitivity import (
    MIN_RUNS_FOR_BAND,
    AnalysisError,
    choose_outcomes,
    grid_means,
    morris_indices,
    parameters_and_outcomes,
    plot_heatmaps,
    plot_morris,
    plot_rank_correlations,
    plot_response_curves,
    plot_scatter,
    plot_sobol,
    rank_correlations,
    response_curve,
    sobol_indices,
)
from model.analysis.stats import CONFIDENCE, t_critical
from model.atomic_files import write_bytes_atomic, write_csv_atomic
from model.experiment.store import (
    StoreError,
    describe_left_out,
    load_design,
    load_failures,
    load_sample,
    load_study,
    read_results,
)


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    write_csv_atomic(path, frame)


def _markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = [f"{v:.{digits}g}" if isinstance(v, (float, np.floating)) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def analyze_store(
    directory: str | Path,
    out: str | Path | None = None,
    outcomes: Sequence[str] | None = None,
    confidence: float = CONFIDENCE,
) -> dict[str, Path]:
    """Write the figures and CSVs of a sweep's result folder.

    Args:
        directory: the result folder of ``mtsim sweep``.
        out: where to write (default ``DIR/analysis``).
        outcomes: outcome names (``all``, metric names or ``<metric>_final|_mean``).
        confidence: interval coverage (0.95).

    Returns:
        Name -> path of every file written.
    """
    try:
        study = load_study(directory)
        runs = len(load_design(directory))
        results, left_out = read_results(directory)
        failures = load_failures(directory)
    except StoreError as exc:
        raise AnalysisError(str(exc)) from None
    if results.empty:
        damaged = f" ({len(left_out)} damaged: {describe_left_out(left_out)})" if left_out else ""
        raise AnalysisError(
            f"{directory}: no finished runs yet{damaged} (run or resume the sweep first)"
        )
    params = [p["name"] for p in study["parameters"]]
    table = parameters_and_outcomes(results, params)
    chosen = choose_outcomes(table, outcomes, study.get("metrics"))
    kind = study["design"]["kind"]
    title = str(study["name"])
    out_dir = Path(out) if out is not None else Path(directory) / "analysis"
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    notes: list[str] = []
    sections: list[str] = []

    def save(name: str, frame: pd.DataFrame) -> None:
        path = out_dir / f"{name}.csv"
        _write_csv(path, frame)
        written[f"{name}.csv"] = path

    def figure(name: str) -> Path:
        path = out_dir / f"{name}.png"
        written[f"{name}.png"] = path
        return path

    if kind == "grid":
        curves = pd.concat(
            [response_curve(table, p, o, confidence=confidence) for p in params for o in chosen],
            ignore_index=True,
        )
        if len(params) == 2:
            by_curves = pd.concat(
                [
                    response_curve(table, params[0], o, by=params[1], confidence=confidence)
                    for o in chosen
                ],
                ignore_index=True,
            )
            save("response_curves", pd.concat([curves, by_curves], ignore_index=True))
            shown = by_curves
        else:
            save("response_curves", curves)
            shown = curves
        plot_response_curves(shown, figure("response_curves"), title, table)
        fewest = int(shown["n"].min())
        sections.append(
            "Response curves: mean outcome per parameter value "
            + ("(one line per value of the second parameter)" if len(params) == 2 else "")
            + (
                f"; the band is the 95% t interval of the mean ({fewest}+ runs per point)"
                if fewest >= MIN_RUNS_FOR_BAND
                else f"; {fewest} run(s) per point, too few for a readable 95% band"
                + (f" (t = {float(t_critical(fewest, confidence)):.1f})" if fewest >= 2 else "")
                + ": the figure shows the single runs as dots, and response_curves.csv "
                "keeps the intervals"
            )
        )
        if len(params) >= 2:
            cells = pd.concat(
                [grid_means(table, params[0], params[1], o, confidence) for o in chosen],
                ignore_index=True,
            )
            save("heatmaps", cells)
            plot_heatmaps(cells, figure("heatmaps"), title)
            sections.append(f"Heatmaps: mean outcome over {params[0]} x {params[1]}")
    elif kind == "lhs":
        correlations = pd.concat(
            [rank_correlations(table, params, o, confidence) for o in chosen], ignore_index=True
        )
        save("rank_correlations", correlations)
        plot_rank_correlations(correlations, figure("rank_correlations"), title)
        for o in chosen:
            plot_scatter(table, params, o, figure(f"scatter_{o}"))
        save("scatter_points", table[["run", "point", "replication", *params, *chosen]])
        sections.append(
            "Rank correlations (Spearman, 95% Fisher-z intervals):\n\n"
            + _markdown_table(correlations[["outcome", "parameter", "rho", "ci_low", "ci_high"]])
        )
    elif kind in ("sobol", "morris"):
        problem = study["design"]["problem"]
        options = study["design"].get("options", {})
        seed = int(study.get("master_seed", 0))
        frames, seconds = [], []
        sample = load_sample(directory) if kind == "morris" else None
        for o in chosen:
            try:
                if kind == "sobol":
                    first, second = sobol_indices(
                        table, problem, o, bool(options.get("second_order")), confidence, seed=seed
                    )
                    frames.append(first)
                    seconds.append(second)
                else:
                    assert sample is not None
                    frames.append(
                        morris_indices(
                            table,
                            problem,
                            o,
                            sample[params].to_numpy(),
                            int(options.get("num_levels", 4)),
                            confidence,
                            seed=seed,
                        )
                    )
            except AnalysisError as exc:
                if "design points have no finished run" in str(exc):
                    raise
                notes.append(str(exc))
        if not frames:
            raise AnalysisError(f"{directory}: no outcome could be analysed: {'; '.join(notes)}")
        indices = pd.concat(frames, ignore_index=True)
        if kind == "sobol":
            save("sobol_indices", indices)
            plot_sobol(indices, figure("sobol_indices"), title)
            if any(len(s) for s in seconds):
                save("sobol_second_order", pd.concat(seconds, ignore_index=True))
            shown = indices[["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]]
            sections.append(
                "Sobol' indices (95% bootstrap intervals: value +/- conf):\n\n"
                + _markdown_table(shown)
            )
        else:
            save("morris_indices", indices)
            plot_morris(indices, figure("morris_indices"), title)
            shown = indices[["outcome", "parameter", "mu_star", "mu_star_conf", "sigma"]]
            sections.append("Morris screening:\n\n" + _markdown_table(shown))
    else:  # pragma: no cover - the store only holds known designs
        raise AnalysisError(f"{directory}: unknown design {kind!r}")

    failed = [int(r) for r in failures["run"] if 0 <= int(r) < runs] if len(failures) else []
    finished = len(table)
    lines = [
        f"# Analysis of {title}",
        "",
        f"Design: {kind}; parameters: {', '.join(params)}; outcomes: {', '.join(chosen)}.",
        f"Runs: {runs} in the design, {finished} finished and analysed, "
        f"{len(failed)} failed, {runs - finished - len(failed)} missing.",
        "",
    ]
    if failed:
        lines += [f"Failed runs (left out): {', '.join(str(r) for r in failed)}.", ""]
    if left_out:
        lines += [
            "Damaged parts (left out; the sweep's --resume sets them aside in damaged/ and "
            f"recomputes the runs of the design): {describe_left_out(left_out)}.",
            "",
        ]
    for outcome in chosen:
        valued = int(np.isfinite(table[outcome].to_numpy(dtype=float)).sum())
        if valued < finished:
            lines += [
                f"{outcome}: {finished - valued} of the {finished} runs have no finite value "
                f"and are left out of its statistics ({valued} used).",
                "",
            ]
    for section in sections:
        lines += [section, ""]
    for note in notes:
        lines += [f"Not analysed: {note}", ""]
    lines += ["Files:", ""] + [f"- {name}" for name in sorted(written)]
    summary = out_dir / "analysis.md"
    write_bytes_atomic(summary, ("\n".join(lines) + "\n").encode())
    written["analysis.md"] = summary
    return written

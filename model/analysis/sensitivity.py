"""Sensitivity analysis of a sweep (``mtsim analyze DIR``, ``model/commands/analyze.py``).

What is written depends on the study's design (read from the result store):

============  ==============================================================================
design        output (figures as PNG, every number shown also as CSV)
============  ==============================================================================
grid, 1 par.  response curve: mean outcome per value with a 95% band (``response_curves``)
grid, 2+      heatmap of the mean outcome over the first two parameters (``heatmaps``), and
              the main effect of every parameter with a 95% band (``response_curves``)
lhs           scatter of the outcome against each parameter, and Spearman rank
              correlations with 95% intervals (``rank_correlations``)
sobol         first-order (S1) and total (ST) Sobol' indices with SALib's 95% intervals,
              as a bar chart and a table (``sobol_indices``; ``sobol_second_order``)
morris        mu* (with its 95% interval) against sigma (``morris_indices``)
============  ==============================================================================

Definitions. An *outcome* is a per-run number: ``<metric>_final`` (the metric at the
last step) or ``<metric>_mean`` (its mean over steps 1..T), the definitions of
``model.analysis.stats``. A 95% band is the Student t interval of the mean over the
runs at that value (``mean +/- t(0.975, n-1) sd / sqrt(n)``): over replications in a
one-parameter grid, over replications and the other parameters' values for a main
effect. The response-curve figure draws the band only with at least
``MIN_RUNS_FOR_BAND`` (5) runs per point; with fewer (t = 4.3 at n = 3) it would swamp
the panel, so the figure shows each run as a dot instead and says so in its title
(the CSV always has the interval).

Sobol' and Morris indices use the mean over replications at each design point; they
need every design point (resume a sweep with failed or missing runs first).

The functions below take a plain table (parameters and an outcome, one row per run)
and never run a model, so they serve any function: the tests check the Sobol' path
against the Ishigami function's known indices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.analysis.stats import CONFIDENCE, t_interval
from model.errors import UserError
from model.metrics import format_number, metric_info, metrics_tagged

MORRIS_LABELS = 6
"""Points named in a Morris chart (the largest mu*)."""


class AnalysisError(UserError):
    """A result folder or option the analysis cannot use, in one line."""


# --------------------------------------------------------------------------- per-run outcomes


def parameters_and_outcomes(results: pd.DataFrame, parameters: Sequence[str]) -> pd.DataFrame:
    """One row per run: identity, parameters and every ``<metric>_final`` / ``<metric>_mean``.

    Args:
        results: ``load_results(DIR)``; a ``timeseries`` table (with ``step``) is
            reduced to final values and run means, a ``summary`` table is returned as is,
            and a ``by_group`` table gives its whole-population rows (group ``all``; the
            groups themselves are in the store for ``load_results``).
        parameters: the parameter column names.
    """
    if "by" in results.columns and "group" in results.columns:
        whole = results[(results["by"] == "all") & (results["group"] == "all")]
        return (
            whole.drop(columns=["by", "group"])
            .sort_values("run", kind="stable")
            .reset_index(drop=True)
        )
    if "step" not in results.columns:
        return results.sort_values("run", kind="stable").reset_index(drop=True)
    keys = [c for c in ("run", "point", "replication", "seed", "run_id") if c in results.columns]
    keys += [p for p in parameters if p not in keys]
    metrics = [
        c
        for c in results.columns
        if c not in keys and c != "step" and pd.api.types.is_numeric_dtype(results[c])
    ]
    ordered = results.sort_values(["run", "step"], kind="stable")
    final = ordered.groupby("run", sort=True).tail(1).set_index("run")
    max_step = ordered.groupby("run")["step"].transform("max")
    simulated = ordered[(ordered["step"] >= 1) | (max_step < 1)]
    mean = simulated.groupby("run", sort=True)[metrics].mean()
    columns = {}
    for metric in metrics:
        columns[f"{metric}_final"] = final[metric].astype(float)
        columns[f"{metric}_mean"] = mean[metric].astype(float)
    out = pd.concat([final[[k for k in keys if k != "run"]], pd.DataFrame(columns)], axis=1)
    return out.reset_index()


def outcome_columns(table: pd.DataFrame) -> list[str]:
    """List the per-run outcome columns (``*_final``, ``*_mean``) of a table."""
    return [c for c in table.columns if c.endswith("_final") or c.endswith("_mean")]


def default_outcomes() -> list[str]:
    """List the outcomes analysed when none are asked for: the metrics tagged ``sensitivity``.

    Each as its run mean for weekly flows (they jump from week to week), else its final value.
    """
    return [
        f"{m}_mean" if metric_info(m).flow else f"{m}_final" for m in metrics_tagged("sensitivity")
    ]


def choose_outcomes(
    table: pd.DataFrame, asked: Sequence[str] | None, kept_metrics: Sequence[str] | None = None
) -> list[str]:
    """Resolve ``--outcome`` names: ``all``, ``metric`` (its final value) or ``metric_final``."""
    available = outcome_columns(table)
    if not asked:
        if kept_metrics:
            chosen = [f"{m}_final" for m in kept_metrics if f"{m}_final" in available]
        else:
            chosen = [o for o in default_outcomes() if o in available]
        return chosen or available[:5]
    if list(asked) == ["all"]:
        return available
    chosen = []
    for name in asked:
        if name in available:
            chosen.append(name)
        elif f"{name}_final" in available:
            chosen.append(f"{name}_final")
        else:
            import difflib

            match = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise AnalysisError(
                f"--outcome: {name!r}: not in the results{hint} "
                f"(allowed: all, a metric, or one of {', '.join(available)})"
            )
    return list(dict.fromkeys(chosen))


# --------------------------------------------------------------------------- statistics


def response_curve(
    table: pd.DataFrame,
    parameter: str,
    outcome: str,
    by: str | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Mean outcome per value of ``parameter`` (and of ``by``) with its t interval.

    Returns:
        Columns parameter, value, [by, by_value,] outcome, n, mean, ci_low, ci_high,
        sorted by value.
    """
    keys = [parameter] if by is None else [by, parameter]
    rows = []
    for key, group in table.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        interval = t_interval(group[outcome].to_numpy(dtype=float), confidence)
        row: dict[str, Any] = {"parameter": parameter, "value": key[-1]}
        if by is not None:
            row.update(by=by, by_value=key[0])
        row.update(
            outcome=outcome,
            n=interval.n,
            mean=interval.mean,
            ci_low=interval.low,
            ci_high=interval.high,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def grid_means(
    table: pd.DataFrame, x: str, y: str, outcome: str, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Mean outcome over each (x, y) cell of a grid, with its t interval.

    Returns:
        Columns x, x_value, y, y_value, outcome, n, mean, ci_low, ci_high.
    """
    rows = []
    for (xv, yv), group in table.groupby([x, y], sort=True):
        interval = t_interval(group[outcome].to_numpy(dtype=float), confidence)
        rows.append(
            {
                "x": x,
                "x_value": xv,
                "y": y,
                "y_value": yv,
                "outcome": outcome,
                "n": interval.n,
                "mean": interval.mean,
                "ci_low": interval.low,
                "ci_high": interval.high,
            }
        )
    return pd.DataFrame(rows)


def point_means(table: pd.DataFrame, outcome: str, points: int | None = None) -> np.ndarray:
    """Mean outcome of each design point (over replications), in point order.

    Raises:
        AnalysisError: when design points are missing (Sobol' and Morris need all).
    """
    means = table.groupby("point", sort=True)[outcome].mean()
    expected = points if points is not None else int(means.index.max()) + 1
    missing = sorted(set(range(expected)) - set(int(p) for p in means.index))
    if missing:
        shown = ", ".join(str(p) for p in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise AnalysisError(
            f"{len(missing)} of {expected} design points have no finished run (points {shown}); "
            "Sobol' and Morris indices need every point: finish the sweep with --resume"
        )
    return means.reindex(range(expected)).to_numpy(dtype=float)


def sobol_indices(
    table: pd.DataFrame,
    problem: dict[str, Any],
    outcome: str,
    second_order: bool = False,
    confidence: float = CONFIDENCE,
    num_resamples: int = 1000,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First-order and total Sobol' indices (SALib) of one outcome.

    Args:
        table: one row per run with ``point`` (the row of the Saltelli sample) and the
            outcome; replications of a point are averaged.
        problem: the SALib problem the sample was drawn for.
        outcome: the outcome column.
        second_order: the sample includes second-order rows.
        confidence: level of SALib's bootstrap intervals.
        num_resamples: bootstrap resamples.
        seed: seed of the bootstrap.

    Returns:
        (first/total table with columns outcome, parameter, S1, S1_conf, S1_low, S1_high,
        ST, ST_conf, ST_low, ST_high; second-order table with columns outcome,
        parameter_1, parameter_2, S2, S2_conf, empty without second order)
    """
    from SALib.analyze import sobol as sobol_analyze

    d = int(problem["num_vars"])
    n_points = int(table["point"].max()) + 1 if len(table) else 0
    per_base = (2 * d + 2) if second_order else (d + 2)
    if n_points == 0 or n_points % per_base:
        raise AnalysisError(
            f"{n_points} design points do not form a Saltelli sample of {d} parameters "
            f"({'with' if second_order else 'without'} second order: a multiple of {per_base})"
        )
    y = point_means(table, outcome, n_points)
    if not np.all(np.isfinite(y)):
        raise AnalysisError(f"{outcome}: has NaN values; Sobol' indices need a number per run")
    result = sobol_analyze.analyze(
        problem,
        y,
        calc_second_order=second_order,
        num_resamples=num_resamples,
        conf_level=confidence,
        seed=seed,
    )
    first = pd.DataFrame(
        {
            "outcome": outcome,
            "parameter": list(problem["names"]),
            "S1": result["S1"],
            "S1_conf": result["S1_conf"],
            "ST": result["ST"],
            "ST_conf": result["ST_conf"],
        }
    )
    first["S1_low"] = first["S1"] - first["S1_conf"]
    first["S1_high"] = first["S1"] + first["S1_conf"]
    first["ST_low"] = first["ST"] - first["ST_conf"]
    first["ST_high"] = first["ST"] + first["ST_conf"]
    first = first[
        [
            "outcome",
            "parameter",
            "S1",
            "S1_conf",
            "S1_low",
            "S1_high",
            "ST",
            "ST_conf",
            "ST_low",
            "ST_high",
        ]
    ]
    rows = []
    if second_order:
        names = list(problem["names"])
        for i in range(d):
            for j in range(i + 1, d):
                rows.append(
                    {
                        "outcome": outcome,
                        "parameter_1": names[i],
                        "parameter_2": names[j],
                        "S2": float(result["S2"][i, j]),
                        "S2_conf": float(result["S2_conf"][i, j]),
                    }
                )
    second = pd.DataFrame(rows, columns=["outcome", "parameter_1", "parameter_2", "S2", "S2_conf"])
    return first, second


def morris_indices(
    table: pd.DataFrame,
    problem: dict[str, Any],
    outcome: str,
    sample: np.ndarray,
    num_levels: int = 4,
    confidence: float = CONFIDENCE,
    num_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Morris mu, mu* (with its bootstrap interval) and sigma (SALib) of one outcome.

    Args:
        table: one row per run with ``point`` and the outcome (replications averaged).
        problem: the SALib problem.
        outcome: the outcome column.
        sample: the Morris sample in SALib coordinates, one row per design point.
        num_levels: levels the sample was drawn on.
        confidence: level of SALib's bootstrap interval of mu*.
        num_resamples: bootstrap resamples.
        seed: seed of the bootstrap.

    Returns:
        Columns outcome, parameter, mu, mu_star, mu_star_conf, mu_star_low, mu_star_high, sigma.
    """
    from SALib.analyze import morris as morris_analyze

    sample = np.asarray(sample, dtype=float)
    y = point_means(table, outcome, len(sample))
    if not np.all(np.isfinite(y)):
        raise AnalysisError(f"{outcome}: has NaN values; Morris indices need a number per run")
    result = morris_analyze.analyze(
        problem,
        sample,
        y,
        num_resamples=num_resamples,
        conf_level=confidence,
        num_levels=num_levels,
        seed=seed,
    )
    out = pd.DataFrame(
        {
            "outcome": outcome,
            "parameter": list(problem["names"]),
            "mu": np.asarray(result["mu"], dtype=float),
            "mu_star": np.asarray(result["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(result["mu_star_conf"], dtype=float),
            "sigma": np.asarray(result["sigma"], dtype=float),
        }
    )
    out["mu_star_low"] = out["mu_star"] - out["mu_star_conf"]
    out["mu_star_high"] = out["mu_star"] + out["mu_star_conf"]
    return out[
        [
            "outcome",
            "parameter",
            "mu",
            "mu_star",
            "mu_star_conf",
            "mu_star_low",
            "mu_star_high",
            "sigma",
        ]
    ]


def rank_correlations(
    table: pd.DataFrame, parameters: Sequence[str], outcome: str, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Spearman rank correlation of the outcome with each parameter, with a Fisher-z interval.

    The interval uses the standard error ``1.03 / sqrt(n - 3)`` of Fieller et al. (1957)
    for Spearman's rho on the z = atanh(rho) scale.

    Returns:
        Columns outcome, parameter, n, rho, ci_low, ci_high, p_value.
    """
    from scipy import stats as sps

    rows = []
    for param in parameters:
        frame = table[[param, outcome]].dropna()
        n = len(frame)
        rho = p_value = low = high = math.nan
        x = pd.to_numeric(frame[param], errors="coerce")
        if n >= 4 and x.nunique() > 1 and frame[outcome].nunique() > 1:
            res = sps.spearmanr(x, frame[outcome])
            rho, p_value = float(res.statistic), float(res.pvalue)
            rho = min(max(rho, -1.0), 1.0)  # a perfect rank order can round to 1 + 2e-16
            z = math.atanh(max(min(rho, 1 - 1e-12), -1 + 1e-12))
            half = sps.norm.ppf(0.5 + confidence / 2) * 1.03 / math.sqrt(n - 3)
            low, high = math.tanh(z - half), math.tanh(z + half)
            low, high = min(low, rho), max(high, rho)  # |rho| = 1: z was clamped
        rows.append(
            {
                "outcome": outcome,
                "parameter": param,
                "n": n,
                "rho": rho,
                "ci_low": low,
                "ci_high": high,
                "p_value": p_value,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(name: str) -> str:
    for suffix, word in (("_final", "final"), ("_mean", "run mean")):
        if name.endswith(suffix):
            return f"{metric_info(name[: -len(suffix)]).label} ({word})"
    return name


def _panels(count: int, plt, width: float = 4.2, height: float = 3.3):
    cols = min(3, max(1, count))
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width * cols, height * rows), squeeze=False, layout="constrained"
    )
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


#: fewest runs per point for which a response curve shows its 95% t band; with fewer,
#: the band (t(0.975, 2) = 4.3 at n = 3) would swamp the panel, so the single runs are
#: drawn as dots instead
MIN_RUNS_FOR_BAND = 5


def _wrap(text: str, width: int = 38) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def plot_response_curves(
    curves: pd.DataFrame, path: Path, title: str, table: pd.DataFrame | None = None
) -> None:
    """One panel per (parameter, outcome): the mean per value, lines per ``by`` value.

    With at least ``MIN_RUNS_FOR_BAND`` runs per point a shaded band shows the 95% t
    interval of the mean; with fewer, each run's value is drawn as a small dot (when
    ``table``, the per-run outcomes, is given) and no band. The figure's title says
    which, with the number of runs per point.
    """
    plt = _pyplot()
    groups = list(curves.groupby(["parameter", "outcome"], sort=False))
    fig, axes = _panels(len(groups), plt)
    n_min = int(curves["n"].min()) if "n" in curves and len(curves) else 0
    n_max = int(curves["n"].max()) if "n" in curves and len(curves) else 0
    banded = n_min >= MIN_RUNS_FOR_BAND
    handles: dict[str, Any] = {}
    for ax, ((param, outcome), frame) in zip(axes, groups, strict=False):
        series = (
            [(None, frame)]
            if "by_value" not in frame or frame["by_value"].isna().all()
            else (list(frame.groupby("by_value", sort=True)))
        )
        numeric = _is_numeric(frame["value"])
        for by_value, part in series:
            xs = part["value"].to_numpy() if numeric else np.arange(len(part))
            label = (
                None
                if by_value is None
                else f"{part['by'].iloc[0]} = {by_value:g}"
                if isinstance(by_value, (int, float))
                else f"{part['by'].iloc[0]} = {by_value}"
            )
            line = ax.plot(xs, part["mean"], marker="o", ms=4, label=label)[0]
            if label is not None:
                handles.setdefault(label, line)
            if banded:
                ax.fill_between(
                    xs, part["ci_low"], part["ci_high"], alpha=0.15, color=line.get_color(), lw=0
                )
            elif table is not None and outcome in table and param in table:
                runs = table
                if by_value is not None:
                    runs = runs[runs[part["by"].iloc[0]] == by_value]
                rx = runs[param].to_numpy()
                if not numeric:
                    position = {v: i for i, v in enumerate(part["value"])}
                    rx = np.array([position.get(v, np.nan) for v in rx], dtype=float)
                ax.plot(rx, runs[outcome], ".", ms=3, alpha=0.45, color=line.get_color(), zorder=1)
            if not numeric:
                ax.set_xticks(xs, [str(v) for v in part["value"]], rotation=30, ha="right")
        ax.set_xlabel(param)
        ax.set_title(_wrap(_label(outcome)), fontsize=9)
        ax.yaxis.set_major_formatter(_axis_formatter())
        ax.grid(alpha=0.3)
    runs_text = f"n = {n_min}" if n_min == n_max else f"n = {n_min}-{n_max}"
    how = (
        f"line: mean of {runs_text} runs per point; band: its 95% t interval"
        if banded
        else f"line: mean of {runs_text} runs per point; dots: single runs "
        f"(no 95% band with fewer than {MIN_RUNS_FOR_BAND} runs)"
    )
    fig.suptitle(f"{title}\n{how}", fontsize=10)
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles.keys()),
            loc="outside lower center",
            ncols=min(len(handles), 5),
            fontsize=8,
            frameon=False,
        )
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _axis_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: _figure_number(value))


def _figure_number(value: float) -> str:
    """Format a number in a figure: three significant digits, thousands separated."""
    return format_number(value, significant=3, missing="")


def plot_heatmaps(cells: pd.DataFrame, path: Path, title: str) -> None:
    """One heatmap per outcome: mean over the (x, y) grid, values written in the cells."""
    plt = _pyplot()
    groups = list(cells.groupby("outcome", sort=False))
    fig, axes = _panels(len(groups), plt, width=4.6, height=3.8)
    for ax, (outcome, frame) in zip(axes, groups, strict=False):
        pivot = frame.pivot(index="y_value", columns="x_value", values="mean")
        image = ax.imshow(
            pivot.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis"
        )
        ax.set_xticks(range(pivot.shape[1]), [_tick(v) for v in pivot.columns], rotation=30)
        ax.set_yticks(range(pivot.shape[0]), [_tick(v) for v in pivot.index])
        ax.set_xlabel(str(frame["x"].iloc[0]))
        ax.set_ylabel(str(frame["y"].iloc[0]))
        ax.set_title(_wrap(_label(str(outcome)), 44), fontsize=9)
        values = pivot.to_numpy(dtype=float)
        if values.size <= 100:
            finite = values[np.isfinite(values)]
            mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
            for (i, j), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(
                        j,
                        i,
                        _figure_number(v),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if v < mid else "black",
                    )
        bar = fig.colorbar(image, ax=ax, shrink=0.85)
        bar.formatter = _axis_formatter()
        bar.update_ticks()
    counts = cells["n"] if "n" in cells else pd.Series(dtype=float)
    runs = (
        f" ({int(counts.min())} runs per cell)"
        if len(counts) and counts.min() == counts.max()
        else ""
    )
    fig.suptitle(f"{title}: mean over replications{runs}")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tick(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)


def plot_sobol(indices: pd.DataFrame, path: Path, title: str) -> None:
    """Bar chart of S1 and ST with their 95% intervals, one panel per outcome."""
    plt = _pyplot()
    groups = list(indices.groupby("outcome", sort=False))
    fig, axes = _panels(len(groups), plt)
    for ax, (outcome, frame) in zip(axes, groups, strict=False):
        xs = np.arange(len(frame))
        ax.bar(
            xs - 0.2, frame["S1"], 0.4, yerr=frame["S1_conf"], capsize=3, label="S1 (first order)"
        )
        ax.bar(xs + 0.2, frame["ST"], 0.4, yerr=frame["ST_conf"], capsize=3, label="ST (total)")
        ax.set_xticks(xs, list(frame["parameter"]), rotation=30, ha="right", fontsize=8)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(_label(str(outcome)), fontsize=9)
        ax.set_ylabel("Sobol' index")
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{title}: Sobol' indices with 95% intervals")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_morris(indices: pd.DataFrame, path: Path, title: str) -> None:
    """Scatter of mu* (with its interval) against sigma, one panel per outcome."""
    plt = _pyplot()
    groups = list(indices.groupby("outcome", sort=False))
    fig, axes = _panels(len(groups), plt)
    for ax, (outcome, frame) in zip(axes, groups, strict=False):
        ax.errorbar(
            frame["mu_star"], frame["sigma"], xerr=frame["mu_star_conf"], fmt="o", capsize=3
        )
        # name the most influential parameters; the CSV holds every one
        labelled = frame.nlargest(MORRIS_LABELS, "mu_star")
        for _, row in labelled.iterrows():
            ax.annotate(
                str(row["parameter"]),
                (row["mu_star"], row["sigma"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        top = float(np.nanmax(np.r_[frame["mu_star"], frame["sigma"], 0.0])) or 1.0
        ax.plot([0, top], [0, top], ls=":", color="grey", lw=0.8)
        if len(frame) > MORRIS_LABELS:
            ax.text(
                0.98,
                0.02,
                f"{MORRIS_LABELS} largest mu* named; all in morris_indices.csv",
                transform=ax.transAxes,
                ha="right",
                fontsize=6,
                color="grey",
            )
        ax.set_xlabel("mu* (mean |elementary effect|)")
        ax.set_ylabel("sigma (spread of effects)")
        ax.set_title(_label(str(outcome)), fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title}: Morris screening")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_rank_correlations(correlations: pd.DataFrame, path: Path, title: str) -> None:
    """Horizontal bars of Spearman's rho with 95% intervals, one panel per outcome."""
    plt = _pyplot()
    groups = list(correlations.groupby("outcome", sort=False))
    fig, axes = _panels(len(groups), plt)
    for ax, (outcome, frame) in zip(axes, groups, strict=False):
        ys = np.arange(len(frame))
        err = np.vstack([frame["rho"] - frame["ci_low"], frame["ci_high"] - frame["rho"]])
        err = np.where(np.isfinite(err), np.maximum(err, 0.0), 0.0)
        ax.barh(ys, frame["rho"], xerr=err, capsize=3)
        ax.set_yticks(ys, list(frame["parameter"]), fontsize=8)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlim(-1, 1)
        ax.set_xlabel("Spearman rho")
        ax.set_title(_label(str(outcome)), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"{title}: rank correlations with 95% intervals")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_scatter(table: pd.DataFrame, parameters: Sequence[str], outcome: str, path: Path) -> None:
    """Plot the outcome of every run against each parameter."""
    plt = _pyplot()
    fig, axes = _panels(len(parameters), plt, width=3.6, height=3.0)
    for ax, param in zip(axes, parameters, strict=False):
        ax.scatter(table[param], table[outcome], s=8, alpha=0.6)
        ax.set_xlabel(param)
        ax.set_ylabel(_label(outcome), fontsize=8)
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = [
    "AnalysisError",
    "default_outcomes",
    "grid_means",
    "morris_indices",
    "point_means",
    "rank_correlations",
    "response_curve",
    "parameters_and_outcomes",
    "sobol_indices",
]

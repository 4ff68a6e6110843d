"""What an ABC-SMC fit says beyond its particles: predictive bands, point estimate, baselines.

``mtsim calibrate`` fits by ABC-SMC (:mod:`model.validation.abc`), then:

1. **posterior predictive**: ``abc.predictive_draws`` parameter points are resampled
   from the weighted posterior and run once each with fresh seeds; the 5/25/50/75/95%
   quantiles over those runs, per series and step, are the predictive bands;
2. **point estimate**: the posterior median of each parameter (``abc.point_estimate:
   median``), or (``best``) of the medians and the particles nearest the data the one
   whose mean curves over common-seed runs are nearest the fitted observations
   (``point_selection.csv``), or (``refined``) that point improved by a minimum-distance
   search (Optuna TPE, ``abc.point_trials`` points on the same common seeds; every point
   tried is in ``point_selection.csv``); it is run ``abc.check_replications`` (default
   ``point_replications``) times with fresh seeds: the largest gap between its mean
   curve and each series' fitted observations is the in-sample check;
3. **hold-out** (``--holdout``): per series, the RMSE of the predictive mean on the
   held-out observations and the share of them inside the 90% band, against the
   carry-forward, logistic and Bass baselines (:mod:`model.validation.baselines`)
   fitted on the same observations (up to ``holdout.fit_until``, including the one
   at step 0, which is the model's initial condition).

The fitted scenario's text and the figures (predictive bands, pairwise posterior) are
made here; the driver that runs all of it in order and writes the result folder is
:mod:`model.workflows.calibrate`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from model.validation.abc import ABCResult, simulate_points
from model.validation.baselines import BaselineForecast, fit_baselines
from model.validation.calibration import Calibration, distance

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DAYS_PER_YEAR = 365.25


def _over_runs(curves: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``statistic`` over runs (axis 0) at the steps some run has a value; NaN elsewhere.

    A step has no value in any run where its series is undefined by construction: a
    ``window`` series before its first full window, an index (``relative_to``) whose
    reference value is 0 or not reached, a run stopped early. numpy's nan-functions
    would warn ("All-NaN slice encountered", "Mean of empty slice") there; those steps
    are left out and stay NaN, which is what the tables and figures show for them.
    """
    curves = np.asarray(curves, dtype=float)
    out = np.full(curves.shape[1:], np.nan)
    known = ~np.isnan(curves).all(axis=0)
    if known.any():
        out[known] = statistic(curves[:, known])
    return out


def run_quantile(curves: np.ndarray, q: float) -> np.ndarray:
    """Return the ``q`` quantile over runs at each step (NaN at steps no run has a value)."""
    return _over_runs(curves, lambda known: np.nanquantile(known, q, axis=0))


def run_mean(curves: np.ndarray) -> np.ndarray:
    """Return the mean over runs at each step (NaN at steps no run has a value)."""
    return _over_runs(curves, lambda known: np.nanmean(known, axis=0))


@dataclass
class CalibrationRun:
    """Everything a calibration produced.

    Attributes:
        calibration: the calibration.
        abc: the ABC-SMC result.
        predictive: per series, runs x (steps + 1) curves of the posterior draws.
        point: the point estimate (posterior medians, or the best candidate: see
            ``abc.point_estimate``).
        point_curves: per series, runs x (steps + 1) curves of the point estimate.
        point_selection: with ``point_estimate: best``, one row per candidate: where it
            comes from, its values, the distance of its mean curves, and which was chosen.
        baselines: per series, the baseline forecasts at the held-out observations.
        baseline_grid: per series, the baseline forecasts on a grid of steps (for figures).
        seconds: wall time of everything after loading.
        predictive_seconds: wall time of the predictive and point runs.
    """

    calibration: Calibration
    abc: ABCResult
    predictive: dict[str, np.ndarray]
    point: dict[str, float]
    point_curves: dict[str, np.ndarray]
    point_selection: pd.DataFrame = field(default_factory=pd.DataFrame)
    baselines: dict[str, list[BaselineForecast]] = field(default_factory=dict)
    baseline_grid: dict[str, tuple[np.ndarray, list[BaselineForecast]]] = field(
        default_factory=dict
    )
    seconds: float = 0.0
    predictive_seconds: float = 0.0

    # ---------------------------------------------------------------- tables

    def predictive_table(self) -> pd.DataFrame:
        """Per series and step: date, predictive quantiles and mean, point-estimate mean."""
        cal = self.calibration
        steps = np.arange(cal.steps + 1)
        dates = pd.to_datetime(cal.date_of_step(steps)).strftime("%Y-%m-%d")
        frames = []
        for name in cal.series_names:
            curves = self.predictive[name]
            frame = pd.DataFrame({"series": name, "step": steps, "date": dates})
            for q in QUANTILES:
                frame[f"q{int(round(100 * q)):02d}"] = run_quantile(curves, q)
            frame["mean"] = run_mean(curves)
            frame["point_mean"] = run_mean(self.point_curves[name])
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def observation_table(self) -> pd.DataFrame:
        """Per observation: observed, predictive band and mean, point mean, role, inside."""
        cal = self.calibration
        rows = []
        for name in cal.series_names:
            obs = cal.observations[name]
            fit, predict = cal.fit_mask(name), cal.predict_mask(name)
            curves = self.predictive[name][:, obs.steps]
            point = run_mean(self.point_curves[name][:, obs.steps])
            low = run_quantile(curves, 0.05)
            high = run_quantile(curves, 0.95)
            low50 = run_quantile(curves, 0.25)
            high50 = run_quantile(curves, 0.75)
            median = run_quantile(curves, 0.5)
            mean = run_mean(curves)
            for i, date in enumerate(obs.dates):
                rows.append(
                    {
                        "series": name,
                        "date": date.isoformat(),
                        "step": int(obs.steps[i]),
                        "observed": float(obs.values[i]),
                        "role": "fit" if fit[i] else ("predict" if predict[i] else "not fitted"),
                        "predictive_mean": float(mean[i]),
                        "predictive_q05": float(low[i]),
                        "predictive_median": float(median[i]),
                        "predictive_q95": float(high[i]),
                        "inside_90": bool(low[i] <= obs.values[i] <= high[i]),
                        "predictive_q25": float(low50[i]),
                        "predictive_q75": float(high50[i]),
                        "inside_50": bool(low50[i] <= obs.values[i] <= high50[i]),
                        "point_mean": float(point[i]),
                        "point_error_points": float(
                            100 * obs.errors(np.array([point[i]]), np.array([i]))[0]
                        ),
                    }
                )
        return pd.DataFrame(rows)

    def in_sample_check(self) -> pd.DataFrame:
        """Per series: the point estimate's RMSE and largest gap (points) on fitted observations."""
        table = self.observation_table()
        rows = []
        for name in self.calibration.series_names:
            part = table[(table["series"] == name) & (table["role"] == "fit")]
            if part.empty:
                continue
            err = part["point_error_points"].to_numpy()
            rows.append(
                {
                    "series": name,
                    "observations": len(part),
                    "rmse_points": float(np.sqrt(np.mean(err**2))),
                    "max_abs_error_points": float(np.max(np.abs(err))),
                    "coverage_90": float(part["inside_90"].mean()),
                }
            )
        return pd.DataFrame(rows)

    def out_of_sample(self) -> pd.DataFrame:
        """Hold-out: per series and method, RMSE and 50% and 90% coverage.

        RMSE in points (x 100, share points or percent of an index's reference). The
        model is scored twice: its posterior predictive mean (with the bands' coverage)
        and its point estimate's mean over the check runs (no band: coverage missing).
        Then every baseline, with and without the initial point.
        """
        table = self.observation_table()
        rows = []

        def row(name: str, method: str, y: np.ndarray, mean: np.ndarray, **extra: Any) -> None:
            rows.append(
                {
                    "series": name,
                    "method": method,
                    "observations": len(y),
                    "rmse_points": float(100 * np.sqrt(np.mean((mean - y) ** 2))),
                    "coverage_50": extra.get("coverage_50", float("nan")),
                    "coverage_90": extra.get("coverage_90", float("nan")),
                    "note": extra.get("note", ""),
                }
            )

        for name in self.calibration.series_names:
            part = table[(table["series"] == name) & (table["role"] == "predict")]
            if part.empty:
                continue
            y = part["observed"].to_numpy()
            row(
                name,
                MODEL_PREDICTIVE,
                y,
                part["predictive_mean"].to_numpy(),
                coverage_50=float(part["inside_50"].to_numpy().mean()),
                coverage_90=float(part["inside_90"].to_numpy().mean()),
            )
            row(
                name,
                MODEL_POINT,
                y,
                part["point_mean"].to_numpy(),
                note="mean of the point estimate's check runs; no band",
            )
            for forecast in self.baselines.get(name, []):
                has_band = bool(np.all(np.isfinite(forecast.low)))
                has_50 = bool(np.all(np.isfinite(forecast.low50)))
                row(
                    name,
                    forecast.method,
                    y,
                    forecast.mean,
                    coverage_90=(
                        float(np.mean((y >= forecast.low) & (y <= forecast.high)))
                        if has_band
                        else float("nan")
                    ),
                    coverage_50=(
                        float(np.mean((y >= forecast.low50) & (y <= forecast.high50)))
                        if has_50
                        else float("nan")
                    ),
                    note=forecast.note,
                )
        return pd.DataFrame(rows)


MODEL_PREDICTIVE = "mtsim (ABC posterior predictive)"
"""The out-of-sample table's name for the model's posterior predictive mean."""

MODEL_POINT = "mtsim (point estimate)"
"""... and for the mean of the point estimate's runs."""


def choose_point(
    calibration: Calibration,
    result: ABCResult,
    reps: int,
    workers: int = 1,
    log: Callable[[str], None] | None = None,
    candidates: int | None = None,
    trials: int | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Return the point estimate and, with ``best`` or ``refined``, every point tried.

    ``median``: the posterior median of each parameter. ``best``: the medians and the
    ``abc.point_candidates`` particles (at most ``candidates``) with the smallest ABC
    distance are each run ``reps`` times with the same seeds (common random numbers);
    the one whose mean curves are nearest the fitted observations is chosen.
    """
    median = result.point_estimate()
    settings = calibration.config.abc
    if settings.point_estimate == "median":
        return median, pd.DataFrame()
    names = calibration.parameter_names
    nearest = result.particles.sort_values("distance", kind="stable").head(
        min(settings.point_candidates, candidates or settings.point_candidates)
    )
    candidates = [("posterior medians", median)] + [
        (f"particle {int(i)}", {n: float(row[n]) for n in names}) for i, row in nearest.iterrows()
    ]
    seeds = [calibration.run_seed(median, salt=200_000 + i) for i in range(reps)]
    if log:
        log(f"choosing the point estimate: {len(candidates)} candidates x {reps} runs")
    scores = mean_distances(calibration, [values for _, values in candidates], seeds, workers)
    rows = [
        {"candidate": source, **values, "mean_distance": score}
        for (source, values), score in zip(candidates, scores, strict=True)
    ]
    if settings.point_estimate == "refined":
        rows += refine_point(calibration, candidates, rows, seeds, trials, workers, log)
        candidates = [(row["candidate"], {n: row[n] for n in names}) for row in rows]
    table = pd.DataFrame(rows)
    best = int(table["mean_distance"].idxmin())
    table["chosen"] = table.index == best
    return candidates[best][1], table


def mean_distances(
    calibration: Calibration, points: list[dict[str, float]], seeds: list[int], workers: int = 1
) -> list[float]:
    """ABC distance of each point's mean curves over one run per seed (common seeds).

    All the points' runs go in one batch (one pool of workers, not one per point).
    """
    masks = {n: calibration.fit_mask(n) for n in calibration.series_names}
    reps = len(seeds)
    runs = [p for p in points for _ in range(reps)]
    curves = simulate_points(calibration, runs, seeds * len(points), workers=workers)
    out = []
    for k in range(len(points)):
        mean = {n: run_mean(c[k * reps : (k + 1) * reps]) for n, c in curves.items()}
        out.append(distance(calibration, mean, masks))
    return out


REFINE_BATCH = 8  # points per Optuna ask/tell round: their runs share one pool of workers


def refine_point(
    calibration: Calibration,
    candidates: list[tuple[str, dict[str, float]]],
    candidate_rows: list[dict[str, Any]],
    seeds: list[int],
    trials: int | None = None,
    workers: int = 1,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Search for the point whose mean curves on ``seeds`` are nearest the data.

    Optuna's TPE sampler (seeded with ``abc.seed``) proposes ``abc.point_trials`` points
    (at most ``trials``) in the prior's bounds, on the prior's scale (log10 for
    log-uniform priors), in batches of :data:`REFINE_BATCH`; the candidates already run
    are told to it first, so it starts from the ABC posterior's best points. Each point
    is run once per seed (the same seeds for every point: common random numbers, so two
    points differ by their parameters, not their luck) and scored by the ABC distance of
    the mean curves. Returns one row per point tried (``candidate`` = ``search N``).
    """
    import optuna  # noqa: PLC0415 (optional dependency: the calibrate extra)

    settings = calibration.config.abc
    n_trials = min(settings.point_trials, trials or settings.point_trials)
    specs = calibration.config.parameters
    names = calibration.parameter_names
    space = {n: optuna.distributions.FloatDistribution(*specs[n].prior_bounds()) for n in names}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=settings.seed, n_startup_trials=0),
    )
    lo_hi = {n: specs[n].prior_bounds() for n in names}
    for (_, values), row in zip(candidates, candidate_rows, strict=True):
        scaled = {n: specs[n].to_prior_scale(values[n]) for n in names}
        if all(lo_hi[n][0] <= scaled[n] <= lo_hi[n][1] for n in names):
            study.add_trial(
                optuna.trial.create_trial(
                    params=scaled, distributions=space, value=row["mean_distance"]
                )
            )
    if log:
        log(f"refining the point estimate: {n_trials} points x {len(seeds)} runs (Optuna TPE)")
    rows: list[dict[str, Any]] = []
    while len(rows) < n_trials:
        batch = [study.ask(space) for _ in range(min(REFINE_BATCH, n_trials - len(rows)))]
        points = [{n: specs[n].from_prior_scale(t.params[n]) for n in names} for t in batch]
        scores = mean_distances(calibration, points, seeds, workers)
        for trial, values, score in zip(batch, points, scores, strict=True):
            study.tell(trial, score if np.isfinite(score) else 1e9)
            row = {"candidate": f"search {len(rows) + 1}", **values, "mean_distance": score}
            rows.append(row)
        if log and len(rows) % (5 * REFINE_BATCH) == 0:
            nearest = min(r["mean_distance"] for r in rows)
            log(f"  {len(rows)} points, nearest so far {nearest:.4f}")
    return rows


def _years(calibration: Calibration, dates: list[dt.date]) -> np.ndarray:
    origin = calibration.config.time.origin
    return np.array([(d - origin).days / DAYS_PER_YEAR for d in dates], dtype=float)


def add_baselines(run: CalibrationRun) -> None:
    """Fit the carry-forward, trend, logistic and Bass baselines of each share series (hold-out).

    Each is fitted with and without the initial observation (``fit_baselines``).
    """
    cal = run.calibration
    assert cal.config.holdout is not None
    until = cal.config.holdout.fit_until
    origin = cal.config.time.origin
    for i, name in enumerate(cal.series_names):
        obs = cal.observations[name]
        used = np.array([origin <= d <= until for d in obs.dates])
        predict = cal.predict_mask(name)
        if used.sum() < 1 or not predict.any() or not cal.config.series[name].is_share:
            continue  # the curves have a ceiling in (0, 1]: shares only
        t_fit = _years(cal, [d for d, u in zip(obs.dates, used, strict=True) if u])
        y_fit = obs.values[used]
        t_new = _years(cal, [d for d, p in zip(obs.dates, predict, strict=True) if p])
        run.baselines[name] = [
            *fit_baselines(t_fit, y_fit, t_new, seed=cal.config.abc.seed + i),
            *fit_baselines(
                t_fit, y_fit, t_new, seed=cal.config.abc.seed + i, include_initial=False
            ),
        ]
        grid_steps = np.arange(0, cal.steps + 1, 4)
        t_grid = grid_steps * cal.config.time.days_per_step / DAYS_PER_YEAR
        run.baseline_grid[name] = (
            grid_steps,
            fit_baselines(t_fit, y_fit, t_grid, seed=cal.config.abc.seed + i),
        )


# ---------------------------------------------------------------------------- files


def _nest(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in values.items():
        node = out
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return out


def _significant(value: float, digits: int = 4) -> float:
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def _inside_list(data: dict[str, Any], path: str) -> bool:
    node: Any = data
    for part in path.split(".")[:-1]:
        if isinstance(node, list | tuple):
            return True
        node = node.get(part) if isinstance(node, dict) else None
    return isinstance(node, list | tuple)


def _plain(value: Any) -> Any:
    """Return lists, tuples and mappings as plain YAML-safe lists and dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fitted_scenario_yaml(run: CalibrationRun) -> str:
    """Return the fitted scenario: ``extends:`` the base by absolute path, plus values.

    The path is absolute so that the file keeps working wherever the output folder is
    moved or copied on this machine (a path relative to the fitted file would break
    as soon as the folder moves; one relative to the working folder, as soon as the
    command runs from elsewhere). To move it to another machine, change that one line.
    """
    from model.scenario import deep_merge

    cal = run.calibration
    cfg = cal.config
    base = cal.scenario_path.resolve()
    fitted = {path: _significant(v) for path, v in cal.values(run.point).items()}
    # a value inside a list (policies.0.strength): the whole list is written, as
    # ``extends:`` replaces lists rather than merging them item by item
    listed = {path.split(".")[0] for path in fitted if _inside_list(cal.base_data, path)}
    if listed:
        from model.scenario import apply_overrides

        full = apply_overrides(cal.base_data, fitted, source=str(cal.source))
        fitted = {p: v for p, v in fitted.items() if p.split(".")[0] not in listed}
        fitted.update({key: _plain(full[key]) for key in sorted(listed)})
    body: dict[str, Any] = {
        "extends": str(base),
        "name": f"{cfg.name}_fitted" + ("_holdout" if cal.holdout else ""),
        "description": (
            f"{cfg.description or cfg.name}: "
            + {
                "median": "posterior medians",
                "best": "best posterior point",
                "refined": "minimum-distance point",
            }[cfg.abc.point_estimate]
            + " of an ABC-SMC fit by "
            f"mtsim calibrate ({run.abc.simulations} runs, {len(run.abc.generations)} "
            "generations); see docs/calibration.md"
        ),
    }
    merged = deep_merge(_nest(dict(cfg.overrides)), _nest(fitted))
    merged = deep_merge(merged, {"simulation": {"steps": cal.steps}})
    body.update(merged)
    try:
        repo_relative = os.path.relpath(base, Path.cwd())
    except ValueError:  # another drive on Windows
        repo_relative = str(base)
    header = (
        f"# Written by `mtsim calibrate {cal.source}`"
        + (" --holdout" if cal.holdout else "")
        + f" on {dt.date.today().isoformat()}.\n"
        "# The calibration's fixed overrides and the point estimate of the fitted\n"
        f"# parameters ({cfg.abc.point_estimate}, see docs/calibration.md), on top of the\n"
        "# base scenario. `extends:` is an absolute path, so\n"
        "# this file works wherever the folder is moved on this machine; elsewhere, point\n"
        f"# it at the base scenario again (here: {repo_relative}).\n"
    )
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def plot_predictive(run: CalibrationRun, path: Path) -> None:
    """Posterior predictive bands (50% and 90%) against the observations, one panel per series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cal = run.calibration
    names = cal.series_names
    steps = np.arange(cal.steps + 1)
    dates = pd.to_datetime(cal.date_of_step(steps))
    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 4.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        spec = cal.config.series[name]
        curves = run.predictive[name]
        q = {p: run_quantile(curves, p) for p in QUANTILES}
        ax.fill_between(dates, q[0.05], q[0.95], color="tab:blue", alpha=0.18, label="90% band")
        ax.fill_between(dates, q[0.25], q[0.75], color="tab:blue", alpha=0.3, label="50% band")
        ax.plot(dates, q[0.5], color="tab:blue", lw=1.6, label="predictive median")
        ax.plot(
            dates,
            run_mean(run.point_curves[name]),
            color="black",
            lw=1,
            ls="--",
            label="point estimate, mean run",
        )
        if name in run.baseline_grid and cal.config.holdout is not None:
            grid_steps, forecasts = run.baseline_grid[name]
            grid_dates = pd.to_datetime(cal.date_of_step(grid_steps))
            keep = grid_dates >= pd.Timestamp(cal.config.holdout.fit_until)
            styles = {"logistic": ("tab:orange", ":"), "bass": ("tab:green", "-.")}
            for forecast in forecasts:
                if forecast.method in styles and np.isfinite(forecast.mean).all():
                    color, ls = styles[forecast.method]
                    ax.plot(
                        grid_dates[keep],
                        forecast.mean[keep],
                        color=color,
                        ls=ls,
                        lw=1.3,
                        label=f"{forecast.method} baseline",
                    )
        obs = cal.observations[name]
        obs_dates = pd.to_datetime([d.isoformat() for d in obs.dates])
        fit, predict = cal.fit_mask(name), cal.predict_mask(name)
        other = ~(fit | predict)
        ax.plot(obs_dates[fit], obs.values[fit], "o", color="black", ms=5, label="observed, fitted")
        if predict.any():
            ax.plot(
                obs_dates[predict],
                obs.values[predict],
                "o",
                mfc="white",
                color="tab:red",
                ms=6,
                label="observed, held out",
            )
            assert cal.config.holdout is not None
            ax.axvline(pd.Timestamp(cal.config.holdout.fit_until), color="gray", ls=":", lw=1)
        if other.any():
            ax.plot(
                obs_dates[other], obs.values[other], "x", color="gray", label="observed, not fitted"
            )
        ax.set_title(spec.label or name, fontsize=10)
        if spec.is_share:
            ax.set_ylim(0, 1)
            ax.set_ylabel("share")
        else:
            ax.set_ylim(bottom=0)
            ax.set_ylabel(
                f"ratio to {spec.relative_to}" if spec.relative_to is not None else spec.metric
            )
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=30)
    handles, labels = axes[0][-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=8)
    mode = (
        "hold-out (fit to " + str(cal.config.holdout.fit_until) + ")"
        if (cal.holdout and cal.config.holdout)
        else "full fit"
    )
    fig.suptitle(
        f"{cal.config.name}: posterior predictive, {len(next(iter(run.predictive.values())))} "
        f"draws, {mode}",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.1, 1, 0.95))
    _save(fig, path)


def plot_pairs(run: CalibrationRun, path: Path) -> None:
    """Pairwise posterior: weighted histograms on the diagonal, particles off it (prior ranges)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cal = run.calibration
    names = cal.parameter_names
    specs = cal.config.parameters
    k = len(names)
    w = run.abc.particles["weight"].to_numpy()
    scaled = {
        n: np.array([specs[n].to_prior_scale(v) for v in run.abc.particles[n]]) for n in names
    }
    fig, axes = plt.subplots(k, k, figsize=(1.9 * k + 1, 1.9 * k + 1), squeeze=False)
    for i, row in enumerate(names):
        for j, col in enumerate(names):
            ax = axes[i][j]
            lo_c, hi_c = specs[col].prior_bounds()
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(scaled[col], bins=20, range=(lo_c, hi_c), weights=w, color="tab:blue")
                ax.set_yticks([])
            else:
                lo_r, hi_r = specs[row].prior_bounds()
                ax.scatter(scaled[col], scaled[row], s=4 + 400 * w, alpha=0.5, color="tab:blue")
                ax.set_ylim(lo_r, hi_r)
            ax.set_xlim(lo_c, hi_c)
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(("log10 " if specs[col].log else "") + col, fontsize=7)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(("log10 " if specs[row].log else "") + row, fontsize=7)
            elif j > 0:
                ax.set_yticklabels([])
    fig.suptitle(
        f"{cal.config.name}: posterior ({len(w)} particles, axes span the prior)", fontsize=10
    )
    fig.tight_layout()
    _save(fig, path)

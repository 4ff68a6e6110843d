"""``mtsim calibrate``: fit by ABC-SMC, check the fit, compare with baselines, write the folder.

The calibration file, priors and distance are :mod:`model.validation.calibration`, the
ABC-SMC fit :mod:`model.validation.abc`, and the predictive bands, point estimate,
baselines, fitted scenario and figures :mod:`model.validation.posterior`; this module
runs them in order and writes every output.

Outputs (in ``output``, or ``output/holdout`` with ``--holdout``, or ``--out``):

| file | content |
|---|---|
| ``posterior.csv`` | last generation: one row per particle, parameter values, weight, distance |
| ``posterior_summary.csv`` | per parameter: prior, mean, sd, 5%, median, 95%, width ratio |
| ``generations.csv`` | per generation: epsilon, runs, acceptance rate, ESS, wall time |
| ``predictive.csv`` | per series and step: date, predictive quantiles, point-estimate mean |
| ``observations.csv`` | per observation: observed, predictive band, role (fit/predict), inside |
| ``out_of_sample.csv`` | hold-out: per series and method, RMSE (points), 50%/90% coverage |
| ``predictive.png`` | predictive bands against the data, one panel per series |
| ``pairs.png`` | pairwise posterior plot (what is and is not identified) |
| ``point_selection.csv`` | ``best``/``refined``: candidates, points searched, distances, choice |
| ``fitted_scenario.yaml`` | the base scenario with the overrides and the point estimate |
| ``calibration.json`` | all of the above in one file, timings, sampler, manifest |
| ``abc.db`` | pyabc's history (SQLite; every generation; ``pyabc.History``) |

:func:`calibrate` does both and writes the folder as a whole
(``model.workflows.validate.staged_folder``): pyabc's database and every file go to a
hidden staging folder and are moved in at the end, so a full disk, an error or an
interrupt leaves an earlier fit in the folder as it was. A hold-out run then appends
its scores to the validation log (:func:`log_scoring`,
:mod:`model.validation.validation_log`).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from model.validation.abc import (
    ABCResult,
    local_workers,
    posterior_draws,
    run_abc,
    simulate_points,
)
from model.validation.calibration import Calibration
from model.validation.posterior import (
    CalibrationRun,
    add_baselines,
    choose_point,
    fitted_scenario_yaml,
    plot_pairs,
    plot_predictive,
)


def run_calibration(
    calibration: Calibration,
    out_dir: Path,
    *,
    population_size: int | None = None,
    max_generations: int | None = None,
    max_simulations: int | None = None,
    max_minutes: float | None = None,
    draws: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
    result: ABCResult | None = None,
) -> CalibrationRun:
    """Fit by ABC-SMC, run the posterior predictive and point estimate, fit the baselines.

    Args:
        calibration: from :func:`model.validation.calibration.load_calibration`.
        out_dir: output folder (pyabc's database goes there as ``abc.db``).
        population_size: override ``abc.population_size``.
        max_generations: override ``abc.max_generations``.
        max_simulations: override ``abc.max_simulations``.
        max_minutes: override ``abc.max_minutes``.
        draws: override ``abc.predictive_draws`` (the point estimate runs at most this often).
        workers: local worker processes.
        scheduler: address of a running Dask scheduler.
        dask_local: start a Dask LocalCluster with this many workers.
        quiet: no progress output.
        log: called with progress lines.
        result: an earlier fit (``load_result``): no ABC-SMC run, only what follows it.
    """
    started = time.perf_counter()
    settings = calibration.config.abc
    result = result or run_abc(
        calibration,
        out_dir / "abc.db",
        population_size=population_size,
        max_generations=max_generations,
        max_simulations=max_simulations,
        max_minutes=max_minutes,
        workers=workers,
        scheduler=scheduler,
        dask_local=dask_local,
        quiet=quiet,
        log=log,
    )
    workers_here = local_workers(calibration, workers, dask_local)
    t0 = time.perf_counter()
    n_draws = draws or settings.predictive_draws
    draws_list = posterior_draws(result, n_draws, settings.seed + 1)
    seeds = [calibration.run_seed(p, salt=1 + i) for i, p in enumerate(draws_list)]
    if log:
        log(f"posterior predictive: {len(draws_list)} draws with fresh seeds")
    predictive = simulate_points(calibration, draws_list, seeds, workers=workers_here)
    reps = min(settings.point_replications, draws or settings.point_replications)
    point, selection = choose_point(
        calibration, result, reps, workers_here, log, candidates=draws, trials=draws
    )
    checks = min(settings.check_replications or settings.point_replications, draws or 10**9)
    point_seeds = [calibration.run_seed(point, salt=100_000 + i) for i in range(checks)]
    if log:
        log(f"point estimate: {checks} runs with fresh seeds")
    point_curves = simulate_points(calibration, [point] * checks, point_seeds, workers=workers_here)
    run = CalibrationRun(
        calibration=calibration,
        abc=result,
        predictive=predictive,
        point=point,
        point_curves=point_curves,
        point_selection=selection,
        predictive_seconds=time.perf_counter() - t0,
    )
    if calibration.holdout:
        add_baselines(run)
    run.seconds = time.perf_counter() - started
    return run


def calibrate(
    calibration: Calibration, out_dir: Path, *, note: str | None = None, **options: Any
) -> tuple[CalibrationRun, dict[str, Path]]:
    """Fit (:func:`run_calibration`) and write the folder (:func:`write_outputs`) as a whole.

    A hold-out run is a scoring of the forecast: once the folder is written, its
    out-of-sample table is appended to the validation log (:func:`log_scoring`).

    Args:
        calibration: from :func:`model.validation.calibration.load_calibration`.
        out_dir: output folder; its earlier files are replaced only when every new one
            is written.
        note: hold-out: what changed since the last scoring (the log's ``what_changed``).
        **options: the keywords of :func:`run_calibration`.

    Returns:
        The calibration run and the files written (in ``out_dir``), by role.

    Raises:
        UserError: the folder cannot be written (one line; earlier results unchanged).
    """
    from model.workflows.folders import staged_folder

    with staged_folder(out_dir) as stage:
        run = run_calibration(calibration, stage, **options)
        paths = write_outputs(run, stage)
    run.abc.database = out_dir / run.abc.database.name
    if calibration.holdout:
        log_scoring(run, note or "")
    return run, {role: out_dir / path.name for role, path in paths.items()}


def validation_log_path(calibration: Calibration) -> Path:
    """Return the validation log a hold-out scoring of ``calibration`` is appended to."""
    assert calibration.config.holdout is not None
    return calibration.source.parent / calibration.config.holdout.log


def log_scoring(run: CalibrationRun, note: str) -> tuple[Path, int, str]:
    """Append a hold-out run's out-of-sample table to the validation log.

    Returns:
        The log, the scoring's number and its status (development, headline, later).
    """
    from model.validation.validation_log import append_scoring, repository_commit

    cal = run.calibration
    holdout = cal.config.holdout
    assert holdout is not None
    path = validation_log_path(cal)
    details = [cal.config.name, f"fit_until {holdout.fit_until}"]
    if cal.events_off:
        details.append("off after the cut: " + ", ".join(cal.events_off))
    scoring, status = append_scoring(
        path,
        _records(run.out_of_sample()),
        calibration="; ".join(details),
        what_changed=note,
        frozen=holdout.frozen,
        commit=repository_commit(cal.source.resolve()),
    )
    return path, scoring, status


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
        for r in frame.to_dict(orient="records")
    ]


def write_outputs(run: CalibrationRun, out_dir: Path) -> dict[str, Path]:
    """Write the tables, figures, fitted scenario and calibration.json into ``out_dir``."""
    from model.atomic_files import write_bytes_atomic, write_csv_atomic, write_json_atomic
    from model.experiment.manifest import build_manifest, now_iso

    cal = run.calibration
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "posterior": out_dir / "posterior.csv",
        "posterior_summary": out_dir / "posterior_summary.csv",
        "generations": out_dir / "generations.csv",
        "predictive": out_dir / "predictive.csv",
        "observations": out_dir / "observations.csv",
        "predictive_figure": out_dir / "predictive.png",
        "pairs_figure": out_dir / "pairs.png",
        "scenario": out_dir / "fitted_scenario.yaml",
        "json": out_dir / "calibration.json",
        "database": run.abc.database,
    }
    summary = run.abc.summary()
    out_of_sample = run.out_of_sample() if cal.holdout else pd.DataFrame()
    write_csv_atomic(paths["posterior"], run.abc.particles)
    write_csv_atomic(paths["posterior_summary"], summary)
    write_csv_atomic(paths["generations"], run.abc.generations)
    write_csv_atomic(paths["predictive"], run.predictive_table())
    write_csv_atomic(paths["observations"], run.observation_table())
    if cal.holdout:
        paths["out_of_sample"] = out_dir / "out_of_sample.csv"
        write_csv_atomic(paths["out_of_sample"], out_of_sample)
    if not run.point_selection.empty:
        paths["point_selection"] = out_dir / "point_selection.csv"
        write_csv_atomic(paths["point_selection"], run.point_selection)
    write_bytes_atomic(paths["scenario"], fitted_scenario_yaml(run).encode())
    plot_predictive(run, paths["predictive_figure"])
    plot_pairs(run, paths["pairs_figure"])
    fitted = cal.scenario(run.point).resolved()
    payload = {
        "name": cal.config.name,
        "mode": "holdout" if cal.holdout else "full",
        "calibration_file": str(cal.source),
        "config": cal.config.model_dump(mode="json"),
        "steps": cal.steps,
        "consumers": fitted.get("population", {}).get("consumers"),
        "sampler": run.abc.sampler,
        "workers": run.abc.workers,
        "simulations": run.abc.simulations,
        "stop_reason": run.abc.stop_reason,
        "abc_seconds": run.abc.seconds,
        "predictive_seconds": run.predictive_seconds,
        "seconds": run.seconds,
        "posterior_summary": _records(summary),
        "point_estimate": run.point,
        "point_estimate_rule": cal.config.abc.point_estimate,
        "point_selection": _records(run.point_selection),
        "generations": _records(run.abc.generations),
        "in_sample": _records(run.in_sample_check()),
        "out_of_sample": _records(out_of_sample),
        "events_off_after_cut": cal.events_off,
        "parameters_not_fitted_after_cut": cal.parameters_off,
        "files": {k: p.name for k, p in paths.items()},
        "manifest": build_manifest(
            {f"{cal.config.name}_fitted": fitted},
            [],
            started=now_iso(),
            finished=now_iso(),
            command=" ".join(["mtsim", *sys.argv[1:]]),
        ),
    }
    write_json_atomic(paths["json"], payload)
    return paths

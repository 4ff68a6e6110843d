"""ABC-SMC calibration with pyabc: priors, the model as a simulator, samplers, posterior.

Approximate Bayesian computation by sequential Monte Carlo (Toni et al. 2009; Beaumont
et al. 2009; pyabc: Schälte et al. 2022). Generation 0 draws parameters from the prior,
runs the model once per draw and accepts draws whose distance to the data (root of the
mean over series of each series' mean squared error, :func:`calibration.distance`)
is below a threshold epsilon; each later generation perturbs accepted particles
(multivariate normal kernel fitted to the last population), lowers epsilon to a
quantile of the last accepted distances and reweights particles by prior density /
proposal density. The accepted, weighted particles of the last generation are the
posterior sample. With ``abc.min_ess`` set, a generation whose weights have degenerated
(effective sample size ``1 / sum w^2`` below it: a few particles carry the posterior)
ends the fit and is not kept: the posterior is the last generation with at least
``min_ess`` effective particles (the usual resample-or-stop rule of SMC samplers, Del
Moral, Doucet and Jasra 2006; a degenerate sample understates or misplaces the
uncertainty, so a wider but well-represented posterior is reported instead). The
model's own randomness is part of the likelihood: each particle is one run, with a seed
derived from its parameter values.

Samplers (where the model runs happen):

- 1 worker: pyabc's ``SingleCoreSampler``, in this process;
- N workers: ``MulticoreEvalParallelSampler`` (N local processes, at most what
  ``model.experiment.runner.usable_workers`` allows); each worker process starts as
  every mtsim pool worker does (``start_pool_worker``): it ends within half a second
  when this process is gone (``kill -9`` leaves no orphans) and leaves Ctrl-C to it;
- ``--dask-local N`` / ``--scheduler ADDRESS``: ``DaskDistributedSampler`` on a Dask
  LocalCluster or an existing cluster (the same options as ``mtsim sweep``).

Reproducibility: pyabc draws parameters from numpy's global generator, which is
seeded with ``abc.seed`` before the run, and every model run's seed is a hash of its
parameter values. With the single-core sampler a rerun reproduces the posterior
exactly. The parallel samplers reseed their worker processes and accept whichever
particles finish first, so their posteriors differ from run to run by Monte Carlo
noise (each is a valid posterior sample); this cannot be removed without giving up
their dynamic scheduling.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import UserError
from model.experiment.runner import (
    map_in_order,
    new_process_pool,
    start_pool_worker,
    stop_process_pool,
    usable_workers,
)
from model.validation.calibration import (
    EARLIER_FIT_FILES,
    Calibration,
    check_earlier_fit,
    distance,
)

try:
    import pyabc
except ImportError:  # pragma: no cover - pyabc is an optional dependency
    raise UserError("pyabc is not installed: pip install 'mtsim[calibrate]'") from None


class SimulationModel(pyabc.IntegratedModel):
    """The model as pyabc sees it: parameters (prior scale) -> simulated curves.

    Picklable, so it can be shipped to worker processes and Dask workers.

    Early rejection: within a generation, a run is stopped at the first observation
    date where the distance so far (a lower bound of the final distance) already
    exceeds the generation's threshold; the accept/reject decision is the same as
    with the full run, only cheaper.

    Deadline: after ``deadline`` (``time.time()``), proposals are accepted at once
    without running the model, with missing curves: the generation running then ends
    within seconds, pyabc stops on its time limit (which it checks only between
    generations, and a generation can take long), and :func:`run_abc` drops every
    generation holding such placeholders: the last complete generation is the
    posterior. (Accepting, not rejecting, because pyabc's Dask sampler does not bound a
    generation's proposals.)

    Attributes:
        calibration: the loaded calibration.
        deadline: wall-clock time after which runs are skipped.
        masks: per series, the fitted observations.
    """

    def __init__(self, calibration: Calibration, deadline: float | None = None) -> None:
        super().__init__(name="mtsim")
        self.calibration = calibration
        self.deadline = deadline
        self.masks = {n: calibration.fit_mask(n) for n in calibration.series_names}
        # a fitting run stops at the last fitted observation (later curves are NaN)
        self.last_fitted = max(calibration.checkpoints(), default=calibration.steps)

    def past_deadline(self) -> bool:
        """Return True once the time budget is spent."""
        return self.deadline is not None and time.time() > self.deadline

    def placeholder(self) -> dict[str, np.ndarray]:
        """Return the missing curves that mark a run skipped after the deadline."""
        missing = np.full(self.calibration.steps + 1, np.nan)
        return {name: missing for name in self.calibration.series_names}

    def point(self, parameters: Mapping[str, float]) -> dict[str, float]:
        """Parameter values (natural scale) of a pyabc parameter (its sampling scale)."""
        from scipy.special import expit  # the logistic function, overflow-safe

        specs = self.calibration.config.parameters
        logit = self.calibration.config.abc.sampling_scale == "logit"
        out = {}
        for name, spec in specs.items():
            value = float(parameters[name])
            if logit:  # the position within the prior's bounds, from its log-odds
                lo, hi = spec.prior_bounds()
                value = lo + (hi - lo) * float(expit(value))
            out[name] = spec.from_prior_scale(value)
        return out

    def sample(self, pars: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Run the model once at these parameters (full run); each series' curve."""
        if self.past_deadline():
            return self.placeholder()
        point = self.point(pars)
        curves = self.calibration.simulate(
            point, self.calibration.run_seed(point), until=self.last_fitted
        )
        assert curves is not None
        return curves

    def integrated_simulate(self, pars: Mapping[str, float], eps: float) -> Any:
        """Run, stopping as soon as the distance must exceed ``eps``; accept or reject."""
        if self.past_deadline():
            return pyabc.ModelResult(sum_stat=self.placeholder(), distance=0.0, accepted=True)
        point = self.point(pars)
        cal = self.calibration

        def beyond(step: int, curves: dict[str, np.ndarray]) -> bool:
            return distance(cal, curves, self.masks, until=step) > eps

        curves = cal.simulate(point, cal.run_seed(point), stop=beyond, until=self.last_fitted)
        if curves is None:
            return pyabc.ModelResult(accepted=False)
        value = distance(cal, curves, self.masks)
        return pyabc.ModelResult(sum_stat=curves, distance=value, accepted=value <= eps)


def prior(calibration: Calibration) -> Any:
    """Return the pyabc prior of a calibration's parameters on their sampling scale.

    ``abc.sampling_scale: bounded``: uniform on each prior's own scale (log10 with
    ``log: true``). ``logit``: the standard logistic on the log-odds of the position
    within those bounds, the same prior (uniform on the bounded scale) seen from an
    unbounded scale, where the perturbation kernel loses no mass beyond a bound.
    """
    logit = calibration.config.abc.sampling_scale == "logit"
    priors = {}
    for name, spec in calibration.config.parameters.items():
        if logit:
            priors[name] = pyabc.RV("logistic", 0.0, 1.0)
        else:
            lo, hi = spec.prior_bounds()
            priors[name] = pyabc.RV("uniform", lo, hi - lo)
    return pyabc.Distribution(**priors)


def effective_sample_size(weights: Any) -> float:
    """Return ``1 / sum w^2`` of normalised weights (Kish's effective sample size)."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    return float(1.0 / np.sum(w**2))


class _ESSStoppingABCSMC(pyabc.ABCSMC):
    """pyabc's ABC-SMC that also stops after a generation whose ESS fell below a floor."""

    min_ess: float | None = None

    def check_terminate(self, t: int, acceptance_rate: float) -> bool:  # noqa: D102
        if self.min_ess is not None:
            _, w = self.history.get_distribution(m=0, t=t)
            if effective_sample_size(w) < self.min_ess:
                return True
        return super().check_terminate(t=t, acceptance_rate=acceptance_rate)


def simulation_model(calibration: Calibration, deadline: float | None = None) -> SimulationModel:
    """Return the calibration's model for pyabc."""
    return SimulationModel(calibration, deadline)


class SeriesDistance:
    """The ABC distance on the fitted observations (see :func:`calibration.distance`).

    Attributes:
        calibration: the loaded calibration.
        masks: per series, the observations fitted.
    """

    def __init__(self, calibration: Calibration) -> None:
        self.calibration = calibration
        self.masks = {n: calibration.fit_mask(n) for n in calibration.series_names}

    def __call__(self, simulated: Mapping[str, Any], observed: Mapping[str, Any]) -> float:
        """Return the distance of simulated curves to the observations (``observed`` unused)."""
        return distance(self.calibration, simulated, self.masks)


@dataclass
class ABCResult:
    """What an ABC-SMC run found.

    Attributes:
        calibration: the calibration fitted.
        particles: last generation: one row per particle, parameter values (natural
            scale), ``weight`` (sums to 1) and ``distance``.
        generations: per generation: ``t``, ``epsilon``, ``samples`` (model runs),
            ``particles``, ``acceptance_rate``, ``ess`` (effective sample size).
        simulations: model runs of pyabc's calibration sample (from the prior, to set the
            first epsilon) and of the kept generations (runs started; early-rejected
            runs stop at the first observation date that rules them out).
        seconds: wall time of the ABC-SMC run.
        sampler: description of where the runs happened.
        workers: number of workers.
        database: the pyabc history database.
        stop_reason: why it stopped (the first criterion met).
    """

    calibration: Calibration
    particles: pd.DataFrame
    generations: pd.DataFrame
    simulations: int
    seconds: float
    sampler: str
    workers: int
    database: Path
    stop_reason: str

    def weighted_quantile(self, name: str, q: float) -> float:
        """Weighted quantile of a parameter's posterior."""
        return weighted_quantiles(
            self.particles[name].to_numpy(), self.particles["weight"].to_numpy(), [q]
        )[0]

    def point_estimate(self) -> dict[str, float]:
        """Return the posterior median of each parameter (a point to put in a scenario)."""
        return {n: self.weighted_quantile(n, 0.5) for n in self.calibration.parameter_names}

    def summary(self) -> pd.DataFrame:
        """Per parameter: prior, posterior mean, sd, median, 5% and 95%, and how much narrower.

        ``width_ratio`` is the 90% posterior interval's width over the prior's 90%
        interval width, both on the prior's scale (log10 for log priors): near 1, the
        data say little about the parameter; near 0, it is well identified.
        """
        rows = []
        w = self.particles["weight"].to_numpy()
        for name, spec in self.calibration.config.parameters.items():
            x = self.particles[name].to_numpy()
            lo, hi = spec.prior_bounds()
            scaled = np.array([spec.to_prior_scale(v) for v in x])
            q05s, q95s = weighted_quantiles(scaled, w, [0.05, 0.95])
            mean = float(np.sum(w * x))
            rows.append(
                {
                    "parameter": name,
                    "paths": " ".join(spec.paths),
                    "prior": f"{'log-' if spec.log else ''}uniform [{spec.low:g}, {spec.high:g}]",
                    "mean": mean,
                    "sd": float(math.sqrt(max(0.0, np.sum(w * (x - mean) ** 2)))),
                    "q05": weighted_quantiles(x, w, [0.05])[0],
                    "median": weighted_quantiles(x, w, [0.5])[0],
                    "q95": weighted_quantiles(x, w, [0.95])[0],
                    "width_ratio": float((q95s - q05s) / (0.9 * (hi - lo))),
                }
            )
        return pd.DataFrame(rows)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Quantiles of a weighted sample (midpoint interpolation of the weighted CDF)."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    total = w.sum()
    if total <= 0 or v.size == 0:
        return [float("nan")] * len(qs)
    cdf = (np.cumsum(w) - 0.5 * w) / total
    return [float(np.interp(q, cdf, v)) for q in qs]


_watched_in: int | None = None  # the process whose parent watch has started


class _WatchedSimulation:
    """pyabc's ``simulate_one``, run in a worker that first starts as mtsim's pool workers do.

    pyabc's multicore sampler starts its worker processes itself and takes no
    initializer; the function each worker calls is the one place to start
    :func:`model.experiment.runner.start_pool_worker` (once per worker, before its
    first run).
    """

    def __init__(self, simulate_one: Callable[[], Any], parent_pid: int) -> None:
        self.simulate_one = simulate_one
        self.parent_pid = parent_pid

    def __call__(self) -> Any:
        global _watched_in
        if _watched_in != os.getpid() and os.getpid() != self.parent_pid:
            start_pool_worker(self.parent_pid)
            _watched_in = os.getpid()
        return self.simulate_one()


class WatchedMulticoreSampler(pyabc.sampler.MulticoreEvalParallelSampler):
    """pyabc's ``MulticoreEvalParallelSampler`` whose workers end with this process."""

    def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, **kwargs: Any) -> Any:
        """Sample as pyabc does, with each worker started by ``start_pool_worker``."""
        watched = _WatchedSimulation(simulate_one, os.getpid())
        return super().sample_until_n_accepted(n, watched, t, **kwargs)


def local_workers(calibration: Calibration, workers: int | None, dask_local: int | None) -> int:
    """Return the local worker processes of a fit: ``--workers`` or ``abc.workers``, capped.

    With ``--dask-local N`` (more than those) the predictive runs use N local processes.
    """
    count, option = (workers, "--workers") if workers else (calibration.config.abc.workers, "")
    if dask_local is not None and dask_local > count:
        count, option = dask_local, "--dask-local"
    return usable_workers(max(1, count), option or "abc.workers")


@contextmanager
def open_sampler(
    workers: int = 1, scheduler: str | None = None, dask_local: int | None = None
) -> Iterator[tuple[Any, int, str]]:
    """Yield (pyabc sampler, workers, description); Dask clusters are closed at the end.

    ``workers`` local processes are used as given (cap them with :func:`local_workers`).
    """
    from pyabc.sampler import DaskDistributedSampler, SingleCoreSampler

    if scheduler is None and dask_local is None:
        if workers < 1:
            raise UserError(f"--workers: {workers}: must be at least 1")
        if workers == 1:
            yield (
                SingleCoreSampler(check_max_eval=True),
                1,
                "this process (pyabc SingleCoreSampler)",
            )
        else:
            yield (
                WatchedMulticoreSampler(n_procs=workers, check_max_eval=True),
                workers,
                f"{workers} local processes (pyabc MulticoreEvalParallelSampler)",
            )
        return
    from model.experiment.executors import dask_client

    with dask_client(scheduler, dask_local) as (client, count, where):
        yield (
            DaskDistributedSampler(dask_client=client, batch_size=1),
            count,
            f"{where} (pyabc DaskDistributedSampler)",
        )


@contextmanager
def seeded_global_generators(seed: int) -> Iterator[None]:
    """Seed numpy's and Python's global generators for pyabc, then give them back.

    pyabc draws its proposals from the global generators and takes no generator of its
    own, so the fit seeds them (``abc.seed``: single-core fits are reproducible); the
    caller's states are restored afterwards. The model's runs never use them: each run
    has its own seeded generators.
    """
    saved = np.random.get_state(), random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved[0])
        random.setstate(saved[1])


@contextmanager
def _history_written(database: Path) -> Iterator[None]:
    """Turn a failure to write pyabc's history database into OSError (a full disk: ENOSPC)."""
    import errno
    import sqlite3

    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        if getattr(exc.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(database)) from None
        reason = str(exc.orig or exc).splitlines()[0]
        raise OSError(f"{reason} (pyabc's history {database.name})") from None


def run_abc(
    calibration: Calibration,
    database: Path,
    *,
    population_size: int | None = None,
    max_generations: int | None = None,
    max_simulations: int | None = None,
    max_minutes: float | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
) -> ABCResult:
    """Run ABC-SMC on a loaded calibration; the pyabc history goes to ``database``.

    Args:
        calibration: from :func:`model.validation.calibration.load_calibration`.
        database: SQLite file for pyabc's history (replaced if it exists; a failure to
            write it, such as a full disk, raises ``OSError``).
        population_size: override ``abc.population_size``.
        max_generations: override ``abc.max_generations``.
        max_simulations: override ``abc.max_simulations``.
        max_minutes: override ``abc.max_minutes``.
        workers: local worker processes (override ``abc.workers``).
        scheduler: address of a running Dask scheduler.
        dask_local: start a Dask LocalCluster with this many workers.
        quiet: silence pyabc's per-generation log.
        log: called with progress lines.
    """
    settings = calibration.config.abc
    pop = population_size or settings.population_size
    # the ESS floor; a --particles override below it turns it off (it could never be met)
    floor = settings.min_ess if settings.min_ess is not None and settings.min_ess <= pop else None
    gens = max_generations or settings.max_generations
    budget = max_simulations or settings.max_simulations
    minutes = max_minutes or settings.max_minutes
    for logger in ("ABC", "ABC.Sampler", "ABC.History", "ABC.Population", "ABC.Distance"):
        logging.getLogger(logger).setLevel(logging.WARNING if quiet else logging.INFO)
    logging.getLogger("ABC.Sampler").setLevel(logging.WARNING)

    parameter_prior = prior(calibration)
    observed = {n: o.values for n, o in calibration.observations.items()}

    database = Path(database).resolve()
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)

    sampling = open_sampler(local_workers(calibration, workers, None), scheduler, dask_local)
    with seeded_global_generators(settings.seed), sampling as (sampler, n, where):
        if log:
            log(
                f"ABC-SMC: {len(calibration.config.parameters)} parameters, {pop} particles "
                f"per generation, at most {gens} generations"
                + (f" or {minutes:g} minutes" if minutes else "")
                + f"; a budget of {budget} model runs, checked between generations (the "
                f"generation running when it is spent is finished); runs in {where}"
            )
            if settings.min_ess is not None and floor is None:
                log(
                    f"abc.min_ess ({settings.min_ess:g}) is above the {pop} particles: "
                    "no effective-sample-size floor in this fit"
                )
        deadline = None if minutes is None else time.time() + 60.0 * minutes
        abc = _ESSStoppingABCSMC(
            simulation_model(calibration, deadline),
            parameter_prior,
            SeriesDistance(calibration),
            population_size=pop,
            sampler=sampler,
            eps=pyabc.QuantileEpsilon(alpha=settings.epsilon_quantile),
        )
        abc.min_ess = floor
        with _history_written(database):
            abc.new(f"sqlite:///{database}", observed)
            started = time.perf_counter()
            history = abc.run(
                minimum_epsilon=settings.min_epsilon,
                max_nr_populations=gens,
                min_acceptance_rate=settings.min_acceptance_rate,
                max_total_nr_simulations=budget,
                max_walltime=None if minutes is None else dt.timedelta(minutes=minutes),
            )
        seconds = time.perf_counter() - started

    # the last generation without placeholders (runs skipped after the deadline)
    names = calibration.series_names
    final_t = None

    def placeholder(particle: Any) -> bool:  # every curve missing (a real run has step 0)
        return all(np.isnan(np.asarray(particle.sum_stat[n], dtype=float)).all() for n in names)

    degenerate = 0  # generations dropped because their ESS fell below abc.min_ess
    for t in range(int(history.max_t), -1, -1):
        population = history.get_population(t=t)
        if any(placeholder(p) for p in population.particles):
            continue
        if floor is not None and t > 0:
            _, w = history.get_distribution(m=0, t=t)
            if effective_sample_size(w) < floor:
                degenerate += 1
                continue
        final_t = t
        break
    if final_t is None:
        raise UserError(no_generation_message(history, budget, minutes, seconds))
    populations = history.get_all_populations()
    calibration_runs = int(populations.loc[populations["t"] < 0, "samples"].sum())
    populations = populations[(populations["t"] >= 0) & (populations["t"] <= final_t)]
    populations = populations.reset_index(drop=True)
    ess = []
    for t in populations["t"]:
        _, w = history.get_distribution(m=0, t=int(t))
        ess.append(effective_sample_size(w))
    generations = pd.DataFrame(
        {
            "t": populations["t"].astype(int),
            "epsilon": populations["epsilon"].astype(float),
            "samples": populations["samples"].astype(int),
            "particles": populations["particles"].astype(int),
            "acceptance_rate": populations["particles"] / populations["samples"],
            "ess": ess,
            "wall_time_s": populations["wall_time"].astype(float),
        }
    )
    dropped = int(history.max_t) - final_t
    population = history.get_population(t=final_t)
    model = simulation_model(calibration)
    particles = pd.DataFrame(
        [model.point(p.parameter) for p in population.particles],
        columns=calibration.parameter_names,
    )
    weights = np.array([p.weight for p in population.particles], dtype=float)
    particles["weight"] = weights / weights.sum()
    particles["distance"] = [float(p.distance) for p in population.particles]
    simulations = calibration_runs + int(generations["samples"].sum())
    reason = stop_reason(
        generations, settings, simulations, budget, gens, minutes, seconds, dropped - degenerate,
        degenerate=degenerate,
    )
    return ABCResult(
        calibration=calibration,
        particles=particles,
        generations=generations,
        simulations=simulations,
        seconds=seconds,
        sampler=where,
        workers=n,
        database=database,
        stop_reason=reason,
    )


def no_generation_message(history: Any, budget: int, minutes: float | None, seconds: float) -> str:
    """Return the one line for a fit that ended before its first generation: which budget."""
    used = int(history.total_nr_simulations)
    if minutes is not None and seconds >= 60 * minutes:
        return (
            f"no ABC generation finished within the time budget ({minutes:g} minutes, "
            f"{used} runs): raise --max-minutes (or abc.max_minutes)"
        )
    if used >= budget:
        return (
            f"no ABC generation finished within the simulation budget ({budget} runs; "
            "pyabc's calibration sample and the first generation need about twice the "
            "particles): raise --max-simulations (or abc.max_simulations)"
        )
    return (
        f"no ABC generation finished: pyabc stopped after {used} runs (acceptance rate "
        "below abc.min_acceptance_rate): lower it, or widen the priors"
    )


def stop_reason(
    generations: pd.DataFrame,
    settings: Any,
    simulations: int,
    budget: int,
    gens: int,
    minutes: float | None,
    seconds: float,
    dropped: int = 0,
    degenerate: int = 0,
) -> str:
    """Why an ABC-SMC run stopped: the first of its stopping rules that was met.

    ``dropped`` counts generations cut short by the time budget, ``degenerate`` those
    whose effective sample size fell below ``settings.min_ess`` (not kept).
    """
    last = generations.iloc[-1]
    if degenerate:
        return (
            f"effective sample size of generation {int(last['t']) + 1} below "
            f"{settings.min_ess:g} (abc.min_ess): that generation was not kept, the "
            f"posterior is generation {int(last['t'])}"
        )
    if dropped or (minutes is not None and seconds >= 60 * minutes):
        reason = f"time budget ({minutes:g} minutes) reached"
        if dropped:
            reason += "; the generation running then was dropped"
        return reason
    if simulations > budget:
        return (
            f"simulation budget of {budget} runs reached after {simulations}: "
            "pyabc checks it between generations"
        )
    if simulations == budget:
        return f"simulation budget ({budget} runs) reached"
    if len(generations) >= gens:
        return f"maximum number of generations ({gens}) reached"
    if last["acceptance_rate"] < settings.min_acceptance_rate:
        return f"acceptance rate below {settings.min_acceptance_rate}"
    if float(last["epsilon"]) <= settings.min_epsilon:
        return f"epsilon below {settings.min_epsilon}"
    return (
        f"acceptance rate below {settings.min_acceptance_rate} in generation "
        f"{int(last['t']) + 1} (pyabc stopped it after "
        f"{int(round(int(last['particles']) / settings.min_acceptance_rate))} proposals)"
    )


def load_result(calibration: Calibration, folder: Path) -> ABCResult:
    """Rebuild the ABC-SMC result of an earlier ``mtsim calibrate`` from its output folder.

    Reads ``posterior.csv``, ``generations.csv`` and ``calibration.json`` (``mtsim
    calibrate --outputs-only`` redoes the predictive runs, the point estimate, the
    tables and figures from them, without fitting again).

    Raises:
        UserError: a file is missing, or the fit was of other parameters or another mode.
    """
    import json

    folder = Path(folder)
    check_earlier_fit(folder)
    files = {n: folder / n for n in EARLIER_FIT_FILES}
    try:
        info = json.loads(files["calibration.json"].read_text(encoding="utf-8"))
        particles = pd.read_csv(files["posterior.csv"])
        generations = pd.read_csv(files["generations.csv"])
    except (OSError, ValueError) as exc:
        raise UserError(f"--outputs-only: {folder}: cannot read the earlier fit ({exc})") from None
    names = calibration.parameter_names
    missing = [n for n in [*names, "weight", "distance"] if n not in particles.columns]
    if missing:
        raise UserError(
            f"--outputs-only: {files['posterior.csv']}: no column {missing[0]!r}: "
            "the earlier fit was of other parameters"
        )
    mode = "holdout" if calibration.holdout else "full"
    if info.get("mode") != mode:
        raise UserError(
            f"--outputs-only: {files['calibration.json']}: the earlier fit was "
            f"{info.get('mode')!r}, this one is {mode!r}"
        )
    particles = particles[[*names, "weight", "distance"]].copy()  # weights as written (sum 1)
    settings = calibration.config.abc
    config = info.get("config", {}).get("abc", {})
    reason = info.get("stop_reason") or stop_reason(  # as the fit wrote it, if it did
        generations,
        settings,
        int(info.get("simulations", 0)),
        int(config.get("max_simulations", settings.max_simulations)),
        int(config.get("max_generations", settings.max_generations)),
        config.get("max_minutes", settings.max_minutes),
        float(info.get("abc_seconds", 0.0)),
    )
    return ABCResult(
        calibration=calibration,
        particles=particles,
        generations=generations,
        simulations=int(info.get("simulations", 0)),
        seconds=float(info.get("abc_seconds", 0.0)),
        sampler=str(info.get("sampler", "")),
        workers=int(info.get("workers", 1)),
        database=folder / "abc.db",
        stop_reason=reason,
    )


def posterior_draws(result: ABCResult, draws: int, seed: int) -> list[dict[str, float]]:
    """Resample ``draws`` parameter points from the weighted posterior (seeded)."""
    rng = np.random.default_rng(seed)
    p = result.particles["weight"].to_numpy()
    index = rng.choice(len(p), size=draws, replace=True, p=p / p.sum())
    names = result.calibration.parameter_names
    rows = result.particles[names].to_numpy()
    return [dict(zip(names, map(float, rows[i]), strict=True)) for i in index]


def _simulate_task(args: tuple[Calibration, dict[str, float], int]) -> dict[str, np.ndarray]:
    calibration, point, seed = args
    return calibration.simulate(point, seed)


def simulate_points(
    calibration: Calibration,
    points: list[dict[str, float]],
    seeds: list[int],
    workers: int = 1,
) -> dict[str, np.ndarray]:
    """Run each point once with its seed; per series an array (runs x steps + 1)."""
    tasks = [(calibration, p, s) for p, s in zip(points, seeds, strict=True)]
    if workers > 1 and len(tasks) > 1:
        pool = new_process_pool(workers)
        finished = False
        try:
            chunk = max(1, len(tasks) // 16)
            results = map_in_order(pool, _simulate_task, tasks, chunksize=chunk)
            finished = True
        finally:
            stop_process_pool(pool, now=not finished)
    else:
        results = [_simulate_task(t) for t in tasks]
    return {n: np.array([r[n] for r in results]) for n in calibration.series_names}


__all__ = [
    "ABCResult",
    "SeriesDistance",
    "WatchedMulticoreSampler",
    "simulation_model",
    "load_result",
    "local_workers",
    "open_sampler",
    "posterior_draws",
    "run_abc",
    "simulate_points",
    "weighted_quantiles",
]

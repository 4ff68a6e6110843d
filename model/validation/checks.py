"""Docking experiments: the real model, in its classic configurations, against known results.

Every check builds ordinary scenarios (``word_of_mouth.rule`` bass,
independent_cascade or linear_threshold, with no merchants and no KOLs, so that
nothing but word of mouth makes anyone aware) and runs them through
``model.market.MarketModel`` / ``run_model``: the same code a user runs, not a
re-implementation. Each check returns rows of (expected, measured, tolerance,
pass) and the data for its figure. Tolerances come from the number of runs:

- a mean curve over R replications of N consumers is compared at every step
  with tolerance ``4 SE``, ``SE = max(sd_t / sqrt(R), sqrt(F(1-F)/(N R)))`` (the
  empirical standard error, floored by that of a binomial mean);
- a frequency over R runs against a theoretical probability P with tolerance
  ``4 sqrt(P (1-P) / R)`` (binomial);
- a frequency over R runs against an independent simulation's frequency over
  R_ref runs with tolerance ``4 sqrt(P (1-P) (1/R + 1/R_ref))``; a reference of 0
  uses ``P = 0.01`` (rare events in finite graphs);
- a mean of the large outbreaks with tolerance ``4 sd / sqrt(n_large)``;
- two implementations on the same graphs and seed sets with a two-sample
  Kolmogorov-Smirnov test at the 1% level (pass: p >= 0.01).

Four standard errors keep the family-wise false-alarm rate low (two-sided
p = 6e-5 per comparison; about 0.3% over the ~50 comparisons of a Bass curve)
while still failing on real deviations of a few per cent. The run counts are
chosen per comparison (``runs_for_frequency``) so that, in ``--quick`` too, a
frequency tolerance stays within 20% of a reference value of 0.3 or more (0.06
below it), up to the most runs the settings allow: a 25% error fails.

The checks (``CHECKS``):

- ``bass``: fully mixed Bass with p = 0.03, q = 0.38 (Sultan, Farley and Lehmann
  1990 averages) and two other settings, mean curve vs the discrete recursion.
- ``bass_closed_form``: the same rule run with k sub-steps per time unit
  (p/k, q/k), vs the continuous closed form; the tolerance adds the known
  discretisation gap of k sub-steps.
- ``watts_cascades``: linear threshold phi = 0.18 on Erdős–Rényi graphs, one
  random seed; frequency of global cascades (> 10% of nodes) vs an independent
  threshold-cascade simulation on graphs of the same size
  (``reference.simulate_threshold_cascades``), at z = 1, 1.2, 2, 3, 5, 5.7, 6.5:
  both edges of the analytic window 1.02 < z < 5.76 and outside it. Watts's
  analytic chance is the infinite-graph limit and undershoots finite graphs near
  the upper edge, so it is drawn for comparison, not tested against.
- ``ic_percolation``: independent cascade on ER z = 4; mean size of large
  outbreaks (> 5% of nodes) and their frequency vs S = 1 - exp(-z T S), and no
  large outbreaks below T = 1/z.
- ``ndlib_independent_cascade`` and ``ndlib_threshold``: the same runs through
  NDlib on the same graphs and seed sets (NDlib is a test dependency; without
  it these checks are reported as skipped).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from model.validation import reference as ref

#: cascade share above which a threshold cascade counts as global (Watts 2002)
GLOBAL_CASCADE = 0.10
#: outbreak share above which an independent cascade counts as large
LARGE_OUTBREAK = 0.05
#: standard errors allowed between measured and expected
K_SE = 4.0
#: significance level of the two-sample tests against NDlib
ALPHA = 0.01
#: rate at which the binomial SE of an expected 0 (or 1) frequency is taken: finite graphs
#: allow rare events the infinite-size theory excludes (e.g. about 1 run in 200 cascades at
#: z = 6.5 on 10,000 nodes, just outside the Watts window)
RARE_RATE = 0.01
#: a frequency check must fail on an error of this share of the expected value (so a
#: 25% error fails with room to spare) ...
MAX_RELATIVE_ERROR = 0.2
#: ... taken of at least this value (an error of 0.075 fails at any expected value)
SMALL_SHARE = 0.3


# --------------------------------------------------------------------------- results


@dataclass
class CheckRow:
    """One comparison: a row of the validation table.

    Attributes:
        check: the check (figure) it belongs to.
        name: what is compared.
        expected: reference value.
        measured: value from the model.
        tolerance: allowed deviation (or bound, see ``rule``).
        passed: whether the comparison holds.
        rule: how pass is decided, e.g. ``|measured - expected| <= tolerance``.
        note: where the reference and the tolerance come from.
        criterion: the pass criterion in a few words with its numbers, as the table prints
            it (empty: ``|measured - expected| <= tolerance`` with the tolerance's value).
        details: extra numbers kept in validation.json.
    """

    check: str
    name: str
    expected: float
    measured: float
    tolerance: float
    passed: bool
    rule: str = "|measured - expected| <= tolerance"
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    criterion: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "check": self.check,
            "name": self.name,
            "expected": _json_float(self.expected),
            "measured": _json_float(self.measured),
            "tolerance": _json_float(self.tolerance),
            "passed": bool(self.passed),
            "rule": self.rule,
            "note": self.note,
            "criterion": self.criterion or f"|measured - expected| <= {self.tolerance:.4g}",
            "details": _jsonable(self.details),
        }


@dataclass
class CheckOutcome:
    """The result of one check.

    Attributes:
        name: check name.
        title: one-line description.
        rows: its comparisons.
        skipped: reason when the check could not run (e.g. NDlib missing), else None.
        seconds: wall time.
        data: what its figure plots.
        figure: path of the figure once written.
    """

    name: str
    title: str
    rows: list[CheckRow] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)
    figure: Path | None = None

    @property
    def passed(self) -> bool:
        """True when every row passed (a skipped check does not fail)."""
        return all(r.passed for r in self.rows)


def _json_float(x: float) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float):
        return _json_float(obj)
    return obj


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """Sizes of the docking experiments.

    Attributes:
        seed: base seed; every run's seed derives from it.
        bass_consumers: population of the Bass runs.
        bass_replications: replications per Bass setting.
        bass_steps: steps of the Bass runs.
        closed_form_substeps: model steps per time unit in the closed-form check.
        closed_form_horizon: time units of the closed-form check.
        closed_form_consumers: population of the closed-form runs.
        closed_form_replications: replications of the closed-form check.
        watts_nodes: graph size of the threshold cascades.
        watts_runs: most runs (graph and seed) per mean degree; each z gets what
            ``runs_for_frequency`` asks for, between ``min_runs`` and this.
        watts_degrees: mean degrees z tried (both edges of the window included).
        watts_reference_graphs: graphs of the independent reference simulation per z.
        watts_reference_seeds: cascades per reference graph.
        ic_nodes: graph size of the independent cascades.
        ic_runs: most runs per transmission (chosen as for ``watts_runs``).
        ic_transmissions: supercritical transmissions T (z = 4).
        ic_subcritical: transmissions below 1/z.
        ndlib_nodes: graph size of the NDlib comparisons.
        ndlib_graphs: graphs (each with its own seed set).
        ndlib_runs_per_graph: runs per graph and implementation.
        min_runs: fewest runs of a frequency check.
    """

    seed: int = 20240601
    bass_consumers: int = 10_000
    bass_replications: int = 60
    bass_steps: int = 40
    closed_form_substeps: int = 20
    closed_form_horizon: int = 20
    closed_form_consumers: int = 5000
    closed_form_replications: int = 40
    watts_nodes: int = 10_000
    watts_runs: int = 1000
    watts_degrees: tuple[float, ...] = (1.0, 1.2, 2.0, 3.0, 5.0, 5.7, 6.5)
    watts_reference_graphs: int = 200
    watts_reference_seeds: int = 20
    ic_nodes: int = 5000
    ic_runs: int = 900
    ic_transmissions: tuple[float, ...] = (0.3, 0.4, 0.5)
    ic_subcritical: tuple[float, ...] = (0.15, 0.2)
    ndlib_nodes: int = 2000
    ndlib_graphs: int = 20
    ndlib_runs_per_graph: int = 20
    min_runs: int = 200


FULL = Settings()
"""The full validation (about 2 minutes with two workers)."""

QUICK = Settings(
    bass_consumers=2000,
    bass_replications=20,
    bass_steps=25,
    closed_form_substeps=10,
    closed_form_horizon=12,
    closed_form_consumers=2000,
    closed_form_replications=15,
    watts_nodes=2000,
    watts_runs=1000,
    watts_degrees=(1.5, 3.0, 5.0, 5.5, 6.5),
    watts_reference_graphs=300,
    watts_reference_seeds=20,
    ic_nodes=3000,
    ic_runs=400,
    ic_transmissions=(0.4, 0.5),
    ic_subcritical=(0.2,),
    ndlib_nodes=1000,
    ndlib_graphs=8,
    ndlib_runs_per_graph=10,
    min_runs=100,
)
"""``--quick``: the same checks with fewer and smaller runs (about 20 s with two workers)."""


# --------------------------------------------------------------------------- running the model


@dataclass(frozen=True)
class DiffusionTask:
    """One model run of a docking experiment (picklable).

    Attributes:
        scenario: scenario data (validated in the worker).
        seed: the run's seed.
        steps: fixed number of steps (None: until a step makes nobody newly aware).
        max_steps: cap when running until quiet.
        keep_nodes: return the ids of the aware consumers at the end.
    """

    scenario: dict[str, Any]
    seed: int
    steps: int | None = None
    max_steps: int = 2000
    keep_nodes: bool = False


@dataclass
class DiffusionOutcome:
    """What one run produced.

    Attributes:
        curve: aware share per step (the ``aware_share`` metric), steps 0..end.
        final: aware share at the end.
        steps: steps run.
        nodes: aware consumer ids at the end (when asked for).
    """

    curve: np.ndarray
    final: float
    steps: int
    nodes: np.ndarray | None = None


def run_diffusion(task: DiffusionTask) -> DiffusionOutcome:
    """Run the real model for one docking task."""
    from model.market import MarketModel
    from model.scenario import scenario_from_dict

    scenario = scenario_from_dict(task.scenario, source="validation")
    model = MarketModel(scenario, seed=task.seed)
    if task.steps is not None:
        for _ in range(task.steps):
            model.step()
    else:
        # no merchants and no KOLs: awareness changes only through word of mouth, so a
        # step that makes nobody newly aware leaves the state fixed (threshold rule) or
        # ends the cascade (independent cascade: only the newly aware transmit)
        while model.steps < task.max_steps:
            model.step()
            if not model.consumers.newly_aware.any():
                break
    curve = model.timeseries()["aware_share"].to_numpy(dtype=float)
    nodes = np.flatnonzero(model.consumers.aware) if task.keep_nodes else None
    return DiffusionOutcome(curve, float(model.consumers.aware.mean()), int(model.steps), nodes)


def _map(tasks: Sequence[DiffusionTask], executor: Executor | None) -> list[DiffusionOutcome]:
    if executor is None:
        return [run_diffusion(t) for t in tasks]
    from model.experiment.runner import map_in_order  # Ctrl-C acts between waits only

    return map_in_order(executor, run_diffusion, tasks, chunksize=max(1, len(tasks) // 16))


def word_of_mouth_scenario(
    consumers: int,
    network: dict[str, Any],
    word_of_mouth: dict[str, Any],
    steps: int = 50,
    name: str = "validation",
) -> dict[str, Any]:
    """Scenario data isolating word of mouth: no merchants, no KOLs, one classic rule.

    The Mesa network space is not built (``space_max_consumers: 0``): it is not
    used by any mechanism and only costs time.
    """
    wom = {"initial_aware": 0.0, **word_of_mouth}
    return {
        "name": name,
        "description": "docking experiment (mtsim validate): word of mouth only",
        "simulation": {"steps": steps, "space_max_consumers": 0},
        "population": {"consumers": consumers, "merchants": 0, "kols": 0},
        "network": network,
        "word_of_mouth": wom,
    }


def _seeds(settings: Settings, offset: int, count: int) -> list[int]:
    return [settings.seed + offset + i for i in range(count)]


# --------------------------------------------------------------------------- Bass


BASS_SETTINGS: tuple[tuple[float, float, float], ...] = (
    (0.03, 0.38, 0.0),  # Sultan, Farley and Lehmann (1990) averages
    (0.01, 0.5, 0.01),  # imitation-driven, with 1% aware at the start
    (0.1, 0.0, 0.0),  # pure innovation: F(t) = 1 - 0.9^t
)


def compare_curve(
    check: str,
    label: str,
    curves: np.ndarray,
    reference: np.ndarray,
    consumers: int,
    extra_tolerance: np.ndarray | None = None,
    note: str = "",
    reference_name: str = "recursion F(t)",
) -> tuple[CheckRow, dict[str, Any]]:
    """Compare a mean curve with a reference at every step (tolerance 4 SE per step).

    The row shows the worst step (largest deviation over tolerance).
    """
    reps = curves.shape[0]
    mean = curves.mean(axis=0)
    sd = curves.std(axis=0, ddof=1) if reps > 1 else np.zeros_like(mean)
    se = np.maximum(sd / math.sqrt(reps), ref.binomial_standard_error(reference, consumers * reps))
    tol = K_SE * se
    if extra_tolerance is not None:
        tol = tol + extra_tolerance
    dev = np.abs(mean - reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(tol > 0, dev / tol, np.where(dev > 0, np.inf, 0.0))
    worst = int(np.argmax(ratio))
    passed = bool(np.all(dev <= tol + 1e-12))
    row = CheckRow(
        check=check,
        name=f"{label}: mean aware share vs {reference_name}, worst step t={worst}",
        expected=float(reference[worst]),
        measured=float(mean[worst]),
        tolerance=float(tol[worst]),
        passed=passed,
        rule="|mean(t) - F(t)| <= tol(t) at every step t",
        criterion=f"|diff| <= 4 SE, all {len(mean)} steps (here {float(tol[worst]):.4f})",
        note=note,
        details={
            "steps": len(mean),
            "replications": reps,
            "consumers": consumers,
            "max_abs_deviation": float(dev.max()),
            "max_deviation_over_tolerance": float(ratio.max()),
            "steps_failing": int(np.sum(dev > tol + 1e-12)),
        },
    )
    data = {"mean": mean, "tolerance": tol, "reference": reference, "label": label}
    return row, data


def check_bass(settings: Settings, executor: Executor | None = None) -> CheckOutcome:
    """Fully mixed Bass diffusion vs the discrete recursion, at every step."""
    out = CheckOutcome("bass", "Bass diffusion on a fully mixed population vs the recursion")
    n, reps, steps = settings.bass_consumers, settings.bass_replications, settings.bass_steps
    series = []
    for index, (p, q, f0) in enumerate(BASS_SETTINGS):
        scenario = word_of_mouth_scenario(
            n,
            {"kind": "complete"},
            {"rule": "bass", "innovation": p, "imitation": q, "initial_aware": f0},
            steps=steps,
            name=f"validation_bass_{index}",
        )
        tasks = [
            DiffusionTask(scenario, s, steps=steps) for s in _seeds(settings, 1000 * index, reps)
        ]
        curves = np.array([o.curve for o in _map(tasks, executor)])
        f0_exact = round(f0 * n) / n
        reference = ref.bass_recursion(p, q, steps, f0=f0_exact)
        row, data = compare_curve(
            out.name,
            f"p={p:g} q={q:g} F0={f0_exact:g}",
            curves,
            reference,
            n,
            note=(
                "F(t+1) = F(t) + (p + q F(t))(1 - F(t)); tolerance 4 SE of the mean of "
                f"{reps} runs of {n} consumers"
            ),
        )
        out.rows.append(row)
        data["runs"] = curves[: min(reps, 10)]
        series.append(data)
    out.data = {"series": series}
    return out


def check_bass_closed_form(settings: Settings, executor: Executor | None = None) -> CheckOutcome:
    """Bass with k sub-steps per time unit vs the continuous closed form."""
    out = CheckOutcome(
        "bass_closed_form", "Bass with sub-steps (p/k, q/k) vs the continuous closed form"
    )
    p, q = 0.03, 0.38
    k, horizon = settings.closed_form_substeps, settings.closed_form_horizon
    n, reps = settings.closed_form_consumers, settings.closed_form_replications
    steps = k * horizon
    scenario = word_of_mouth_scenario(
        n,
        {"kind": "complete"},
        {"rule": "bass", "innovation": p / k, "imitation": q / k},
        steps=steps,
        name="validation_bass_substeps",
    )
    tasks = [DiffusionTask(scenario, s, steps=steps) for s in _seeds(settings, 5000, reps)]
    curves = np.array([o.curve[::k] for o in _map(tasks, executor)])
    times = np.arange(horizon + 1)
    closed = ref.bass_closed_form(p, q, times)
    gap = np.abs(ref.bass_substep_recursion(p, q, horizon, k) - closed)
    row, data = compare_curve(
        out.name,
        f"p={p:g} q={q:g}, k={k} sub-steps",
        curves,
        closed,
        n,
        extra_tolerance=gap,
        reference_name="closed form F(t)",
        note=(
            "F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t) at whole time units; tolerance "
            f"4 SE ({reps} runs of {n}) + the discretisation gap of {k} sub-steps "
            f"(at most {gap.max():.4f})"
        ),
    )
    row.details["max_discretisation_gap"] = float(gap.max())
    out.rows.append(row)
    fine = np.linspace(0, horizon, 400)
    out.data = {
        "times": times,
        "mean": data["mean"],
        "tolerance": data["tolerance"],
        "fine_times": fine,
        "closed_form": ref.bass_closed_form(p, q, fine),
        "recursion_unit_steps": ref.bass_recursion(p, q, horizon),
        "substeps": k,
    }
    return out


# --------------------------------------------------------------------------- Watts 2002


def compare_frequency(
    check: str,
    name: str,
    hits: int,
    runs: int,
    expected: float,
    note: str,
    details: dict[str, Any] | None = None,
) -> CheckRow:
    """Compare a frequency (hits of runs) with an expected probability, tolerance 4 binomial SE.

    The SE is taken at the expected probability, or at ``RARE_RATE`` when that is 0 or 1.
    """
    p_scale = expected if 0.0 < expected < 1.0 else RARE_RATE
    tol = K_SE * math.sqrt(p_scale * (1.0 - p_scale) / runs)
    measured = hits / runs
    return CheckRow(
        check=check,
        name=name,
        expected=expected,
        measured=measured,
        tolerance=tol,
        passed=abs(measured - expected) <= tol,
        criterion=f"|diff| <= {tol:.4f} (4 SE)",
        note=note,
        details={"runs": runs, "hits": hits, **(details or {})},
    )


def _watts_reference(job: tuple[int, float, float, int, int, int]) -> ref.CascadeSimulation:
    """Simulate the independent finite-size reference at one mean degree (picklable)."""
    n, z, phi, graphs, seeds_per_graph, seed = job
    return ref.simulate_threshold_cascades(
        n, z, phi, graphs, seeds_per_graph, seed, global_share=GLOBAL_CASCADE
    )


def runs_for_frequency(
    expected: float, max_runs: int, min_runs: int, reference_runs: int | None = None
) -> int:
    """Return the runs needed so that a frequency check fails on a 20% error of ``expected``.

    The tolerance ``4 sqrt(P (1 - P) (1/R + 1/R_ref))`` (without the reference
    term when ``reference_runs`` is None) must not exceed
    ``MAX_RELATIVE_ERROR * max(expected, SMALL_SHARE)``; ``P`` is ``expected``
    kept within ``[RARE_RATE, 1 - RARE_RATE]``. The answer is clipped to
    ``[min_runs, max_runs]``.
    """
    p = min(max(expected, RARE_RATE), 1.0 - RARE_RATE)
    target = MAX_RELATIVE_ERROR * max(expected, SMALL_SHARE)
    room = target**2 / (K_SE**2 * p * (1.0 - p))
    if reference_runs:
        room -= 1.0 / reference_runs
    if room <= 0:
        return max_runs
    return int(min(max_runs, max(min_runs, math.ceil(1.0 / room))))


def compare_two_frequencies(
    check: str,
    name: str,
    hits: int,
    runs: int,
    reference_hits: int,
    reference_runs: int,
    note: str,
    details: dict[str, Any] | None = None,
) -> CheckRow:
    """Compare a frequency with a reference frequency from an independent simulation.

    Tolerance: 4 standard errors of the difference of two binomial shares,
    ``4 sqrt(P (1 - P) (1/R + 1/R_ref))`` with ``P`` the reference share (at least
    ``RARE_RATE`` and at most ``1 - RARE_RATE``, so that a reference of 0 still
    allows rare events).
    """
    expected = reference_hits / reference_runs
    p_scale = min(max(expected, RARE_RATE), 1.0 - RARE_RATE)
    tol = K_SE * math.sqrt(p_scale * (1.0 - p_scale) * (1.0 / runs + 1.0 / reference_runs))
    measured = hits / runs
    return CheckRow(
        check=check,
        name=name,
        expected=expected,
        measured=measured,
        tolerance=tol,
        passed=abs(measured - expected) <= tol,
        rule="|measured - expected| <= 4 SE of the difference of two binomial shares",
        criterion=f"|diff| <= {tol:.4f} (4 SE)",
        note=note,
        details={
            "runs": runs,
            "hits": hits,
            "reference_runs": reference_runs,
            "reference_hits": reference_hits,
            **(details or {}),
        },
    )


def check_watts_cascades(settings: Settings, executor: Executor | None = None) -> CheckOutcome:
    """Linear-threshold cascades (phi = 0.18) on ER graphs: global cascade frequency vs z.

    The reference at each z is an independent simulation at the same graph size
    (``reference.simulate_threshold_cascades``: its own graph generator and cascade
    code), because Watts's analytic chance is an infinite-graph limit that finite
    graphs exceed near the upper edge of the window. The analytic chance is kept in
    the figure and in each row's details.
    """
    out = CheckOutcome(
        "watts_cascades",
        "Threshold cascades (Watts 2002): phi = 0.18, ER graphs, one random seed",
    )
    phi, n = 0.18, settings.watts_nodes
    graphs, per_graph = settings.watts_reference_graphs, settings.watts_reference_seeds
    low, high = ref.watts_window(phi)
    jobs = [
        (n, z, phi, graphs, per_graph, settings.seed + 90_000 + index)
        for index, z in enumerate(settings.watts_degrees)
    ]
    if executor is None:
        references = [_watts_reference(job) for job in jobs]
    else:
        from model.experiment.runner import map_in_order

        references = map_in_order(executor, _watts_reference, jobs)
    points = []
    for index, (z, reference) in enumerate(zip(settings.watts_degrees, references, strict=True)):
        scenario = word_of_mouth_scenario(
            n,
            {"kind": "erdos_renyi", "mean_degree": z},
            {"rule": "linear_threshold", "threshold": phi, "initial_aware_count": 1},
            name=f"validation_watts_z{z:g}",
        )
        offset = 100_000 + 10_000 * index
        runs = runs_for_frequency(
            reference.frequency, settings.watts_runs, settings.min_runs, reference.runs
        )
        tasks = [DiffusionTask(scenario, s) for s in _seeds(settings, offset, runs)]
        finals = np.array([o.final for o in _map(tasks, executor)])
        cascades = finals > GLOBAL_CASCADE
        analytic = ref.watts_cascade_probability(z, phi)
        inside = low < z < high
        out.rows.append(
            compare_two_frequencies(
                out.name,
                f"z={z:g}: share of runs with a global cascade, model vs independent simulation",
                int(cascades.sum()),
                runs,
                reference.hits,
                reference.runs,
                note=(
                    f"reference: {reference.runs} cascades ({graphs} independent ER graphs x "
                    f"{per_graph} seeds) of an independent threshold-cascade code on {n} nodes; "
                    f"model: {runs} runs; z {'inside' if inside else 'outside'} the analytic "
                    f"window ({low:.2f}, {high:.2f}), Watts's analytic chance {analytic:.3f}"
                ),
                details={
                    "mean_degree": z,
                    "analytic": analytic,
                    "mean_cascade_size": float(finals[cascades].mean()) if cascades.any() else 0.0,
                    "reference_mean_cascade_size": reference.mean_size,
                    "largest_final_share": float(finals.max()),
                },
            )
        )
        points.append(
            {
                "z": z,
                "runs": runs,
                "frequency": cascades.mean(),
                "reference": reference.frequency,
                "tolerance": out.rows[-1].tolerance,
                "mean_size": float(finals[cascades].mean()) if cascades.any() else 0.0,
            }
        )
    grid = np.linspace(0.2, 8.0, 300)
    out.data = {
        "points": points,
        "grid": grid,
        "analytic": np.array([ref.watts_cascade_probability(z, phi) for z in grid]),
        "window": (low, high),
        "phi": phi,
        "nodes": n,
        "runs": f"{min(p['runs'] for p in points)}-{max(p['runs'] for p in points)}",
        "reference_runs": graphs * per_graph,
    }
    return out


# --------------------------------------------------------------------------- percolation


def check_ic_percolation(settings: Settings, executor: Executor | None = None) -> CheckOutcome:
    """Independent cascades on ER z = 4 vs bond percolation (S = 1 - exp(-z T S))."""
    out = CheckOutcome(
        "ic_percolation",
        "Independent cascade on ER graphs (z = 4) vs the percolation giant cluster",
    )
    z, n = 4.0, settings.ic_nodes
    points = []
    transmissions = tuple(settings.ic_subcritical) + tuple(settings.ic_transmissions)
    for index, t in enumerate(transmissions):
        scenario = word_of_mouth_scenario(
            n,
            {"kind": "erdos_renyi", "mean_degree": z},
            {"rule": "independent_cascade", "transmission": t, "initial_aware_count": 1},
            name=f"validation_ic_T{t:g}",
        )
        s_ref = ref.percolation_giant_component(z, t)
        subcritical = t <= ref.percolation_threshold(z)
        runs = (
            settings.min_runs
            if subcritical
            else runs_for_frequency(s_ref, settings.ic_runs, settings.min_runs)
        )
        tasks = [DiffusionTask(scenario, s) for s in _seeds(settings, 50_000 + 1000 * index, runs)]
        finals = np.array([o.final for o in _map(tasks, executor)])
        large = finals > LARGE_OUTBREAK
        if subcritical:
            out.rows.append(
                CheckRow(
                    check=out.name,
                    name=f"T={t:g} < 1/z: largest final share of {runs} runs",
                    expected=0.0,
                    measured=float(finals.max()),
                    tolerance=LARGE_OUTBREAK,
                    passed=bool(finals.max() <= LARGE_OUTBREAK),
                    rule="max final share <= tolerance (no large outbreak)",
                    criterion=f"max <= {LARGE_OUTBREAK:g}",
                    note=(
                        f"below the percolation threshold T = 1/z = {1 / z:g} outbreaks stay "
                        f"small: none of {runs} may exceed {LARGE_OUTBREAK:.0%} of {n} nodes"
                    ),
                    details={"runs": runs, "mean_final_share": float(finals.mean())},
                )
            )
        else:
            sizes = finals[large]
            if sizes.size >= 2:
                tol = K_SE * float(sizes.std(ddof=1)) / math.sqrt(sizes.size)
                measured = float(sizes.mean())
            else:
                tol, measured = 0.0, float(sizes.mean()) if sizes.size else 0.0
            out.rows.append(
                CheckRow(
                    check=out.name,
                    name=f"T={t:g}: mean size of large outbreaks vs percolation giant cluster S",
                    expected=s_ref,
                    measured=measured,
                    tolerance=tol,
                    passed=sizes.size >= 2 and abs(measured - s_ref) <= tol,
                    criterion=f"|diff| <= {tol:.4f} (4 SE)",
                    note=(
                        "root of S = 1 - exp(-z T S); tolerance 4 SE of the mean over the "
                        f"{sizes.size} large outbreaks (> {LARGE_OUTBREAK:.0%}) of {runs} runs"
                    ),
                    details={"runs": runs, "large": int(sizes.size)},
                )
            )
            out.rows.append(
                compare_frequency(
                    out.name,
                    f"T={t:g}: share of runs with a large outbreak (>5%) vs S",
                    int(large.sum()),
                    runs,
                    s_ref,
                    note=(
                        "on a Poisson graph one seed starts a large outbreak with probability "
                        f"S too; tolerance 4 binomial SE of {runs} runs"
                    ),
                )
            )
        points.append(
            {
                "T": t,
                "mean_large": float(finals[large].mean()) if large.any() else 0.0,
                "frequency_large": float(large.mean()),
                "finals": finals,
            }
        )
    grid = np.linspace(0.0, 1.0, 400)
    out.data = {
        "z": z,
        "points": points,
        "grid": grid,
        "analytic": np.array([ref.percolation_giant_component(z, t) for t in grid]),
        "nodes": n,
    }
    return out


# --------------------------------------------------------------------------- NDlib


def ndlib_available() -> str | None:
    """None when NDlib can be imported, else the reason it cannot."""
    try:
        import ndlib.models.epidemics  # noqa: F401
        import ndlib.models.ModelConfig  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        return f"NDlib not installed ({exc}); install the test extras: pip install ndlib six"
    return None


def ndlib_final_state(
    n: int,
    edges: np.ndarray,
    seeds: Sequence[int],
    model: str,
    seed: int,
    transmission: float = 0.0,
    thresholds: np.ndarray | None = None,
    max_iterations: int = 2000,
) -> np.ndarray:
    """Run NDlib's IndependentCascadesModel or ThresholdModel to the end; return aware ids.

    NDlib draws from NumPy's *global* generator: it is seeded here with ``seed`` and
    its previous state restored afterwards, so nothing else is affected (the model
    itself never touches global random state).

    Args:
        n: number of nodes.
        edges: edge array (m x 2).
        seeds: initially active nodes.
        model: ``independent_cascade`` or ``linear_threshold``.
        seed: seed of NumPy's global generator for this run.
        transmission: per-edge activation probability (independent cascade).
        thresholds: per-node thresholds (linear threshold).
        max_iterations: safety cap.
    """
    import ndlib.models.epidemics as ep
    import ndlib.models.ModelConfig as mc
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges.tolist())
    state = np.random.get_state()
    try:
        config = mc.Configuration()
        config.add_model_initial_configuration("Infected", [int(s) for s in seeds])
        if model == "independent_cascade":
            diffusion = ep.IndependentCascadesModel(graph, seed=seed)
            for edge in graph.edges():
                config.add_edge_configuration("threshold", edge, transmission)
        elif model == "linear_threshold":
            assert thresholds is not None
            diffusion = ep.ThresholdModel(graph, seed=seed)
            for node in range(n):
                config.add_node_configuration("threshold", node, float(thresholds[node]))
        else:
            raise ValueError(f"unknown model {model!r}")
        diffusion.set_initial_status(config)
        diffusion.iteration(node_status=False)  # iteration 0 only reports the start
        for _ in range(max_iterations):
            result = diffusion.iteration(node_status=False)
            counts = result["node_count"]
            if model == "independent_cascade" and counts.get(1, 0) == 0:
                break
            if model == "linear_threshold" and not any(result["status_delta"].values()):
                break
        status = diffusion.status
    finally:
        np.random.set_state(state)
    return np.array(sorted(node for node, s in status.items() if s != 0), dtype=np.int64)


def _ndlib_graphs(
    settings: Settings, z: float, offset: int, workdir: Path, seeds_per_graph: int = 1
) -> list[tuple[Path, np.ndarray, np.ndarray]]:
    """Graphs made by the model's own ER generator, written as edge lists, with seed sets."""
    from model.market import MarketModel
    from model.scenario import scenario_from_dict

    n = settings.ndlib_nodes
    rng = np.random.default_rng(settings.seed + offset)
    graphs = []
    for g in range(settings.ndlib_graphs):
        data = word_of_mouth_scenario(
            n,
            {"kind": "erdos_renyi", "mean_degree": z},
            {"rule": "independent_cascade"},
            name="validation_graph",
        )
        model = MarketModel(scenario_from_dict(data), seed=settings.seed + offset + g)
        edges = np.column_stack([model.graph.source, model.graph.target]).astype(np.int64)
        path = workdir / f"graph_{offset}_{g}.edgelist"
        np.savetxt(path, edges, fmt="%d")
        seeds = np.sort(rng.choice(n, size=seeds_per_graph, replace=False))
        graphs.append((path, edges, seeds))
    return graphs


def _ks_row(check: str, name: str, ours: np.ndarray, theirs: np.ndarray, note: str) -> CheckRow:
    test = stats.ks_2samp(ours, theirs)
    mwu = stats.mannwhitneyu(ours, theirs) if np.ptp(np.r_[ours, theirs]) > 0 else None
    return CheckRow(
        check=check,
        name=name,
        expected=float("nan"),
        measured=float(test.pvalue),
        tolerance=ALPHA,
        passed=bool(test.pvalue >= ALPHA),
        rule="Kolmogorov-Smirnov p-value >= 0.01 (same distribution of final sizes)",
        criterion=f"KS p >= {ALPHA:g}",
        note=note,
        details={
            "ks_statistic": float(test.statistic),
            "mann_whitney_p": float(mwu.pvalue) if mwu is not None else 1.0,
            "mean_mtsim": float(ours.mean()),
            "mean_ndlib": float(theirs.mean()),
            "runs_each": int(ours.size),
        },
    )


def check_ndlib_independent_cascade(
    settings: Settings, executor: Executor | None = None
) -> CheckOutcome:
    """Compare the independent cascade of mtsim with NDlib's on the same graphs and seed sets."""
    out = CheckOutcome(
        "ndlib_independent_cascade",
        "Independent cascade: mtsim vs NDlib on the same graphs and seed sets",
    )
    reason = ndlib_available()
    if reason:
        out.skipped = reason
        return out
    z, transmission, n = 4.0, 0.3, settings.ndlib_nodes
    with tempfile.TemporaryDirectory(prefix="mtsim-validate-") as tmp:
        graphs = _ndlib_graphs(settings, z, 70_000, Path(tmp))
        tasks, ndlib_jobs = [], []
        for g, (path, edges, seeds) in enumerate(graphs):
            scenario = word_of_mouth_scenario(
                n,
                {"kind": "file", "path": str(path), "format": "edgelist"},
                {
                    "rule": "independent_cascade",
                    "transmission": transmission,
                    "initial_aware_nodes": seeds.tolist(),
                },
                name="validation_ndlib_ic",
            )
            for r in range(settings.ndlib_runs_per_graph):
                seed = settings.seed + 71_000 + g * 1000 + r
                tasks.append(DiffusionTask(scenario, seed))
                ndlib_jobs.append((edges, seeds, seed))
        ours = np.array([o.final for o in _map(tasks, executor)])
    theirs = np.array(
        [
            ndlib_final_state(n, e, s, "independent_cascade", seed, transmission=transmission).size
            / n
            for e, s, seed in ndlib_jobs
        ]
    )
    out.rows.append(
        _ks_row(
            out.name,
            f"KS p-value: final sizes, mtsim vs NDlib (IC T={transmission:g}, z={z:g})",
            ours,
            theirs,
            note=(
                f"{settings.ndlib_graphs} ER graphs of {n} nodes (the model's generator), one "
                f"seed node each, {settings.ndlib_runs_per_graph} runs per graph in each "
                "implementation; two-sample KS at the 1% level"
            ),
        )
    )
    out.data = {"mtsim": ours, "ndlib": theirs, "label": f"IC T={transmission:g}, z={z:g}"}
    return out


def check_ndlib_threshold(settings: Settings, executor: Executor | None = None) -> CheckOutcome:
    """Compare mtsim's linear threshold with NDlib's: exact agreement, random thresholds."""
    out = CheckOutcome(
        "ndlib_threshold",
        "Linear threshold: mtsim vs NDlib on the same graphs and seed sets",
    )
    reason = ndlib_available()
    if reason:
        out.skipped = reason
        return out
    # z = 6 sits near the upper edge of the window: some runs cascade, some do not; phi = 0.2
    # puts degree-5 and degree-10 nodes exactly on the threshold (1/5, 2/10), a rounding test
    phi, spread, z, n = 0.2, 0.1, 6.0, settings.ndlib_nodes
    rng = np.random.default_rng(settings.seed + 80_000)
    with tempfile.TemporaryDirectory(prefix="mtsim-validate-") as tmp:
        graphs = _ndlib_graphs(settings, z, 81_000, Path(tmp), seeds_per_graph=2)
        # identical thresholds: both are deterministic given graph and seeds
        same_tasks, random_tasks, random_jobs = [], [], []
        for g, (path, edges, seeds) in enumerate(graphs):
            network = {"kind": "file", "path": str(path), "format": "edgelist"}
            base = {"rule": "linear_threshold", "initial_aware_nodes": seeds.tolist()}
            same_tasks.append(
                DiffusionTask(
                    word_of_mouth_scenario(n, network, {**base, "threshold": phi}),
                    settings.seed + 82_000 + g,
                    keep_nodes=True,
                )
            )
            spread_scenario = word_of_mouth_scenario(
                n, network, {**base, "threshold": phi, "threshold_spread": spread}
            )
            for r in range(settings.ndlib_runs_per_graph):
                seed = settings.seed + 83_000 + g * 1000 + r
                random_tasks.append(DiffusionTask(spread_scenario, seed))
                thresholds = rng.uniform(max(0.0, phi - spread), min(1.0, phi + spread), size=n)
                random_jobs.append((edges, seeds, seed, thresholds))
        ours_same = _map(same_tasks, executor)
        ours_random = np.array([o.final for o in _map(random_tasks, executor)])
    agree = 0
    same_ours, same_theirs = [], []
    for (_, edges, seeds), outcome in zip(graphs, ours_same, strict=True):
        theirs = ndlib_final_state(
            n, edges, seeds, "linear_threshold", settings.seed, thresholds=np.full(n, phi)
        )
        assert outcome.nodes is not None
        agree += int(np.array_equal(outcome.nodes, theirs))
        same_ours.append(outcome.final)
        same_theirs.append(theirs.size / n)
    out.rows.append(
        CheckRow(
            check=out.name,
            name=(
                f"graphs with identical final aware sets, mtsim vs NDlib (LT phi={phi:g}, z={z:g})"
            ),
            expected=1.0,
            measured=agree / len(graphs),
            tolerance=0.0,
            passed=agree == len(graphs),
            criterion="= 1 (every graph identical)",
            note=(
                "with one threshold for all, both implementations are deterministic given the "
                f"graph and seed set, so every one of {len(graphs)} graphs must end identically"
            ),
            details={"graphs": len(graphs), "final_mtsim": same_ours, "final_ndlib": same_theirs},
        )
    )
    theirs_random = np.array(
        [
            ndlib_final_state(n, e, s, "linear_threshold", seed, thresholds=th).size / n
            for e, s, seed, th in random_jobs
        ]
    )
    out.rows.append(
        _ks_row(
            out.name,
            f"KS p-value: final sizes, mtsim vs NDlib (LT phi={phi:g}+/-{spread:g}, z={z:g})",
            ours_random,
            theirs_random,
            note=(
                f"{settings.ndlib_graphs} ER graphs of {n} nodes, two seeds each, "
                f"{settings.ndlib_runs_per_graph} threshold draws per graph in each "
                "implementation; two-sample KS at the 1% level"
            ),
        )
    )
    out.data = {
        "mtsim": ours_random,
        "ndlib": theirs_random,
        "same_mtsim": np.array(same_ours),
        "same_ndlib": np.array(same_theirs),
        "label": f"LT phi={phi:g}+/-{spread:g}, z={z:g}",
    }
    return out


# --------------------------------------------------------------------------- registry

CheckFunction = Callable[[Settings, Executor | None], CheckOutcome]

CHECKS: dict[str, CheckFunction] = {
    "bass": check_bass,
    "bass_closed_form": check_bass_closed_form,
    "watts_cascades": check_watts_cascades,
    "ic_percolation": check_ic_percolation,
    "ndlib_independent_cascade": check_ndlib_independent_cascade,
    "ndlib_threshold": check_ndlib_threshold,
}
"""Every docking check by name, in the order ``mtsim validate`` runs them."""


def run_checks(
    settings: Settings,
    names: Iterable[str] | None = None,
    executor: Executor | None = None,
    on_done: Callable[[CheckOutcome], None] | None = None,
) -> list[CheckOutcome]:
    """Run the named checks (all by default) and return their outcomes in order."""
    chosen = list(CHECKS) if names is None else list(names)
    outcomes = []
    for name in chosen:
        start = time.perf_counter()
        outcome = CHECKS[name](settings, executor)
        outcome.seconds = time.perf_counter() - start
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    return outcomes


# --------------------------------------------------------------------------- figures


def plot_outcome(outcome: CheckOutcome, path: Path) -> Path | None:
    """Draw the figure of one check to ``path`` (PNG); None for a skipped check."""
    if outcome.skipped or not outcome.data:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    draw = _PLOTTERS[outcome.name]
    fig = draw(plt, outcome)
    verdict = "PASS" if outcome.passed else "FAIL"
    fig.suptitle(f"{outcome.title} [{verdict}]", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    outcome.figure = path
    return path


def _plot_bass(plt: Any, outcome: CheckOutcome) -> Any:
    series = outcome.data["series"]
    fig, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 3.8), squeeze=False)
    for ax, data in zip(axes[0], series, strict=True):
        t = np.arange(data["mean"].size)
        for run in data["runs"]:
            ax.plot(t, run, color="gray", lw=0.5, alpha=0.4)
        ax.plot(t, data["reference"], color="black", lw=1.5, label="recursion F(t)")
        ax.errorbar(
            t,
            data["mean"],
            yerr=data["tolerance"],
            fmt="o",
            ms=3,
            color="tab:blue",
            elinewidth=0.8,
            label="model mean +/- 4 SE",
        )
        ax.set_title(data["label"], fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("aware share")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig


def _plot_closed_form(plt: Any, outcome: CheckOutcome) -> Any:
    d = outcome.data
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(d["fine_times"], d["closed_form"], color="black", label="closed form")
    ax.plot(
        np.arange(d["recursion_unit_steps"].size),
        d["recursion_unit_steps"],
        ls="--",
        color="gray",
        label="recursion, 1 step per unit",
    )
    ax.errorbar(
        d["times"],
        d["mean"],
        yerr=d["tolerance"],
        fmt="o",
        ms=4,
        color="tab:blue",
        label=f"model mean, {d['substeps']} sub-steps per unit (+/- tolerance)",
    )
    ax.set_xlabel("time (units)")
    ax.set_ylabel("aware share")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _plot_watts(plt: Any, outcome: CheckOutcome) -> Any:
    d = outcome.data
    fig, ax = plt.subplots(figsize=(7, 5))
    low, high = d["window"]
    ax.axvspan(low, high, color="tab:orange", alpha=0.12, label=f"window {low:.2f}-{high:.2f}")
    ax.plot(
        d["grid"],
        d["analytic"],
        color="black",
        lw=1,
        label="analytic, infinite graph (extended vulnerable cluster)",
    )
    zs = [p["z"] for p in d["points"]]
    ax.plot(
        zs,
        [p["reference"] for p in d["points"]],
        "D",
        mfc="none",
        ms=8,
        color="black",
        label=f"independent simulation, {d['reference_runs']} cascades on {d['nodes']} nodes",
    )
    ax.errorbar(
        zs,
        [p["frequency"] for p in d["points"]],
        yerr=[p["tolerance"] for p in d["points"]],
        fmt="o",
        color="tab:blue",
        capsize=3,
        label=f"model: share of {d['runs']} runs > 10% (+/- tolerance)",
    )
    ax.plot(
        zs,
        [p["mean_size"] for p in d["points"]],
        "s",
        mfc="none",
        color="tab:red",
        label="model: mean size of global cascades",
    )
    ax.set_xlabel("mean degree z")
    ax.set_ylabel("frequency / size")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
    return fig


def _plot_ic(plt: Any, outcome: CheckOutcome) -> Any:
    d = outcome.data
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(d["grid"], d["analytic"], color="black", label="S: 1 - exp(-z T S) = S")
    ax.axvline(1 / d["z"], color="gray", ls=":", label="T = 1/z")
    for p in d["points"]:
        jitter = np.full(p["finals"].size, p["T"])
        ax.plot(jitter, p["finals"], "_", color="gray", alpha=0.3, ms=8)
    ax.plot(
        [p["T"] for p in d["points"]],
        [p["mean_large"] for p in d["points"]],
        "o",
        color="tab:blue",
        label="model: mean size of large outbreaks",
    )
    ax.plot(
        [p["T"] for p in d["points"]],
        [p["frequency_large"] for p in d["points"]],
        "s",
        mfc="none",
        color="tab:red",
        label="model: share of runs with a large outbreak",
    )
    ax.set_xlim(0, 0.7)
    ax.set_xlabel("transmission T")
    ax.set_ylabel("final share")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def _plot_ndlib(plt: Any, outcome: CheckOutcome) -> Any:
    d = outcome.data
    fig, ax = plt.subplots(figsize=(6, 4))
    for values, label, style in ((d["mtsim"], "mtsim", "-"), (d["ndlib"], "NDlib", "--")):
        x = np.sort(values)
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", ls=style, label=label)
    p = outcome.rows[-1].measured
    ax.set_title(f"{d['label']}: KS p = {p:.3f}", fontsize=9)
    ax.set_xlabel("final aware share")
    ax.set_ylabel("cumulative share of runs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


_PLOTTERS: dict[str, Callable[[Any, CheckOutcome], Any]] = {
    "bass": _plot_bass,
    "bass_closed_form": _plot_closed_form,
    "watts_cascades": _plot_watts,
    "ic_percolation": _plot_ic,
    "ndlib_independent_cascade": _plot_ndlib,
    "ndlib_threshold": _plot_ndlib,
}

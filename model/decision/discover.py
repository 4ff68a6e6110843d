r"""``mtsim discover SWEEP_DIR --outcome EXPR``: scenario discovery with PRIM.

Which ranges of a sweep's uncertain parameters make an outcome expression true?
For example, in which worlds does mobile payment adoption stay below half::

    mtsim sweep experiments/lhs_main.yaml
    mtsim discover results/lhs_main --outcome "payment_adoption_final < 0.5"

Each finished run of the sweep is one case: x = its parameter values (the
design's columns), y = the expression on its outcomes (``<metric>_final``,
``<metric>_mean``, or a bare metric for its final value; parsed safely, see
``model.decision.expression``). PRIM (the Patient Rule Induction Method,
Friedman and Fisher 1999) from the EMA workbench (``ema_workbench.analysis.prim``)
peels the parameter space into boxes where y is mostly true.

Along a box's *peeling trajectory*, each step trades **coverage** (the share of
all cases where y is true that fall in the box) for **density** (the share of
cases in the box where y is true). The box reported is the step with the largest
coverage among those with density at least ``--density`` (default 0.8); when
no step reaches it, the densest step. ``--boxes K`` asks for up to K boxes, each
found on the cases the earlier boxes left out.

Outputs in ``SWEEP_DIR/discovery/`` (or ``--out``): ``boxes.csv`` (per box and
restricted parameter: low, high, and the box's coverage, density, mass),
``peeling.csv`` (every trajectory step), ``peeling.png`` (coverage against
density, the chosen step circled), ``discovery.md`` (the sentences and tables).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import UserError
from model.metrics import format_number

DEFAULT_DENSITY = 0.8


@dataclass
class Box:
    """One box found by PRIM.

    Attributes:
        number: 1, 2, ... in the order found.
        limits: restricted parameter -> (low, high) (both included).
        coverage: share of all cases of interest inside the box.
        density: share of cases inside the box that are of interest.
        mass: share of all cases inside the box.
        step: the chosen step of the peeling trajectory.
        trajectory: the whole peeling trajectory (coverage, density, mass, res_dim, ...).
        bounds: every parameter's full range in the sweep (to tell restricted ends).
        dropped: restrictions PRIM's chosen step had that its quasi-p test does not
            support (p > ``significance``) and whose removal keeps the density (within
            0.02), removed from ``limits``; the statistics are those of the box without them.
    """

    number: int
    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    step: int
    trajectory: pd.DataFrame
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


@dataclass
class Discovery:
    """The result of a discovery.

    Attributes:
        expression: the outcome expression.
        cases: runs used.
        cases_true: runs where the expression is true.
        parameters: the parameter columns.
        boxes: the boxes found.
        sentences: one plain sentence per box.
        files: written files by role.
        seconds: time of the PRIM analysis.
        left_out: run -> why, for each damaged or foreign part of the sweep left out.
    """

    expression: str
    cases: int
    cases_true: int
    parameters: list[str]
    boxes: list[Box]
    sentences: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    left_out: dict[int, str] = field(default_factory=dict)


def _limit(value: float) -> str:
    """Write a box limit with four significant digits."""
    return format_number(value, significant=4)


def box_sentence(box: Box, expression: str, total: int) -> str:
    """Write a plain sentence on one box: where it is, how dense, how much it covers."""
    where = []
    for name, (low, high) in box.limits.items():
        lo_all, hi_all = box.bounds.get(name, (-math.inf, math.inf))
        if low <= lo_all:
            where.append(f"{name} at most {_limit(high)}")
        elif high >= hi_all:
            where.append(f"{name} at least {_limit(low)}")
        else:
            where.append(f"{name} from {_limit(low)} to {_limit(high)}")
    place = " and ".join(where) if where else "anywhere (no parameter restricted)"
    text = (
        f"Box {box.number}: with {place}, '{expression}' holds in {box.density:.0%} of the runs "
        f"(density); the box holds {box.coverage:.0%} of all runs where it holds (coverage) "
        f"and {box.mass:.0%} of the {total} runs (mass)."
    )
    if box.dropped:
        text += f" (Not significant, so left out: {', '.join(box.dropped)}.)"
    return text


def choose_step(trajectory: pd.DataFrame, min_density: float) -> int:
    """Pick the trajectory step with the largest coverage among the dense enough ones.

    Dense enough: density at least ``min_density`` (ties: the denser); when no step is,
    the densest step.
    """
    dense = trajectory[trajectory["density"] >= min_density - 1e-12]
    if dense.empty:
        return int(trajectory["density"].astype(float).idxmax())
    best = dense.sort_values(["coverage", "density"], ascending=[False, False], kind="stable")
    return int(best.index[0])


def find_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    boxes: int = 1,
    min_density: float = DEFAULT_DENSITY,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    significance: float = 0.05,
) -> list[Box]:
    """Run PRIM (EMA workbench) and pick one step of each box's peeling trajectory.

    Args:
        x: parameters, one row per case (numeric columns).
        y: True for the cases of interest.
        boxes: boxes to find at most.
        min_density: density the chosen step should reach.
        peel_alpha: share of cases peeled per step.
        mass_min: smallest box, as a share of all cases.
        significance: restrictions with a quasi-p value above it are dropped.
    """
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.WARNING)
    x = x.astype(float).reset_index(drop=True)
    bounds = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    finder = prim.Prim(x, np.asarray(y, dtype=bool), peel_alpha=peel_alpha, mass_min=mass_min)
    found: list[Box] = []
    hits = np.asarray(y, dtype=bool)
    values = {c: x[c].to_numpy() for c in x.columns}
    for number in range(1, boxes + 1):
        box = finder.find_box()
        if box is None:
            break
        trajectory = box.peeling_trajectory.reset_index(drop=True)
        step = choose_step(trajectory, min_density)
        box.select(step)
        lims = box.box_lims[step]
        limits = {}
        for column in x.columns:
            low, high = float(lims[column].iloc[0]), float(lims[column].iloc[1])
            if low > bounds[column][0] or high < bounds[column][1]:
                limits[column] = (low, high)
        row = trajectory.loc[step]
        if float(row["coverage"]) <= 0:
            break

        # drop restrictions PRIM's quasi-p test does not support (EMA workbench practice),
        # least supported first, as long as the box stays as dense (within 0.02)
        def _stats(lims: dict[str, tuple[float, float]]) -> tuple[float, float, float]:
            inside = np.ones(len(x), dtype=bool)
            for c, (low, high) in lims.items():
                inside &= (values[c] >= low) & (values[c] <= high)
            k = float((hits & inside).sum())
            return k / max(hits.sum(), 1), k / max(inside.sum(), 1), float(inside.mean())

        quasi_p = box.p_values[step] if step < len(box.p_values) else {}
        support = {c: min([v for v in quasi_p.get(c, []) if v >= 0] or [0.0]) for c in limits}
        coverage, density, mass = _stats(limits)
        dropped: list[str] = []
        for c in sorted(limits, key=lambda c: -support[c]):
            if support[c] <= significance or len(limits) - len(dropped) <= 1:
                continue
            trial = {k: v for k, v in limits.items() if k != c and k not in dropped}
            cov, den, ms = _stats(trial)
            if den >= density - 0.02:
                dropped.append(c)
                coverage, density, mass = cov, den, ms
        limits = {c: lim for c, lim in limits.items() if c not in dropped}
        found.append(
            Box(
                number,
                limits,
                coverage,
                density,
                mass,
                step,
                trajectory,
                bounds,
                dropped,
            )
        )
    return found


def load_cases(sweep_dir: str | Path) -> tuple[pd.DataFrame, list[str], dict[int, str]]:
    """Per-run outcomes of a sweep folder, its parameter columns and the parts left out.

    The parts left out (damaged or foreign: ``model.experiment.store.read_results``)
    come as run -> why.

    Raises:
        UserError: a missing folder, not a sweep folder, or no finished runs.
    """
    from model.analysis.sensitivity import parameters_and_outcomes
    from model.experiment.store import load_study, read_results

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UserError(f"{sweep_dir}: no such sweep folder")
    study = load_study(sweep_dir)
    parameters = [p["name"] for p in study.get("parameters", [])]
    results, left_out = read_results(sweep_dir)
    if results.empty:
        raise UserError(f"{sweep_dir}: no finished runs yet (mtsim sweep --resume finishes them)")
    return parameters_and_outcomes(results, parameters), parameters, left_out


def plot_peeling(found: Sequence[Box], path: Path) -> Path:
    """Coverage against density along each box's peeling trajectory; the chosen step circled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(found), figsize=(5.2 * len(found), 4.4), squeeze=False)
    for ax, box in zip(axes.flat, found, strict=True):
        t = box.trajectory
        points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=22)
        ax.plot(t["coverage"], t["density"], color="#bbbbbb", lw=0.8, zorder=0)
        chosen = t.loc[box.step]
        ax.scatter(
            [chosen["coverage"]],
            [chosen["density"]],
            s=160,
            facecolors="none",
            edgecolors="#d62728",
            linewidths=2,
            label=f"chosen (step {box.step})",
        )
        ax.set_xlabel("coverage (share of all cases of interest in the box)")
        ax.set_ylabel("density (share of the box's cases of interest)")
        ax.set_xlim(0, 1.03)
        ax.set_ylim(0, 1.03)
        ax.set_title(f"Box {box.number}: peeling trajectory", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        fig.colorbar(points, ax=ax, label="parameters restricted")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def discover(
    sweep_dir: str | Path,
    expression: str,
    out: str | Path | None = None,
    boxes: int = 1,
    min_density: float = DEFAULT_DENSITY,
) -> Discovery:
    """Find the parameter boxes where an outcome expression holds, and write the outputs.

    Args:
        sweep_dir: a sweep's result folder (``mtsim sweep --out``).
        expression: the outcome expression (``model.decision.expression``).
        out: output folder (default ``SWEEP_DIR/discovery``).
        boxes: boxes to find at most.
        min_density: density the chosen step of each box should reach.

    Raises:
        UserError: bad folder, bad expression, an expression that is never or always true.
    """
    from model.analysis.sensitivity import outcome_columns
    from model.atomic_files import write_bytes_atomic, write_csv_atomic
    from model.decision.expression import parse_outcome

    if boxes < 1:
        raise UserError(f"--boxes: {boxes}: must be at least 1")
    if not 0 < min_density <= 1:
        raise UserError(f"--density: {min_density}: must be above 0 and at most 1")
    cases, parameters, left_out = load_cases(sweep_dir)
    parsed = parse_outcome(expression, outcome_columns(cases))
    y = parsed.evaluate(cases)
    numeric = [p for p in parameters if pd.api.types.is_numeric_dtype(cases[p])]
    if not numeric:
        raise UserError(f"{sweep_dir}: the sweep has no numeric parameters to search")
    hits = int(y.sum())
    if hits == 0 or hits == len(y):
        state = "never" if hits == 0 else "always"
        raise UserError(
            f"--outcome: {expression!r}: {state} true in the {len(y)} runs; nothing to discover"
        )
    clock = time.perf_counter()
    found = find_boxes(cases[numeric], y, boxes=boxes, min_density=min_density)
    seconds = time.perf_counter() - clock
    sentences = [box_sentence(b, expression, len(y)) for b in found]
    out = Path(out) if out is not None else Path(sweep_dir) / "discovery"
    out.mkdir(parents=True, exist_ok=True)
    rows, steps = [], []
    for b in found:
        for name, (low, high) in (b.limits or {"(none)": (math.nan, math.nan)}).items():
            rows.append(
                {
                    "box": b.number,
                    "parameter": name,
                    "low": low,
                    "high": high,
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                }
            )
        t = b.trajectory.copy()
        t.insert(0, "box", b.number)
        t["chosen"] = t.index == b.step
        steps.append(t)
    files = {
        "boxes": out / "boxes.csv",
        "peeling": out / "peeling.csv",
        "report": out / "discovery.md",
    }
    write_csv_atomic(files["boxes"], pd.DataFrame(rows))
    peel = pd.concat(steps, ignore_index=True) if steps else pd.DataFrame()
    write_csv_atomic(files["peeling"], peel)
    if found:
        files["figure"] = plot_peeling(found, out / "peeling.png")
    lines = [
        f"# Scenario discovery: {expression}",
        "",
        f"Sweep: `{sweep_dir}`; {len(y)} runs, the outcome holds in {hits} "
        f"({hits / len(y):.0%}). PRIM (EMA workbench), chosen step: largest coverage with "
        f"density >= {min_density:g}. Parameters: {', '.join(numeric)}.",
        "",
        *[f"- {s}" for s in sentences],
        "",
        "| box | parameter | low | high | coverage | density | mass |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {r['box']} | {r['parameter']} | {_limit(r['low'])} | {_limit(r['high'])} | "
            f"{r['coverage']:.2f} | {r['density']:.2f} | {r['mass']:.2f} |"
            for r in rows
        ],
        "",
        "![peeling trajectory](peeling.png)" if found else "",
    ]
    write_bytes_atomic(files["report"], "\n".join(lines).encode("utf-8"))
    (out / "discovery.json").write_text(
        json.dumps(
            {
                "expression": expression,
                "cases": len(y),
                "true": hits,
                "min_density": min_density,
                "seconds": round(seconds, 3),
                "boxes": [
                    {
                        "box": b.number,
                        "limits": b.limits,
                        "coverage": b.coverage,
                        "density": b.density,
                        "mass": b.mass,
                    }
                    for b in found
                ],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return Discovery(expression, len(y), hits, numeric, found, sentences, files, seconds, left_out)


def describe_parameters(study: dict[str, Any]) -> list[str]:
    """List the parameter names of a study description."""
    return [p["name"] for p in study.get("parameters", [])]

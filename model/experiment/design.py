"""Experimental designs: which parameter values each design point of a study uses.

Four designs, all returning a :class:`Design` (a table with one row per design
point, plus what the analysis needs to read it back):

- ``grid``: full factorial of each parameter's values (a ``values`` list, or
  ``levels`` evenly spaced values over a ``range``).
- ``lhs``: Latin hypercube of ``samples`` points (``scipy.stats.qmc``), each
  parameter uniform over its range (or log-uniform with ``scale: log``); a
  parameter given as a ``values`` list is drawn from its values, evenly.
- ``sobol``: Saltelli's extension of the Sobol' sequence (``SALib.sample.sobol``),
  ``N * (D + 2)`` points, or ``N * (2D + 2)`` with second-order indices.
- ``morris``: Morris trajectories (``SALib.sample.morris``), ``r * (D + 1)`` points.

Every random choice of a design comes from a ``numpy.random.Generator`` built
from the study's master seed (:func:`design_rng`); run seeds come from
:func:`run_seed`. Both use ``numpy.random.SeedSequence`` with distinct spawn keys,
so the design stream and the run streams never overlap.

Integer parameters (e.g. ``population.kols``) are rounded to the nearest integer
after sampling. The raw sample in SALib's coordinates is kept in
``Design.sample`` so that the Morris and Sobol analyses see exactly what SALib
produced.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a table is made: reading a file stays light
    import pandas as pd

DesignKind = Literal["grid", "lhs", "sobol", "morris"]
DESIGN_KINDS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")

_DESIGN_STREAM = 0
_RUN_STREAM_INDEPENDENT = 1
_RUN_STREAM_COMMON = 2


@dataclass(frozen=True)
class Parameter:
    """One varied parameter of a study.

    Attributes:
        name: column name in design and result tables.
        path: dotted scenario path the value is written to (e.g. ``payment.fraud_rate``).
        values: explicit values (grid levels, or the choices of a discrete parameter).
        low: lower bound of a continuous range.
        high: upper bound of a continuous range.
        levels: number of evenly spaced grid values over the range (grid designs).
        scale: ``linear`` or ``log`` (log-uniform sampling, log-spaced grid levels).
        integer: round sampled values to integers.
    """

    name: str
    path: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    levels: int | None = None
    scale: Literal["linear", "log"] = "linear"
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """True for a continuous range, False for a list of values."""
        return self.values is None

    def grid_values(self) -> list[Any]:
        """Return the values this parameter takes in a full factorial grid."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        count = self.levels or 2
        if self.scale == "log":
            raw = np.logspace(math.log10(self.low), math.log10(self.high), count)
        else:
            raw = np.linspace(self.low, self.high, count)
        return [self._finish(float(v)) for v in raw]

    def salib_bounds(self) -> list[float]:
        """Bounds in SALib's sampling coordinates (log10 of the range for ``scale: log``)."""
        if self.values is not None or self.low is None or self.high is None:
            raise ValueError(f"parameter {self.name!r} has no range; Sobol and Morris need ranges")
        if self.scale == "log":
            return [math.log10(self.low), math.log10(self.high)]
        return [float(self.low), float(self.high)]

    def from_salib(self, x: np.ndarray) -> list[Any]:
        """Turn SALib coordinates into parameter values."""
        values = np.power(10.0, x) if self.scale == "log" else np.asarray(x, dtype=float)
        if self.low is not None and self.high is not None:
            # keep floating-point round trips (10**log10(b)) inside the declared range
            values = np.clip(values, self.low, self.high)
        if self.integer:  # np.rint rounds half to even, like round()
            return np.rint(values).astype(np.int64).tolist()
        return np.asarray(values, dtype=np.float64).tolist()

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map uniform [0, 1) draws to values (range: uniform or log-uniform; values: even)."""
        if self.values is not None:
            idx = np.minimum((np.asarray(u) * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in idx]
        bounds = self.salib_bounds()
        return self.from_salib(bounds[0] + np.asarray(u) * (bounds[1] - bounds[0]))

    def _finish(self, value: float) -> Any:
        return int(round(value)) if self.integer else value


@dataclass
class Design:
    """The design points of a study.

    Attributes:
        kind: ``grid``, ``lhs``, ``sobol`` or ``morris``.
        parameters: the varied parameters, in column order.
        points: one row per design point: column ``point`` (0..P-1) then one column
            per parameter (named ``Parameter.name``) holding the value applied.
        sample: the raw sample in SALib coordinates (sobol, morris), shape (P, D).
        problem: the SALib problem (``num_vars``, ``names``, ``bounds``) for sobol and morris.
        options: design settings the analysis needs (``second_order``, ``num_levels``, ...).
    """

    kind: str
    parameters: list[Parameter]
    points: pd.DataFrame
    sample: np.ndarray | None = None
    problem: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.points)


def design_rng(master_seed: int) -> np.random.Generator:
    """Return the generator of a study's design sampling (independent of every run seed)."""
    return np.random.default_rng(np.random.SeedSequence(master_seed, spawn_key=(_DESIGN_STREAM,)))


def run_seed(master_seed: int, point: int, replication: int, common: bool = True) -> int:
    """Return the seed of replication ``replication`` of design point ``point``.

    With ``common`` (common random numbers), replication r of every design point
    gets the same seed, so differences between points are paired (less noise in
    response curves, heatmaps and Morris elementary effects). Otherwise every run
    gets its own stream. Either way the seed is a pure function of the master
    seed and the run's (point, replication) index, so it does not depend on the
    executor, the number of workers or the order in which runs finish.

    Returns:
        A seed in [0, 2**32), from ``SeedSequence(master_seed, spawn_key=...)``.
    """
    key = (
        (_RUN_STREAM_COMMON, int(replication))
        if common
        else (_RUN_STREAM_INDEPENDENT, int(point), int(replication))
    )
    state = np.random.SeedSequence(int(master_seed), spawn_key=key).generate_state(1, np.uint32)
    return int(state[0])


def salib_problem(parameters: Sequence[Parameter]) -> dict[str, Any]:
    """Return the SALib problem dictionary of range parameters."""
    return {
        "num_vars": len(parameters),
        "names": [p.name for p in parameters],
        "bounds": [p.salib_bounds() for p in parameters],
    }


def _points_table(parameters: Sequence[Parameter], columns: list[list[Any]]) -> pd.DataFrame:
    import pandas as pd

    count = len(columns[0]) if columns else 0
    data: dict[str, Any] = {"point": np.arange(count, dtype=np.int64)}
    for param, values in zip(parameters, columns, strict=True):
        data[param.name] = _column(param, values)
    return pd.DataFrame(data)


def _column(param: Parameter, values: list[Any]) -> pd.Series:
    """Make a typed column: int64 for integers, float64 for numbers, object otherwise."""
    import pandas as pd

    if all(isinstance(v, bool) for v in values):
        return pd.Series(values, dtype=bool)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return pd.Series(values, dtype=np.int64)
    if all(isinstance(v, (int, float, np.integer, np.floating)) for v in values):
        return pd.Series(values, dtype=np.float64)
    return pd.Series([v if isinstance(v, str) else _text(v) for v in values], dtype=object)


def _text(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def grid_design(parameters: Sequence[Parameter]) -> Design:
    """Full factorial design: every combination of every parameter's grid values.

    The first parameter varies slowest (row-major order, like ``itertools.product``).
    """
    params = list(parameters)
    combos = list(itertools.product(*(p.grid_values() for p in params)))
    columns = [[combo[i] for combo in combos] for i in range(len(params))]
    return Design("grid", params, _points_table(params, columns))


def lhs_design(parameters: Sequence[Parameter], samples: int, master_seed: int) -> Design:
    """Latin hypercube design of ``samples`` points (scipy.stats.qmc.LatinHypercube)."""
    from scipy.stats import qmc

    params = list(parameters)
    sampler = qmc.LatinHypercube(d=len(params), rng=design_rng(master_seed))
    unit = sampler.random(samples)
    columns = [p.from_unit(unit[:, i]) for i, p in enumerate(params)]
    return Design("lhs", params, _points_table(params, columns), options={"samples": samples})


def sobol_design(
    parameters: Sequence[Parameter],
    samples: int,
    master_seed: int,
    second_order: bool = False,
) -> Design:
    """Saltelli sample for Sobol' indices (SALib), N * (D + 2) or N * (2D + 2) points.

    Args:
        parameters: range parameters.
        samples: N, the base sample size (a power of 2).
        master_seed: the study's master seed (scrambling of the sequence).
        second_order: also allow second-order indices (about twice the runs).
    """
    from SALib.sample import sobol as sobol_sample

    params = list(parameters)
    problem = salib_problem(params)
    sample = sobol_sample.sample(
        problem,
        samples,
        calc_second_order=second_order,
        scramble=True,
        seed=design_rng(master_seed),
    )
    columns = [p.from_salib(sample[:, i]) for i, p in enumerate(params)]
    return Design(
        "sobol",
        params,
        _points_table(params, columns),
        sample=sample,
        problem=problem,
        options={"samples": samples, "second_order": second_order},
    )


def morris_design(
    parameters: Sequence[Parameter],
    trajectories: int,
    master_seed: int,
    num_levels: int = 4,
) -> Design:
    """Morris elementary-effects design (SALib): ``trajectories * (D + 1)`` points."""
    from SALib.sample import morris as morris_sample

    params = list(parameters)
    problem = salib_problem(params)
    sample = morris_sample.sample(
        problem, trajectories, num_levels=num_levels, seed=design_rng(master_seed)
    )
    columns = [p.from_salib(sample[:, i]) for i, p in enumerate(params)]
    return Design(
        "morris",
        params,
        _points_table(params, columns),
        sample=sample,
        problem=problem,
        options={"samples": trajectories, "num_levels": num_levels},
    )


def make_design(
    kind: str,
    parameters: Sequence[Parameter],
    master_seed: int,
    samples: int | None = None,
    second_order: bool = False,
    num_levels: int = 4,
) -> Design:
    """Build a design by name (the experiment file's ``design.kind``)."""
    if kind == "grid":
        return grid_design(parameters)
    if samples is None or samples < 1:
        raise ValueError(f"design {kind!r} needs a positive number of samples")
    if kind == "lhs":
        return lhs_design(parameters, samples, master_seed)
    if kind == "sobol":
        return sobol_design(parameters, samples, master_seed, second_order=second_order)
    if kind == "morris":
        return morris_design(parameters, samples, master_seed, num_levels=num_levels)
    raise ValueError(f"unknown design {kind!r} (allowed: {', '.join(DESIGN_KINDS)})")


def design_size(
    kind: str,
    n_parameters: int,
    samples: int | None,
    grid_sizes: Sequence[int] = (),
    second_order: bool = False,
) -> int:
    """Count the design points a design will have, without building it."""
    if kind == "grid":
        return int(np.prod(list(grid_sizes))) if grid_sizes else 1
    assert samples is not None
    if kind == "lhs":
        return samples
    if kind == "sobol":
        return samples * ((2 * n_parameters + 2) if second_order else (n_parameters + 2))
    if kind == "morris":
        return samples * (n_parameters + 1)
    raise ValueError(f"unknown design {kind!r}")

"""The Bass model with a market potential, discrete and continuous, and its fits to a curve.

The pattern suite (model/validation/patterns.py) fits it to the baseline's yearly
adoption curves and compares the fitted coefficients with the meta-analyses (Sultan,
Farley and Lehmann 1990; Van den Bulte and Stremersch 2004), whose coefficients come
mostly from Bass's (1969) discrete-time estimation on annual data. One period of the
recursion is one step of the curve (a year in the suite), so p and q are per period:

    F(t+1) = F(t) + (p + q F(t) / m) (m - F(t)),    F(0) = the curve's first value,

with ``F`` the adopted share, ``p`` the coefficient of innovation (external
influence), ``q`` of imitation (internal influence) and ``m`` the market potential
(the share that adopts in the end). The fit minimises the squared gaps between the
recursion and the curve at every later point with a value (a missing period, NaN, is
stepped over by the recursion but not compared: data series with a gap), bounded
(``p`` in (0, 1], ``q`` in [0, 3], ``m`` between the curve's largest value and 1), from
a fixed grid of starts (the best fit is kept): the same curve always gives the same
coefficients.

The continuous model (:func:`continuous_bass`, the solution of
``dF/dt = (p + q F / m) (m - F)`` from the curve's first value) and its nonlinear
least-squares fit (:func:`fit_continuous_bass`, Srinivasan & Mason 1986) are a
diagnostic beside it: the yearly recursion reads part of a fast curve's growth within a
year as external influence (the time-interval bias), which the continuous fit does not
(docs/validation.md, "Discrete and continuous time").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

P_BOUNDS = (1e-6, 1.0)
Q_BOUNDS = (0.0, 3.0)
STARTS_P = (0.005, 0.03, 0.1, 0.3)
STARTS_Q = (0.05, 0.4, 1.0)
"""Starting values of the fit (every combination, and m at the curve's top and at 1)."""


def discrete_bass(p: float, q: float, m: float, f0: float, steps: int) -> np.ndarray:
    """Return ``F(0) .. F(steps)`` of the discrete Bass recursion with market potential m.

    Args:
        p: coefficient of innovation per period, >= 0.
        q: coefficient of imitation per period, >= 0.
        m: market potential (share), in (0, 1].
        f0: adopted share at period 0.
        steps: periods after the start.
    """
    if p < 0 or q < 0 or not 0 < m <= 1:
        raise ValueError(f"need p >= 0, q >= 0 and 0 < m <= 1 (got p={p}, q={q}, m={m})")
    out = np.empty(steps + 1)
    f = float(f0)
    out[0] = f
    for t in range(1, steps + 1):
        f = f + (p + q * f / m) * (m - f)
        out[t] = f
    return out


def continuous_bass(
    p: float, q: float, m: float, f0: float, times: np.ndarray | float
) -> np.ndarray:
    """Return ``F(t)`` of the continuous Bass model with market potential m, ``F(0) = f0``.

    The solution of ``dF/dt = (p + q F / m) (m - F)``: with ``f = F / m``,
    ``r = p + q`` and ``b = (1 - f0 / m) / (p + q f0 / m)``,
    ``F(t) = m (1 - p b e^(-r t)) / (1 + q b e^(-r t))`` (Bass 1969 with a start above 0;
    at p = 0 the logistic through f0). Srinivasan & Mason (1986, Nonlinear least squares
    estimation of new product diffusion models, Marketing Science 5(2)) fit this form to
    avoid the time-interval bias of the discrete recursion (:func:`discrete_bass`): fitted
    to a fast curve read once a year, the recursion reads part of its growth as p
    (docs/validation.md shows by how much).

    Args:
        p: coefficient of innovation per unit of time, >= 0.
        q: coefficient of imitation per unit of time, >= 0.
        m: market potential (share), in (0, 1].
        f0: adopted share at time 0, in [0, m).
        times: the times (>= 0) at which F is returned; with p = 0 and q f0 = 0 the
            curve stays at f0.
    """
    if p < 0 or q < 0 or not 0 < m <= 1 or not 0 <= f0 < m:
        raise ValueError(f"need p >= 0, q >= 0, 0 < m <= 1, 0 <= f0 < m (got {p}, {q}, {m}, {f0})")
    t = np.asarray(times, dtype=float)
    if np.any(t < 0):
        raise ValueError("times must be >= 0 (the curve starts at f0 at time 0)")
    f = f0 / m
    if p + q * f <= 0:  # nothing moves it: no external influence and nobody to imitate
        return np.full(t.shape, float(f0))
    b = (1.0 - f) / (p + q * f)
    e = np.exp(-(p + q) * t)
    return m * (1.0 - p * b * e) / (1.0 + q * b * e)


def yearly_curve(by_year: Mapping[int, float], last: int) -> np.ndarray:
    """One value a year from the first year of ``by_year`` to ``last``, NaN where none.

    The input of :func:`fit_discrete_bass` for a series observed in some years only
    (a year without a value is a gap the fit steps over).
    """
    first = min(by_year)
    return np.array([by_year.get(year, np.nan) for year in range(first, last + 1)], dtype=float)


@dataclass(frozen=True)
class BassFit:
    """A fitted Bass curve (discrete recursion or continuous model).

    Attributes:
        p: coefficient of innovation per period.
        q: coefficient of imitation per period.
        m: market potential.
        rmse: root mean square gap between the fitted curve and the data (the points
            after the first that have a value).
    """

    p: float
    q: float
    m: float
    rmse: float


def fit_continuous_bass(curve: np.ndarray) -> BassFit:
    """Fit (p, q, m) of :func:`continuous_bass` to a curve sampled once per unit of time.

    Nonlinear least squares on the continuous model (Srinivasan & Mason 1986), which
    has no time-interval bias: the curve's value at period t is compared with F(t) of
    the solution from the curve's first value. Same input, bounds and starts as
    :func:`fit_discrete_bass`. A diagnostic beside the suite's discrete fit (the pattern
    suite's criterion stays on the discrete fit, as the meta-analyses estimated).
    """
    return _fit(curve, continuous=True)


def fit_discrete_bass(curve: np.ndarray) -> BassFit:
    """Fit (p, q, m) of :func:`discrete_bass` to a curve sampled once per period.

    Args:
        curve: adopted shares at periods 0, 1, 2, ...; the first is the recursion's start
            and must be given; a later period without a value is NaN (at least 3 later
            values are needed).

    Returns:
        The best bounded least-squares fit over a fixed grid of starts.
    """
    return _fit(curve, continuous=False)


def _fit(curve: np.ndarray, *, continuous: bool) -> BassFit:
    from scipy.optimize import least_squares

    y = np.asarray(curve, dtype=float)
    if y.ndim != 1 or y.size < 4 or not np.isfinite(y[0]) or np.any(np.isinf(y)):
        raise ValueError("a Bass fit needs a curve of at least 4 points starting with a value")
    given = np.isfinite(y[1:])
    if given.sum() < 3:
        raise ValueError("a Bass fit needs at least 3 values after the start")
    if np.any(y[np.isfinite(y)] < 0) or np.any(y[np.isfinite(y)] > 1):
        raise ValueError("a Bass fit needs shares in [0, 1]")
    steps = y.size - 1
    top = float(min(1.0, max(np.nanmax(y), 1e-6)))
    low = np.array([P_BOUNDS[0], Q_BOUNDS[0], top])
    high = np.array([P_BOUNDS[1], Q_BOUNDS[1], 1.0 + 1e-12])
    if top >= 1.0:
        low[2] = 1.0 - 1e-9

    times = np.arange(1.0, steps + 1)

    def gaps(x: np.ndarray) -> np.ndarray:
        p, q, m = x
        m = min(m, 1.0)
        if continuous:
            if y[0] >= m:  # the start at the potential: nothing left to adopt
                return (np.full(steps, y[0]) - y[1:])[given]
            model = continuous_bass(p, q, m, y[0], times)
        else:
            model = discrete_bass(p, q, m, y[0], steps)[1:]
        return (model - y[1:])[given]

    best = None
    for m0 in (min(1.0, top * 1.05 + 1e-6), 1.0):
        for p0 in STARTS_P:
            for q0 in STARTS_Q:
                x0 = np.clip([p0, q0, m0], low, high)
                result = least_squares(gaps, x0, bounds=(low, high), method="trf")
                cost = float(np.sum(result.fun**2))
                if best is None or cost < best[0] - 1e-15:
                    best = (cost, result.x)
    assert best is not None
    p, q, m = (float(v) for v in best[1])
    return BassFit(p=p, q=q, m=min(m, 1.0), rmse=float(np.sqrt(best[0] / given.sum())))

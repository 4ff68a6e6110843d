"""Curve-fit baselines for the hold-out test: carry-forward, linear trend, logistic and Bass.

An agent-based model that forecasts worse than a curve fit on the same points must
say so. Each baseline is fitted to one series' observations dated up to the hold-out
date (the same information the model gets: the observation at step 0 is the model's
initial condition, the later ones are fitted) and predicts the later observations.
Time ``t`` is in years since the first observation used.

- ``carry_forward``: the last fitted value, forever. 90% interval: a random walk
  whose yearly step is the root mean square of the fitted points' changes per
  square-root year, ``last +/- 1.645 sigma sqrt(h)``.
- ``linear_trend``: ``a + b t`` by least squares, clipped to [0, 1].
- ``logistic``: ``K / (1 + exp(-r (t - t0)))`` with a free ceiling ``K`` in (0, 1].
- ``bass``: the Bass (1969) curve with a free ceiling ``m`` in (0, 1], started at the
  first observation ``y0`` (the solution of ``dF/dt = (p + q F/m)(m - F)`` with
  ``F(0) = y0``): ``F(t) = m (1 - A e^{-(p+q)t}) / (1 + (q/p) A e^{-(p+q)t})``,
  ``A = (1 - y0/m) / (1 + (q/p) y0/m)``.

Each baseline is fitted twice (:func:`fit_baselines` with ``include_initial``): with the
observation at step 0 among the fitted points, and without it (``... (no initial
point)``; the Bass curve then starts at the first fitted point), so that a baseline is
not judged only by how it handles the initial condition.

The trend, logistic and Bass curves are fitted by ``scipy.optimize.curve_fit`` (bounded,
several starts, the best kept). Their 90% predictive interval draws parameters from
the fit's normal approximation (``pcov``) and adds normal residual noise with the
fit's residual variance; with as many parameters as points there is no residual
degree of freedom and no interval (reported as missing).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Z90 = 1.6448536269514722
Z50 = 0.6744897501960817


def linear_trend(t: np.ndarray, level: float, slope: float) -> np.ndarray:
    """Straight line ``level + slope t``, clipped to the share range [0, 1]."""
    return np.clip(level + slope * np.asarray(t, dtype=float), 0.0, 1.0)


@dataclass
class BaselineForecast:
    """A baseline's forecast of one series.

    Attributes:
        method: ``carry_forward``, ``logistic`` or ``bass``.
        parameters: fitted parameters (empty when the fit failed).
        mean: forecast at the requested times.
        low: lower end of the 90% interval (NaN if none).
        high: upper end of the 90% interval (NaN if none).
        note: why a forecast or interval is missing, if it is.
        low50: lower end of the 50% interval (NaN if none).
        high50: upper end of the 50% interval (NaN if none).
    """

    method: str
    parameters: dict[str, float]
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    note: str = ""
    low50: np.ndarray | None = None
    high50: np.ndarray | None = None

    def __post_init__(self) -> None:
        nan = np.full(np.shape(self.mean), np.nan)
        if self.low50 is None:
            self.low50 = nan
        if self.high50 is None:
            self.high50 = nan.copy()


def logistic(t: np.ndarray, ceiling: float, rate: float, midpoint: float) -> np.ndarray:
    """Three-parameter logistic curve."""
    return ceiling / (1.0 + np.exp(-rate * (np.asarray(t, dtype=float) - midpoint)))


def bass_from(y0: float) -> Callable[..., np.ndarray]:
    """Return the Bass curve started at ``F(0) = y0``, as a function of (t, m, p, q)."""

    def curve(t: np.ndarray, m: float, p: float, q: float) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        ratio = q / p
        start = min(y0 / m, 0.999999)
        a = (1.0 - start) / (1.0 + ratio * start)
        e = np.exp(-(p + q) * t)
        return m * (1.0 - a * e) / (1.0 + ratio * a * e)

    return curve


def _interval(
    func: Callable[..., np.ndarray],
    popt: np.ndarray,
    pcov: np.ndarray,
    residual_var: float,
    t: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the 5%, 95%, 25% and 75% quantiles over parameter and noise draws."""
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(popt, pcov, size=2000, check_valid="ignore")
    draws = np.clip(draws, lower, upper)
    curves = np.array([func(t, *d) for d in draws])
    curves = curves + rng.normal(0.0, math.sqrt(residual_var), size=curves.shape)
    q05, q25, q75, q95 = np.nanquantile(curves, (0.05, 0.25, 0.75, 0.95), axis=0)
    return q05, q95, q25, q75


def _fit_curve(
    method: str,
    func: Callable[..., np.ndarray],
    names: tuple[str, ...],
    starts: list[tuple[float, ...]],
    lower: tuple[float, ...],
    upper: tuple[float, ...],
    t_fit: np.ndarray,
    y_fit: np.ndarray,
    t_new: np.ndarray,
    seed: int,
) -> BaselineForecast:
    from scipy.optimize import curve_fit

    nan = np.full(t_new.shape, np.nan)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for start in starts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                popt, pcov = curve_fit(
                    func,
                    t_fit,
                    y_fit,
                    p0=start,
                    bounds=(lower, upper),
                    method="trf",
                    maxfev=20_000,
                )
        except (RuntimeError, ValueError, TypeError):
            continue
        ssr = float(np.sum((func(t_fit, *popt) - y_fit) ** 2))
        if best is None or ssr < best[0]:
            best = (ssr, popt, pcov)
    if best is None:
        return BaselineForecast(method, {}, nan, nan, nan, "fit failed")
    ssr, popt, pcov = best
    mean = func(t_new, *popt)
    dof = len(y_fit) - len(popt)
    params = dict(zip(names, map(float, popt), strict=True))
    if dof <= 0 or not np.all(np.isfinite(pcov)):
        note = f"no interval: {len(y_fit)} points for {len(popt)} parameters"
        return BaselineForecast(method, params, mean, nan, nan, note)
    low, high, low50, high50 = _interval(
        func, popt, pcov, ssr / dof, t_new, np.array(lower), np.array(upper), seed
    )
    return BaselineForecast(method, params, mean, low, high, "", low50, high50)


def fit_baselines(
    t_fit: np.ndarray,
    y_fit: np.ndarray,
    t_new: np.ndarray,
    seed: int = 0,
    include_initial: bool = True,
) -> list[BaselineForecast]:
    """Fit the four baselines to one series and forecast it at ``t_new``.

    Args:
        t_fit: times of the fitted observations (years).
        y_fit: fitted observations (shares in [0, 1]).
        t_new: times to forecast (years, same origin).
        seed: seed of the Monte Carlo intervals.
        include_initial: fit the earliest observation too; without it, the methods are
            named ``... (no initial point)`` and the earliest point is dropped (kept when
            it is the only one).
    """
    order = np.argsort(t_fit)
    t_fit = np.asarray(t_fit, dtype=float)[order]
    y_fit = np.asarray(y_fit, dtype=float)[order]
    if not include_initial:
        out = fit_baselines(t_fit[1:], y_fit[1:], t_new, seed) if len(y_fit) > 1 else []
        for forecast in out:
            forecast.method = f"{forecast.method} (no initial point)"
        return out
    t0 = t_fit[0]
    tf, tn = t_fit - t0, np.asarray(t_new, dtype=float) - t0
    out = []

    # carry-forward with a random-walk interval
    last = float(y_fit[-1])
    mean = np.full(tn.shape, last)
    if len(y_fit) >= 2:
        steps = np.diff(y_fit) / np.sqrt(np.maximum(np.diff(tf), 1e-9))
        sigma = float(np.sqrt(np.mean(steps**2)))
        root = np.sqrt(np.maximum(tn - tf[-1], 0.0))
        spread, spread50 = Z90 * sigma * root, Z50 * sigma * root
        out.append(
            BaselineForecast(
                "carry_forward",
                {"last": last},
                mean,
                mean - spread,
                mean + spread,
                "",
                mean - spread50,
                mean + spread50,
            )
        )
    else:
        nan = np.full(tn.shape, np.nan)
        out.append(BaselineForecast("carry_forward", {"last": last}, mean, nan, nan, "one point"))

    slope0 = float((y_fit[-1] - y_fit[0]) / max(float(tf[-1]), 1e-9)) if len(y_fit) > 1 else 0.0
    out.append(
        _fit_curve(
            "linear_trend",
            linear_trend,
            ("level", "slope"),
            [(float(y_fit[0]), slope0), (float(np.mean(y_fit)), 0.0)],
            (-1.0, -1.0),
            (2.0, 1.0),
            tf,
            y_fit,
            tn,
            seed + 2,
        )
    )
    y_max = float(np.max(y_fit))
    span = max(float(tf[-1]), 1.0)
    logistic_starts = [
        (min(1.0, c), r, m)
        for c in (y_max + 0.05, (1.0 + y_max) / 2, 1.0)
        for r in (0.5, 1.5)
        for m in (0.0, span)
    ]
    out.append(
        _fit_curve(
            "logistic",
            logistic,
            ("ceiling", "rate", "midpoint"),
            logistic_starts,
            (1e-3, 1e-3, -50.0),
            (1.0, 20.0, 50.0),
            tf,
            y_fit,
            tn,
            seed,
        )
    )
    y0 = float(y_fit[0])
    bass_starts = [
        (min(1.0, c), p, q)
        for c in (y_max + 0.05, (1.0 + y_max) / 2, 1.0)
        for p in (0.01, 0.1)
        for q in (0.3, 1.0)
    ]
    out.append(
        _fit_curve(
            "bass",
            bass_from(y0),
            ("ceiling", "p", "q"),
            bass_starts,
            (max(y0, 1e-3) + 1e-6, 1e-5, 0.0),
            (1.0, 5.0, 10.0),
            tf,
            y_fit,
            tn,
            seed + 1,
        )
    )
    return out


__all__ = ["BaselineForecast", "bass_from", "fit_baselines", "linear_trend", "logistic"]

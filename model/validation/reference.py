"""Analytic references for docking the word-of-mouth mechanism against classic results.

Everything here is closed-form or a one-dimensional root, computed without the
simulation, so that the checks in ``checks.py`` compare the model with theory
and not with itself.

* Bass (1969) in discrete time: ``F(t+1) = F(t) + (p + q F(t)) (1 - F(t))`` and
  its continuous-time solution
  ``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})`` (for ``F(0) = 0``; the
  general ``F(0)`` form is implemented too).
* Bond percolation on an Erdős–Rényi graph with mean degree ``z`` and
  transmissibility ``T`` (the final size of an independent cascade from one
  seed is the size of the seed's cluster): the giant cluster's share ``S``
  solves ``S = 1 - exp(-z T S)``; it is positive only for ``z T > 1``, and
  for Poisson degrees the probability that one seed starts a large outbreak
  equals ``S`` too.
* Watts (2002, PNAS 99:5766) threshold cascades on a random graph with degree
  distribution ``p_k`` and one threshold ``phi``: a node of degree ``k`` is
  *vulnerable* (one active neighbour is enough) when ``1/k >= phi``, i.e.
  ``k <= floor(1/phi)``. Global cascades are possible when the vulnerable
  nodes percolate: ``sum_k k (k-1) rho_k p_k > z`` with ``rho_k = 1`` for
  vulnerable degrees and 0 otherwise (the cascade condition). The values of
  ``z`` where equality holds bound the *cascade window*. Inside it, the chance
  that one random seed triggers a global cascade is approximated by the share
  of nodes in or next to the giant vulnerable cluster (the extended vulnerable
  cluster): ``P = 1 - G0(u)`` with ``u = 1 - sum_k q_k rho_{k+1} (1 - u^k)``,
  ``q_k`` the excess-degree distribution (Poisson for Erdős–Rényi).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

__all__ = [
    "bass_recursion",
    "bass_substep_recursion",
    "bass_closed_form",
    "percolation_giant_component",
    "percolation_threshold",
    "poisson_pmf",
    "vulnerable_max_degree",
    "watts_cascade_condition",
    "watts_window",
    "watts_cascade_probability",
    "binomial_standard_error",
]


# --------------------------------------------------------------------------- Bass


def bass_recursion(p: float, q: float, steps: int, f0: float = 0.0) -> np.ndarray:
    """Compute the discrete Bass recursion ``F(t+1) = F(t) + (p + q F(t)) (1 - F(t))``.

    The per-step adoption hazard is capped at 1, as in the model
    (``min(1, p + q F)``).

    Args:
        p: coefficient of innovation (external influence per step), >= 0.
        q: coefficient of imitation, >= 0.
        steps: number of steps after the start.
        f0: adopted share at step 0.

    Returns:
        Array of length ``steps + 1``: ``F(0) .. F(steps)``.
    """
    _check_pq(p, q)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if not 0.0 <= f0 <= 1.0:
        raise ValueError(f"f0 must be in [0, 1], got {f0}")
    out = np.empty(steps + 1)
    f = float(f0)
    out[0] = f
    for t in range(1, steps + 1):
        f = f + min(1.0, p + q * f) * (1.0 - f)
        out[t] = f
    return out


def bass_substep_recursion(
    p: float, q: float, horizon: float, substeps: int, f0: float = 0.0
) -> np.ndarray:
    """Run the discrete recursion with ``substeps`` sub-steps per unit of time.

    Each sub-step uses ``p / substeps`` and ``q / substeps``; as ``substeps``
    grows the result tends to the closed form. Returns the values at whole
    time units ``0, 1, ..., floor(horizon)``.
    """
    if substeps < 1:
        raise ValueError(f"substeps must be >= 1, got {substeps}")
    units = int(math.floor(horizon))
    fine = bass_recursion(p / substeps, q / substeps, units * substeps, f0)
    return fine[::substeps]


def bass_closed_form(
    p: float, q: float, t: float | Sequence[float] | np.ndarray, f0: float = 0.0
) -> np.ndarray:
    """Continuous-time Bass solution of ``dF/dt = (p + q F)(1 - F)``.

    For ``F(0) = 0`` this is ``(1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})``. In
    general, ``(p + q F)/(1 - F) = K e^{(p+q)t}`` with
    ``K = (p + q F0)/(1 - F0)``, so ``F = (K e^{(p+q)t} - p)/(K e^{(p+q)t} + q)``.

    Args:
        p: coefficient of innovation (> 0 unless ``f0 > 0``).
        q: coefficient of imitation.
        t: time(s), >= 0.
        f0: adopted share at time 0, in [0, 1).

    Returns:
        F at each t (an array, even for a scalar t).
    """
    _check_pq(p, q)
    if not 0.0 <= f0 < 1.0:
        raise ValueError(f"f0 must be in [0, 1), got {f0}")
    if p == 0 and f0 == 0:
        return np.zeros_like(np.asarray(t, dtype=float))
    times = np.asarray(t, dtype=float)
    if np.any(times < 0):
        raise ValueError("t must be >= 0")
    if f0 == 0.0:
        decay = np.exp(-(p + q) * times)
        return (1.0 - decay) / (1.0 + (q / p) * decay)
    k = (p + q * f0) / (1.0 - f0)
    # divide through by K e^{(p+q)t} to avoid overflow at large t
    decay = np.exp(-(p + q) * times) / k
    return (1.0 - p * decay) / (1.0 + q * decay)


def _check_pq(p: float, q: float) -> None:
    if p < 0 or q < 0 or not math.isfinite(p) or not math.isfinite(q):
        raise ValueError(f"p and q must be finite and >= 0, got p={p}, q={q}")


# --------------------------------------------------------------------------- percolation


def percolation_threshold(z: float) -> float:
    """Critical transmissibility ``T_c = 1/z`` on an Erdős–Rényi graph of mean degree z."""
    if z <= 0:
        raise ValueError(f"mean degree must be > 0, got {z}")
    return 1.0 / z


def percolation_giant_component(z: float, transmission: float) -> float:
    """Share S of nodes in the giant cluster after bond percolation on an ER graph.

    Solves ``S = 1 - exp(-z T S)`` for its non-zero root (Newman 2002; Erdős–Rényi
    1960 with mean degree ``z T``). Returns 0 when ``z T <= 1``.

    Args:
        z: mean degree of the Erdős–Rényi graph.
        transmission: chance ``T`` that an edge transmits.

    Returns:
        S in [0, 1).
    """
    if z < 0 or not 0.0 <= transmission <= 1.0:
        raise ValueError(f"need z >= 0 and 0 <= T <= 1, got z={z}, T={transmission}")
    c = z * transmission
    if c <= 1.0:
        return 0.0

    def gap(s: float) -> float:
        return s - (1.0 - math.exp(-c * s))

    # gap < 0 just above 0 (slope 1 - c < 0) and gap(1) = exp(-c) > 0
    lower = 1e-12
    while gap(lower) >= 0:  # pragma: no cover - only for c barely above 1
        lower /= 10
        if lower < 1e-300:
            return 0.0
    return float(optimize.brentq(gap, lower, 1.0, xtol=1e-14, rtol=1e-14))


# --------------------------------------------------------------------------- Watts 2002


def poisson_pmf(z: float, kmax: int) -> np.ndarray:
    """Poisson probabilities ``p_k = e^{-z} z^k / k!`` for k = 0..kmax."""
    return stats.poisson.pmf(np.arange(kmax + 1), z)


def vulnerable_max_degree(phi: float) -> int:
    """Largest degree k at which one active neighbour reaches threshold phi (``1/k >= phi``)."""
    if not 0.0 < phi <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {phi}")
    k = int(math.floor(1.0 / phi))
    # guard against 1/phi landing a hair below an integer (e.g. phi = 0.2)
    while (k + 1) * phi <= 1.0 + 1e-12:
        k += 1
    while k > 0 and k * phi > 1.0 + 1e-12:
        k -= 1
    return k


def watts_cascade_condition(z: float, phi: float) -> float:
    """Left minus right side of the cascade condition on an ER (Poisson) graph.

    ``sum_k k (k-1) rho_k p_k - z`` with ``rho_k = 1`` for ``1 <= k <= floor(1/phi)``.
    Positive inside the cascade window, negative outside.
    """
    if z < 0:
        raise ValueError(f"mean degree must be >= 0, got {z}")
    kstar = vulnerable_max_degree(phi)
    pk = poisson_pmf(z, kstar)
    k = np.arange(kstar + 1)
    return float(np.sum(k * (k - 1) * pk) - z)


def watts_window(phi: float, z_max: float = 50.0) -> tuple[float, float]:
    """Find the cascade window ``(z_low, z_high)`` in mean degree for threshold phi on ER graphs.

    The roots of :func:`watts_cascade_condition` in z (bracketed on a fine grid,
    refined by Brent's method).

    Raises:
        ValueError: if the condition never holds (no window), e.g. phi > 1/2.
    """
    grid = np.linspace(1e-3, z_max, 20_000)
    values = np.array([watts_cascade_condition(z, phi) for z in grid])
    inside = np.nonzero(values > 0)[0]
    if inside.size == 0:
        raise ValueError(f"no cascade window for phi={phi} (vulnerable degrees too few)")
    first, last = int(inside[0]), int(inside[-1])
    if first == 0 or last == grid.size - 1:
        raise ValueError(f"cascade window for phi={phi} not bracketed on (0, {z_max}]")

    def f(z: float) -> float:
        return watts_cascade_condition(z, phi)

    low = optimize.brentq(f, grid[first - 1], grid[first], xtol=1e-12)
    high = optimize.brentq(f, grid[last], grid[last + 1], xtol=1e-12)
    return float(low), float(high)


def watts_cascade_probability(z: float, phi: float) -> float:
    """Chance that one random seed triggers a global cascade (extended vulnerable cluster).

    With ``u`` the probability that an edge does not lead into the giant
    vulnerable cluster, ``u = 1 - sum_k q_k rho_{k+1} (1 - u^k)`` where
    ``q_k = e^{-z} z^k / k!`` (the excess degree of a Poisson graph), and the
    answer is ``1 - exp(-z (1 - u))``: the seed, active by fiat, has at least one
    neighbour in that cluster. Zero outside the cascade window. This is Watts's
    analytic approximation; near the upper edge of the window simulated
    frequencies fall off more steeply (the transition there is discontinuous).
    """
    if z <= 0:
        return 0.0
    kstar = vulnerable_max_degree(phi)
    if watts_cascade_condition(z, phi) <= 0:
        return 0.0
    qk = poisson_pmf(z, max(kstar - 1, 0))  # excess degree k with total degree k + 1 <= kstar
    ks = np.arange(qk.size)

    def gap(u: float) -> float:
        return u - (1.0 - float(np.sum(qk * (1.0 - u**ks))))

    # u = 1 is always a root; the non-trivial one lies below it
    upper = 1.0 - 1e-12
    if gap(upper) <= 0:  # pragma: no cover - guarded by the cascade condition
        return 0.0
    u = optimize.brentq(gap, 0.0, upper, xtol=1e-14)
    return float(1.0 - math.exp(-z * (1.0 - u)))


# --------------------------------------------------------------------------- statistics


def binomial_standard_error(share: float | np.ndarray, trials: int) -> float | np.ndarray:
    """Return the standard error ``sqrt(f (1 - f) / n)`` of a share from n Bernoulli trials."""
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    f = np.clip(share, 0.0, 1.0)
    return np.sqrt(f * (1.0 - f) / trials)

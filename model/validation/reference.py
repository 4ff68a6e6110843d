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

  Validity of the analytic chance: it is the infinite-graph limit. In the
  interior of the window it matches simulations of 10,000-node graphs within
  0.01-0.02. Near the *upper* edge it falls to zero faster than finite graphs
  do: at phi = 0.18 (window 1.02-5.76) and 10,000 nodes an independent
  simulation gives global cascades in 43% of runs at z = 5.5 (analytic 38%),
  26% at z = 5.7 (analytic 11%) and 7% at z = 6.0 (analytic 0); at 2,000 nodes
  still 16% at z = 6.0 and 3% at z = 6.5. Near the upper edge a cascade can
  start from a vulnerable cluster smaller than the giant one and then spread
  through nodes that need two active neighbours, which the branching argument
  leaves out. So ``mtsim validate`` compares the model with a simulation at the
  same graph size (below), and the analytic chance serves only as its
  large-graph check in the interior.
* An independent threshold-cascade simulation (:func:`simulate_threshold_cascades`):
  its own Erdős–Rényi generator (:func:`erdos_renyi_edges`) and its own cascade
  (:func:`threshold_cascade_shares`, synchronous rounds of sparse products; the
  final set of a monotone threshold cascade does not depend on the update
  order). It shares no code with ``model.network`` or the model's mechanisms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse, stats

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
    "erdos_renyi_edges",
    "threshold_cascade_shares",
    "simulate_threshold_cascades",
    "CascadeSimulation",
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
    analytic approximation for infinite graphs; near the upper edge of the window
    finite graphs cascade clearly more often (see the module docstring), so use
    :func:`simulate_threshold_cascades` there.
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


# --------------------------------------------------------------------------- independent cascades


def erdos_renyi_edges(n: int, z: float, rng: np.random.Generator) -> np.ndarray:
    """Draw a G(n, p) graph with ``p = z / (n - 1)``, independently of ``model.network``.

    The edge count is drawn as ``Binomial(n (n - 1) / 2, p)``; then that many
    distinct pairs are drawn uniformly (pairs sampled with replacement, duplicates
    and loops dropped, more drawn until enough, a random subset kept), which makes
    the graph uniform given its edge count: together, exactly G(n, p).

    Args:
        n: nodes (>= 2).
        z: mean degree (>= 0).
        rng: the generator to draw from.

    Returns:
        Edge array (m x 2), each pair once with the smaller id first.
    """
    if n < 2 or z < 0 or z > n - 1:
        raise ValueError(f"need n >= 2 and 0 <= z <= n - 1, got n={n}, z={z}")
    m = int(rng.binomial(n * (n - 1) // 2, z / (n - 1)))
    codes = np.empty(0, dtype=np.int64)
    while codes.size < m:
        k = int((m - codes.size) * 1.1) + 16
        i = rng.integers(0, n, k, dtype=np.int64)
        j = rng.integers(0, n, k, dtype=np.int64)
        keep = i != j
        pair = np.minimum(i, j)[keep] * n + np.maximum(i, j)[keep]
        codes = np.unique(np.concatenate([codes, pair]))
    codes = rng.permutation(codes)[:m]
    return np.column_stack([codes // n, codes % n])


def threshold_cascade_shares(
    n: int, edges: np.ndarray, seeds: Sequence[int], phi: float
) -> np.ndarray:
    """Run a threshold cascade from each seed node; return the final active shares.

    A node becomes active, for good, once the share of its neighbours that are
    active reaches ``phi`` (Watts 2002); nodes without neighbours never do. All
    cascades run side by side: each round counts every node's active neighbours
    with one sparse product and activates those at threshold, until a round adds
    nobody. Activation is monotone, so the final set is the same for any update
    order (synchronous, as in the model, or one node at a time).

    Args:
        n: nodes.
        edges: undirected edges (m x 2).
        seeds: one seed node per cascade.
        phi: threshold share in (0, 1].

    Returns:
        Array of final active shares, one per seed.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    adjacency = sparse.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, n)
    )
    degree = np.diff(adjacency.indptr)
    # integer count needed: the smallest c with c / k >= phi (guarding 1/phi rounding)
    need = np.ceil(phi * degree - 1e-9).astype(np.float32)
    can = degree > 0
    active = np.zeros((n, seeds.size), dtype=np.float32)
    active[seeds, np.arange(seeds.size)] = 1.0
    while True:
        counts = adjacency @ active
        new = (counts >= need[:, None]) & can[:, None] & (active == 0.0)
        if not new.any():
            break
        active[new] = 1.0
    return active.sum(axis=0, dtype=np.float64) / n


@dataclass(frozen=True)
class CascadeSimulation:
    """The outcome of :func:`simulate_threshold_cascades`.

    Attributes:
        z: mean degree.
        phi: threshold.
        nodes: graph size.
        runs: cascades simulated (graphs x seeds per graph).
        hits: cascades larger than the global share.
        mean_size: mean final share of the global cascades (0 without any).
    """

    z: float
    phi: float
    nodes: int
    runs: int
    hits: int
    mean_size: float

    @property
    def frequency(self) -> float:
        """Share of cascades that were global."""
        return self.hits / self.runs


def simulate_threshold_cascades(
    n: int,
    z: float,
    phi: float,
    graphs: int,
    seeds_per_graph: int,
    seed: int,
    global_share: float = 0.10,
) -> CascadeSimulation:
    """Estimate how often one random seed starts a global cascade, by direct simulation.

    Draws ``graphs`` Erdős–Rényi graphs (:func:`erdos_renyi_edges`) and runs a
    cascade from ``seeds_per_graph`` distinct random seed nodes on each
    (:func:`threshold_cascade_shares`). This is the finite-size reference that
    ``mtsim validate`` sets the model against: same graph size, independent code.

    Args:
        n: graph size.
        z: mean degree.
        phi: threshold.
        graphs: graphs drawn.
        seeds_per_graph: cascades per graph (<= n).
        seed: seed of the generator.
        global_share: final share above which a cascade counts as global.
    """
    rng = np.random.default_rng(seed)
    shares = []
    for _ in range(graphs):
        edges = erdos_renyi_edges(n, z, rng)
        seeds = rng.choice(n, size=seeds_per_graph, replace=False)
        shares.append(threshold_cascade_shares(n, edges, seeds, phi))
    finals = np.concatenate(shares) if shares else np.empty(0)
    big = finals > global_share
    return CascadeSimulation(
        z=float(z),
        phi=float(phi),
        nodes=int(n),
        runs=int(finals.size),
        hits=int(big.sum()),
        mean_size=float(finals[big].mean()) if big.any() else 0.0,
    )


# --------------------------------------------------------------------------- statistics


def binomial_standard_error(share: float | np.ndarray, trials: int) -> float | np.ndarray:
    """Return the standard error ``sqrt(f (1 - f) / n)`` of a share from n Bernoulli trials."""
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    f = np.clip(share, 0.0, 1.0)
    return np.sqrt(f * (1.0 - f) / trials)

"""The consumers' social graph and the KOLs' follower sets.

Graphs are generated as edge arrays (linear time and memory where the generator
allows) and kept as a symmetric CSR adjacency matrix for the sparse products of
word of mouth. A networkx graph is built only on demand (for Mesa's Network space
and the browser view). Every generator draws from the model's NumPy generator;
networkx generators get ``seed=`` drawn from it.

Generators (``network.kind``):

- ``stochastic_block``: regions are blocks; within-block and across-block
  pairs are linked independently with probabilities chosen so that the mean
  degree is ``mean_degree`` and a share ``cross_region_fraction`` of ties cross
  regions (exact G(n, p) sampling per block pair by geometric skips). With consumer
  attributes and ``population.attributes.homophily`` h > 0, each region is split
  into its attribute groups: a share h of the region's ties is formed inside the
  consumers' own group, the rest at random in the region (same mean degree and
  cross-region share; ``homophily_block_edges``).
- ``erdos_renyi``: exact G(n, p) with p = mean_degree / (n - 1), by geometric
  skips over the pair index (linear in the number of edges, not O(n^2)).
- ``watts_strogatz``: ring lattice of ``mean_degree`` neighbours, each lattice
  edge rewired with probability ``rewiring`` to a uniform random node
  (vectorised; self-loops and duplicate edges are dropped).
- ``barabasi_albert``: networkx ``barabasi_albert_graph`` with m = mean_degree / 2.
- ``holme_kim``: networkx ``powerlaw_cluster_graph`` (m = mean_degree / 2,
  triangle probability ``triangle_probability``).
- ``complete``: fully mixed population, no explicit edges (Bass rule only).
- ``file``: a user's edge list (two integer ids per line, ``#`` comments) or GraphML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp

from model.errors import UserError
from model.scenario import KOLs, NetworkSettings, Scenario, consumers_per_region

GATHER_SHARE = 0.15
"""Below this share of set nodes, neighbour counts gather rows instead of a full product."""


@dataclass
class SocialGraph:
    """An undirected simple graph over consumers 0..n-1.

    Attributes:
        n: number of nodes (consumers).
        source: first end of each edge (int32), with ``source < target``.
        target: second end of each edge (int32).
        adjacency: symmetric CSR matrix (float32 ones) for sparse products.
        degree: number of neighbours of each node (int32).
        fully_mixed: True for ``complete`` (no edges; everyone meets everyone).
    """

    n: int
    source: np.ndarray
    target: np.ndarray
    adjacency: sp.csr_array = field(repr=False)
    degree: np.ndarray = field(repr=False)
    fully_mixed: bool = False
    _tracked: dict[str, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.source.size)

    @property
    def csr(self) -> sp.csr_array:
        """The adjacency matrix (alias)."""
        return self.adjacency

    def neighbours_of(self, nodes: np.ndarray) -> np.ndarray:
        """Return the neighbours of the given nodes, concatenated node by node (CSR order).

        Args:
            nodes: node ids (any integer dtype).
        """
        indptr = self.adjacency.indptr
        starts = indptr[nodes].astype(np.int64)
        lengths = indptr[np.asarray(nodes) + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.empty(0, dtype=self.adjacency.indices.dtype)
        # position of each neighbour in ``indices``: its node's start plus a running offset
        position = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        position += np.arange(total, dtype=np.int64)
        return self.adjacency.indices[position]

    def _count_from(self, nodes: np.ndarray) -> np.ndarray:
        """How many of ``nodes`` each node has as neighbours (int64, exact)."""
        return np.bincount(self.neighbours_of(nodes), minlength=self.n)

    def neighbour_counts(self, indicator: np.ndarray, track: str | None = None) -> np.ndarray:
        """How many neighbours of each node have the indicator set: exactly ``A @ x`` (int32).

        The cheapest exact route is taken: gathering the neighbours of the few nodes
        that are set (or of the few that are not, subtracting from the degree), or a
        sparse matrix-vector product when neither is few. With ``track``, the last
        indicator and its counts are kept under that name, and the next call only
        gathers the neighbours of the nodes whose indicator changed (for slowly
        changing stocks such as awareness). The comparison is with the actual last
        array, so the counts stay exact whoever changed the indicator.

        Args:
            indicator: one boolean (or 0/1) per node.
            track: name under which to remember this indicator between calls.
        """
        n = self.n
        indicator = np.asarray(indicator, dtype=bool)
        few = max(1, int(GATHER_SHARE * n))
        counts = None
        if track is not None and track in self._tracked:
            previous, previous_counts = self._tracked[track]
            changed = np.flatnonzero(previous != indicator)
            if changed.size == 0:
                counts = previous_counts
            elif changed.size <= few:
                switched_on = changed[indicator[changed]]
                switched_off = changed[~indicator[changed]]
                delta = self._count_from(switched_on) if switched_on.size else 0
                if switched_off.size:
                    delta = delta - self._count_from(switched_off)
                counts = (previous_counts + delta).astype(np.int32)
        if counts is None:
            set_count = int(np.count_nonzero(indicator))
            if set_count == 0 or self.adjacency.nnz == 0:
                counts = np.zeros(n, dtype=np.int32)
            elif set_count <= few:
                counts = self._count_from(np.flatnonzero(indicator)).astype(np.int32)
            elif n - set_count <= few:
                unset = self._count_from(np.flatnonzero(~indicator))
                counts = (self.degree - unset).astype(np.int32)
            else:
                counts = (self.adjacency @ indicator.astype(np.float32)).astype(np.int32)
        if track is not None:
            counts.flags.writeable = False
            self._tracked[track] = (indicator.copy(), counts)
        return counts

    def neighbour_counts_by_region(
        self, source_region: np.ndarray, region: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Neighbours whose source region is each node's own region, and another region.

        Exactly the own-region column and the row sum minus it of ``A @ S``, where
        ``S[j, r] = 1`` when ``source_region[j] == r`` (-1: no source).

        Args:
            source_region: per node, a region code or -1.
            region: per node, its own region code.

        Returns:
            (same, other): int32 counts per node.
        """
        n = self.n
        sources = np.flatnonzero(source_region >= 0)
        if sources.size == 0 or self.adjacency.nnz == 0:
            zero = np.zeros(n, dtype=np.int32)
            return zero, zero.copy()
        if sources.size > GATHER_SHARE * n:
            n_regions = int(max(source_region.max(), region.max())) + 1
            indicator = np.zeros((n, n_regions), dtype=np.float32)
            indicator[sources, source_region[sources]] = 1.0
            per_region = self.adjacency @ indicator
            same = per_region[np.arange(n), region]
            other = per_region.sum(axis=1) - same
            return same.astype(np.int32), other.astype(np.int32)
        lengths = np.diff(self.adjacency.indptr)[sources]
        neighbours = self.neighbours_of(sources)
        from_region = np.repeat(source_region[sources], lengths)
        matches = region[neighbours] == from_region
        total = np.bincount(neighbours, minlength=n)
        same = np.bincount(neighbours[matches], minlength=n)
        return same.astype(np.int32), (total - same).astype(np.int32)

    def to_networkx(self) -> nx.Graph:
        """Return the graph as a networkx Graph with nodes 0..n-1 (built on each call)."""
        graph = nx.Graph()
        graph.add_nodes_from(range(self.n))
        graph.add_edges_from(zip(self.source.tolist(), self.target.tolist(), strict=True))
        return graph


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Return the sorted distinct values of an integer array (``np.unique``, no hash pass).

    Edge keys from the generators are mostly sorted already, so a plain sort and a
    neighbour comparison is several times faster than ``np.unique`` on millions of keys.
    """
    values = np.sort(values)
    if values.size < 2:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values if keep.all() else values[keep]


def from_edges(n: int, u: np.ndarray, v: np.ndarray, fully_mixed: bool = False) -> SocialGraph:
    """Build a SocialGraph from edge end arrays: drops self-loops and duplicates."""
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    keep = u != v
    lo = np.minimum(u[keep], v[keep])
    hi = np.maximum(u[keep], v[keep])
    if lo.size:
        key = sorted_unique(lo * n + hi)
        lo, hi = key // n, key % n
    lo = lo.astype(np.int32)
    hi = hi.astype(np.int32)
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    data = np.ones(rows.size, dtype=np.float32)
    adjacency = sp.csr_array((data, (rows, cols)), shape=(n, n), dtype=np.float32)
    adjacency.sum_duplicates()
    adjacency.indices = adjacency.indices.astype(np.int32, copy=False)
    adjacency.indptr = adjacency.indptr.astype(np.int64 if rows.size > 2**31 - 1 else np.int32)
    degree = np.diff(adjacency.indptr).astype(np.int32)
    return SocialGraph(n, lo, hi, adjacency, degree, fully_mixed)


# --------------------------------------------------------------------------- samplers


def _geometric_positions(total: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Positions in [0, total) each kept independently with probability p (geometric skips)."""
    if total <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(total, dtype=np.int64)
    expected = total * p
    chunk = int(expected + 6.0 * np.sqrt(expected) + 64)
    out = []
    last = -1
    while True:
        gaps = rng.geometric(p, size=chunk)
        pos = last + np.cumsum(gaps, dtype=np.int64)
        if pos[-1] >= total:
            out.append(pos[pos < total])
            break
        out.append(pos)
        last = int(pos[-1])
        chunk = max(64, chunk // 4)
    return np.concatenate(out)


def _upper_pairs(n: int, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map linear indices k over pairs (i < j) of n nodes, row-major, to (i, j)."""
    # row i starts at offset(i) = i*(2n - i - 1)/2
    b = 2.0 * n - 1.0
    i = np.floor((b - np.sqrt(b * b - 8.0 * k.astype(np.float64))) / 2.0).astype(np.int64)
    i = np.clip(i, 0, max(n - 2, 0))

    def offset(r):
        return r * (2 * n - r - 1) // 2

    # correct floating point error by at most a step either way
    too_far = offset(i) > k
    i[too_far] -= 1
    next_row = offset(i + 1) <= k
    i[next_row] += 1
    j = k - offset(i) + i + 1
    return i, j


def gnp_edges(n: int, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Exact Erdős–Rényi G(n, p) edges in time linear in their number."""
    total = n * (n - 1) // 2
    k = _geometric_positions(total, p, rng)
    return _upper_pairs(n, k)


def bipartite_edges(
    offset_a: int, n_a: int, offset_b: int, n_b: int, p: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each of the n_a * n_b pairs between two node blocks linked with probability p."""
    k = _geometric_positions(n_a * n_b, p, rng)
    return offset_a + k // n_b, offset_b + k % n_b


# --------------------------------------------------------------------------- generators


def region_sizes(n: int, shares: np.ndarray) -> np.ndarray:
    """Split n agents into regions by share (largest remainders, deterministic).

    The split is written once, in :func:`model.scenario.consumers_per_region`, which the
    scenario's validation also uses: a region the check says is empty is empty here.
    """
    return np.asarray(consumers_per_region(n, np.asarray(shares, dtype=float)), dtype=np.int64)


def stochastic_block_edges(
    sizes: np.ndarray, mean_degree: float, cross_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Edges of a stochastic block model over contiguous blocks of the given sizes."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(sizes.sum())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    expected_edges = n * mean_degree / 2.0
    within_pairs = float(sum(s * (s - 1) // 2 for s in sizes))
    across_pairs = float((n * n - (sizes**2).sum()) // 2)
    if len(sizes) == 1 or across_pairs == 0:
        cross_fraction = 0.0
    p_in = min(1.0, (1.0 - cross_fraction) * expected_edges / within_pairs) if within_pairs else 0.0
    p_out = min(1.0, cross_fraction * expected_edges / across_pairs) if across_pairs else 0.0
    us, vs = [], []
    for a, (sa, na) in enumerate(zip(starts, sizes, strict=True)):
        i, j = gnp_edges(int(na), p_in, rng)
        us.append(i + sa)
        vs.append(j + sa)
        for b in range(a + 1, len(sizes)):
            i, j = bipartite_edges(int(sa), int(na), int(starts[b]), int(sizes[b]), p_out, rng)
            us.append(i)
            vs.append(j)
    return np.concatenate(us), np.concatenate(vs)


def homophily_block_edges(
    sizes: np.ndarray,
    group_sizes: list[np.ndarray],
    mean_degree: float,
    cross_fraction: float,
    homophily: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic block edges with attribute groups nested in regions.

    Consumers are laid out region by region and, inside a region, group by group
    (``group_sizes[r]``: sizes of region r's groups, in layout order). Across regions
    pairs link with the same probability as in :func:`stochastic_block_edges`.
    Inside region r, with p_in the within-region probability of that function, a pair
    in different groups links with ``(1 - h) p_in`` and a pair in the same group with
    ``(1 - h) p_in + h p_in W_r / S_r`` (W_r: pairs in the region, S_r: pairs inside
    its groups), so the expected number of ties in the region is unchanged and a share
    h of them is formed inside the groups. Linear in the number of edges.

    Args:
        sizes: consumers per region.
        group_sizes: per region, the sizes of its groups (summing to the region's size).
        mean_degree: target mean degree.
        cross_fraction: share of ties crossing regions.
        homophily: h in [0, 1].
        rng: the model's generator.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(sizes.sum())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    expected_edges = n * mean_degree / 2.0
    within_pairs = float(sum(s * (s - 1) // 2 for s in sizes))
    across_pairs = float((n * n - (sizes**2).sum()) // 2)
    if len(sizes) == 1 or across_pairs == 0:
        cross_fraction = 0.0
    p_in = min(1.0, (1.0 - cross_fraction) * expected_edges / within_pairs) if within_pairs else 0.0
    p_out = min(1.0, cross_fraction * expected_edges / across_pairs) if across_pairs else 0.0
    us, vs = [], []
    for a, (sa, na) in enumerate(zip(starts, sizes, strict=True)):
        groups = np.asarray(group_sizes[a], dtype=np.int64)
        groups = groups[groups > 0]
        g_start = sa + np.concatenate([[0], np.cumsum(groups)[:-1]])
        region_pairs = na * (na - 1) / 2.0
        group_pairs = float((groups * (groups - 1) // 2).sum())
        p_other = (1.0 - homophily) * p_in
        p_same = p_other + (homophily * p_in * region_pairs / group_pairs if group_pairs else 0.0)
        p_same = min(1.0, p_same)
        for g, (gs, gn) in enumerate(zip(g_start, groups, strict=True)):
            i, j = gnp_edges(int(gn), p_same, rng)
            us.append(i + gs)
            vs.append(j + gs)
            for h in range(g + 1, len(groups)):
                i, j = bipartite_edges(
                    int(gs), int(gn), int(g_start[h]), int(groups[h]), p_other, rng
                )
                us.append(i)
                vs.append(j)
        for b in range(a + 1, len(sizes)):
            i, j = bipartite_edges(int(sa), int(na), int(starts[b]), int(sizes[b]), p_out, rng)
            us.append(i)
            vs.append(j)
    return np.concatenate(us), np.concatenate(vs)


def _group_runs(region_size: np.ndarray, groups: np.ndarray) -> list[np.ndarray]:
    """Per region, the sizes of its runs of equal group codes (consumers in layout order)."""
    out = []
    start = 0
    for size in np.asarray(region_size, dtype=np.int64):
        part = groups[start : start + int(size)]
        start += int(size)
        if part.size == 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        edges = np.flatnonzero(part[1:] != part[:-1]) + 1
        bounds = np.concatenate([[0], edges, [part.size]])
        out.append(np.diff(bounds))
    return out


def watts_strogatz_edges(
    n: int, k: int, rewiring: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Ring lattice with k nearest neighbours, each edge's far end rewired with probability p."""
    half = max(1, k // 2)
    if n <= 2 * half:
        raise UserError(
            f"network.mean_degree: {k} is too large for watts_strogatz with {n} consumers"
        )
    base = np.arange(n, dtype=np.int64)
    u = np.repeat(base, half)
    v = (u + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewire = rng.random(u.size) < rewiring
    v = v.copy()
    v[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    return u, v


def _networkx_edges(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    edges = np.fromiter(
        (x for e in graph.edges() for x in e), dtype=np.int64, count=2 * graph.number_of_edges()
    ).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


def _first_bad_line(path: Path) -> str:
    """Where an edge list stops being two integers per line (a line number, no content)."""
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                text = raw.split(b"#", 1)[0].split()
                if not text:
                    continue
                try:
                    int(text[0]), int(text[1])
                except (ValueError, IndexError):
                    return f" (line {number} is not)"
    except OSError:
        return ""
    return ""


def load_graph_file(spec: NetworkSettings, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges of a user's edge list or GraphML file, as consumer ids 0..n-1."""
    path = Path(spec.path or "")
    if not path.exists():
        raise UserError(f"network.path: {str(path)!r}: file not found")
    if spec.format == "graphml":
        try:
            graph = nx.read_graphml(path)
        except Exception as exc:  # noqa: BLE001 - any parse error is the user's file
            raise UserError(f"{path}: network.path: not a readable GraphML file ({exc})") from None
        if graph.number_of_nodes() != n:
            raise UserError(
                f"{path}: network.path: the graph has {graph.number_of_nodes()} nodes but "
                f"population.consumers is {n}; set population.consumers to "
                f"{graph.number_of_nodes()}"
            )
        index = {node: i for i, node in enumerate(graph.nodes())}
        pairs = np.array([(index[a], index[b]) for a, b in graph.edges()], dtype=np.int64)
        pairs = pairs.reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]
    try:
        pairs = np.loadtxt(path, dtype=np.int64, comments="#", usecols=(0, 1), ndmin=2)
    except (ValueError, IndexError, UnicodeDecodeError, OSError):
        # never echo the file's content: it may not be an edge list at all
        raise UserError(
            f"{path}: network.path: an edge list needs two integer node ids per line"
            f"{_first_bad_line(path)}"
        ) from None
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
        raise UserError(
            f"{path}: network.path: node ids must be in 0..{n - 1} (population.consumers is {n}); "
            f"found ids from {pairs.min()} to {pairs.max()}"
        )
    return pairs[:, 0], pairs[:, 1]


def build_social_graph(
    scenario: Scenario,
    region_size: np.ndarray,
    rng: np.random.Generator,
    groups: np.ndarray | None = None,
) -> SocialGraph:
    """Generate the scenario's social graph over consumers ordered by region.

    Args:
        scenario: the scenario (``network`` and ``population`` sections).
        region_size: consumers per region; consumers 0..n-1 are laid out region by region.
        rng: the model's generator.
        groups: each consumer's attribute group code, laid out group by group inside
            each region (model/population.py); with ``population.attributes.homophily``
            > 0 the stochastic-block generator mixes groups with that homophily.
    """
    spec = scenario.network
    n = scenario.population.consumers
    z = spec.mean_degree
    kind = spec.kind
    if kind == "complete":
        empty = np.empty(0, dtype=np.int64)
        return from_edges(n, empty, empty, fully_mixed=True)
    if kind == "file":
        u, v = load_graph_file(spec, n)
        return from_edges(n, u, v)
    attributes = scenario.population.attributes
    if kind == "stochastic_block" and groups is not None and attributes is not None:
        if attributes.homophily > 0:
            u, v = homophily_block_edges(
                region_size,
                _group_runs(region_size, groups),
                z,
                spec.cross_region_fraction,
                attributes.homophily,
                rng,
            )
            return from_edges(n, u, v)
    if kind == "stochastic_block":
        u, v = stochastic_block_edges(region_size, z, spec.cross_region_fraction, rng)
        return from_edges(n, u, v)
    # the other generators know nothing of regions: shuffle node labels so that
    # regions are not tied to node age (BA hubs) or lattice position
    if kind == "erdos_renyi":
        u, v = gnp_edges(n, min(1.0, z / max(n - 1, 1)), rng)
    elif kind == "watts_strogatz":
        u, v = watts_strogatz_edges(n, int(round(z)), spec.rewiring, rng)
    else:
        m = max(1, int(round(z / 2)))
        if m >= n:
            raise UserError(f"network.mean_degree: {z} is too large for {kind} with {n} consumers")
        seed = int(rng.integers(2**31 - 1))
        if kind == "barabasi_albert":
            graph = nx.barabasi_albert_graph(n, m, seed=seed)
        else:
            graph = nx.powerlaw_cluster_graph(n, m, spec.triangle_probability, seed=seed)
        u, v = _networkx_edges(graph)
    label = rng.permutation(n)
    return from_edges(n, label[u], label[v])


def kol_followers(
    spec: KOLs,
    n_kols: int,
    consumer_region: np.ndarray,
    region_share: np.ndarray,
    rng: np.random.Generator,
) -> tuple[sp.csr_array, np.ndarray]:
    """Follower sets of the KOLs: heavy-tailed (Pareto) sizes, mostly in the KOL's region.

    Rule: the consumers follow ``follows_per_consumer`` KOLs on average, so the follower
    counts add up to ``follows_per_consumer * N``; they are shared among the KOLs in
    proportion to Pareto weights (tail exponent ``follower_exponent``, the heavy tail of
    influencer audiences: Barabasi and Albert 1999 for preferential attachment), each
    capped at ``max_follower_share * N`` and at least one. Followers are drawn with
    replacement (a repeat is merged), a share ``home_bias`` from the KOL's own region.
    Counts as shares of the population make a consumer's KOL exposure independent of the
    numbers of consumers and KOLs (an absolute minimum count, as before, made it grow with
    the log of the population: docs/calibration.md, Population size).

    Returns:
        (followers, kol_region): a K x N CSR matrix of ones (row k: KOL k's followers)
        and each KOL's home region.
    """
    n = consumer_region.size
    n_regions = region_share.size
    if n_kols == 0:
        return sp.csr_array((n_kols, n), dtype=np.float32), np.zeros(0, dtype=np.uint8)
    kol_region = rng.choice(n_regions, size=n_kols, p=region_share / region_share.sum())
    cap = max(1, int(spec.max_follower_share * n))
    u = rng.random(n_kols)
    weight = (1.0 - u) ** (-1.0 / (spec.follower_exponent - 1.0))
    sizes = np.rint(spec.follows_per_consumer * n * weight / weight.sum())
    sizes = np.clip(sizes, 1, min(cap, n)).astype(np.int64)
    owner = np.repeat(np.arange(n_kols, dtype=np.int64), sizes)
    home = rng.random(owner.size) < spec.home_bias
    members = [np.flatnonzero(consumer_region == r) for r in range(n_regions)]
    follower = rng.integers(0, n, size=owner.size)
    for r in range(n_regions):
        pick = home & (kol_region[owner] == r)
        if members[r].size and pick.any():
            follower[pick] = members[r][rng.integers(0, members[r].size, size=int(pick.sum()))]
    key = sorted_unique(owner * n + follower)
    rows, cols = key // n, key % n
    followers = sp.csr_array(
        (np.ones(key.size, dtype=np.float32), (rows, cols)), shape=(n_kols, n), dtype=np.float32
    )
    return followers, kol_region.astype(np.uint8)

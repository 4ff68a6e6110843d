"""Drawing the market for the browser: network layout and SVG pictures, no Solara.

Everything here is a pure function of a :class:`~model.market.MarketModel` (or of
its run table), so it can be tested without a browser and timed on its own.

The network picture has two layers drawn on the same coordinates:

* a background that only changes with the graph (region discs and labels, the
  acquaintance ties), built once per layout;
* a foreground redrawn every step: consumers coloured by stage, merchants,
  KOLs, the fans of the KOLs that posted, and last step's cross-border orders.

Layout: each region's consumers are placed by a force-directed (Fruchterman-
Reingold) layout of the ties inside the region, seeded from the model's seed, in
a disc whose area grows with the region's population; the discs stand in a row.
Merchants sit on a ring around their region's disc, KOLs on an arc above it. The
layout is computed once per graph and cached by the graph's content and seed
(:func:`layout_for`), so stepping never recomputes it.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import numpy as np

from model.metrics import (
    STAGES,
    format_metric,
    format_number,
    metric_info,
    metric_label,
)

if TYPE_CHECKING:
    import pandas as pd

    from model.market import MarketModel

STAGE_COLOURS: tuple[str, ...] = ("#c9c9c9", "#56B4E9", "#E69F00", "#009E73", "#D55E00")
"""Fill colour of each consumer stage (colour-blind safe Okabe-Ito palette), by stage code."""

STAGE_WORDS: dict[str, str] = {
    "unaware": "has not heard of mobile shopping",
    "aware": "has heard of it, not yet using it",
    "paying": "pays by mobile, has not bought yet",
    "shopper": "has bought by mobile (at home only)",
    "cross_border": "has bought from another region",
}
"""Plain-words meaning of each stage, for the legend."""

REGION_SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "triangle-down")
"""Consumer marker shape of each region, by region code (repeats after five regions)."""

REGION_TINTS: tuple[str, ...] = ("#eef3f8", "#f7f1e8", "#eef6ef", "#f5eef5", "#f1f1f1")
"""Background tint of each region's disc."""

MERCHANT_ON = "#0072B2"
KOL_COLOUR = "#CC79A7"
ORDER_COLOUR = "#D55E00"
TIE_COLOUR = "#7a7a7a"

VIEW_WIDTH = 760.0
"""Width of the network picture in SVG units (it scales to the page)."""

_CACHE_SIZE = 8
_layout_cache: OrderedDict[str, NetworkLayout] = OrderedDict()
_layout_computations = 0


# --------------------------------------------------------------------------- layout


def force_layout(
    n: int,
    source: np.ndarray,
    target: np.ndarray,
    rng: np.random.Generator,
    iterations: int = 50,
) -> np.ndarray:
    """Fruchterman-Reingold positions of a graph, vectorised (the algorithm of networkx).

    Dense in the number of nodes (an n x n float32 block per iteration), which is
    fast up to a few thousand nodes; networkx's own sparse version takes ~10 s at
    1,000 nodes.

    Args:
        n: number of nodes.
        source: first end of each edge (node indices 0..n-1).
        target: second end of each edge.
        rng: the generator for the starting positions.
        iterations: cooling steps.

    Returns:
        (n, 2) float array of positions, roughly in the unit square.
    """
    pos = rng.random((n, 2))
    if n <= 1:
        return np.full((n, 2), 0.5)
    x = pos[:, 0].astype(np.float32)
    y = pos[:, 1].astype(np.float32)
    k2 = np.float32(1.0 / n)
    k = np.float32(math.sqrt(1.0 / n))
    temperature = np.float32(0.1)
    cooling = temperature / np.float32(iterations + 1)
    src = np.asarray(source, dtype=np.int64)
    dst = np.asarray(target, dtype=np.int64)
    dx = np.empty((n, n), dtype=np.float32)
    dy = np.empty((n, n), dtype=np.float32)
    weight = np.empty((n, n), dtype=np.float32)
    for _ in range(iterations):
        np.subtract(x[:, None], x[None, :], out=dx)
        np.subtract(y[:, None], y[None, :], out=dy)
        np.multiply(dx, dx, out=weight)
        weight += dy * dy
        np.maximum(weight, np.float32(1e-4), out=weight)
        np.divide(k2, weight, out=weight)  # repulsion k^2 / d, along the unit vector
        fx = np.einsum("ij,ij->i", dx, weight)
        fy = np.einsum("ij,ij->i", dy, weight)
        if src.size:
            ex = x[src] - x[dst]
            ey = y[src] - y[dst]
            pull = np.sqrt(ex * ex + ey * ey) / k  # attraction d^2 / k
            ax, ay = ex * pull, ey * pull
            fx += (np.bincount(dst, ax, n) - np.bincount(src, ax, n)).astype(np.float32)
            fy += (np.bincount(dst, ay, n) - np.bincount(src, ay, n)).astype(np.float32)
        length = np.sqrt(fx * fx + fy * fy)
        length = np.where(length < 0.01, np.float32(0.1), length)
        x += fx * (temperature / length)
        y += fy * (temperature / length)
        temperature -= cooling
    return np.column_stack([x, y]).astype(np.float64)


@dataclass(frozen=True)
class NetworkLayout:
    """Where everything of one market is drawn, in SVG units.

    Attributes:
        key: the cache key (graph content, agents' regions and seed).
        width: picture width.
        height: picture height.
        consumer_xy: (n, 2) consumer positions.
        merchant_xy: (m, 2) merchant positions.
        kol_xy: (k, 2) KOL positions.
        region_centre: (r, 2) centre of each region's disc.
        region_radius: (r,) radius of each region's disc.
        marker_size: consumer marker radius.
        background_svg: the static layer (region discs, labels, ties), a complete <svg>.
        consumer_prefix: per consumer, the start of its marker element (the stage class
            is appended each frame).
    """

    key: str
    width: float
    height: float
    consumer_xy: np.ndarray
    merchant_xy: np.ndarray
    kol_xy: np.ndarray
    region_centre: np.ndarray
    region_radius: np.ndarray
    marker_size: float
    background_svg: str
    consumer_prefix: tuple[str, ...]


def layout_key(model: MarketModel) -> str:
    """Return the cache key of a model's layout: a hash of graph, regions and seed."""
    digest = hashlib.blake2b(digest_size=16)
    graph = model.graph
    digest.update(f"{graph.n}|{model.seed}|{model.n_regions}|".encode())
    for array in (
        graph.source,
        graph.target,
        model.consumers.region,
        model.merchants.region,
        model.kols.region,
        model.kols.follower_count,
    ):
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def layout_for(model: MarketModel) -> NetworkLayout:
    """Return the layout of a model's market, computed once and cached by :func:`layout_key`.

    A model rebuilt with the same scenario, population and seed has the same graph
    and so reuses the layout; stepping a model never changes it.
    """
    key = layout_key(model)
    layout = _layout_cache.get(key)
    if layout is None:
        layout = compute_layout(model, key)
        _layout_cache[key] = layout
        while len(_layout_cache) > _CACHE_SIZE:
            _layout_cache.popitem(last=False)
    else:
        _layout_cache.move_to_end(key)
    return layout


def layout_computations() -> int:
    """Return how many layouts this process computed (to check the cache)."""
    return _layout_computations


def _ring(count: int, centre: np.ndarray, radius: float, start: float, span: float) -> np.ndarray:
    """``count`` points evenly on an arc (angles in radians, SVG y axis pointing down)."""
    if count == 0:
        return np.zeros((0, 2))
    if span >= 2 * math.pi - 1e-9:
        angles = start + span * np.arange(count) / count
    elif count == 1:
        angles = np.array([start + span / 2])
    else:
        angles = start + span * np.arange(count) / (count - 1)
    return np.column_stack(
        [centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)]
    )


def compute_layout(model: MarketModel, key: str | None = None) -> NetworkLayout:
    """Lay out a market (see the module docstring); prefer the cached :func:`layout_for`."""
    global _layout_computations
    _layout_computations += 1
    graph, consumers = model.graph, model.consumers
    n, n_regions = graph.n, model.n_regions
    region = consumers.region.astype(np.int64)
    sizes = np.bincount(region, minlength=n_regions)
    biggest = max(int(sizes.max()) if sizes.size else 1, 1)
    rel = np.sqrt(np.maximum(sizes, 0.15 * biggest) / biggest)  # disc radius, biggest = 1
    outer = 1.42 * rel  # room for the merchant ring and the KOL arc
    gap = 0.10
    label_room = 0.24
    total = float(outer.sum() * 2 + gap * (n_regions - 1))
    margin = 8.0
    scale = (VIEW_WIDTH - 2 * margin) / total
    height = 2 * float(outer.max()) * scale + (label_room * scale) + 2 * margin
    centre = np.zeros((n_regions, 2))
    cursor = margin
    for r in range(n_regions):
        centre[r] = (cursor + outer[r] * scale, margin + label_room * scale + outer.max() * scale)
        cursor += (2 * outer[r] + gap) * scale
    radius = rel * scale

    # consumers: a force layout per region, squeezed into the region's disc
    seed_seq = np.random.SeedSequence([int(model.seed), 0x5EED])
    rngs = [np.random.default_rng(s) for s in seed_seq.spawn(n_regions)]
    xy = np.zeros((n, 2))
    local = np.full(n, -1, dtype=np.int64)
    src, dst = graph.source.astype(np.int64), graph.target.astype(np.int64)
    same = region[src] == region[dst] if src.size else np.zeros(0, dtype=bool)
    for r in range(n_regions):
        members = np.flatnonzero(region == r)
        if members.size == 0:
            continue
        local[members] = np.arange(members.size)
        inside = same & (region[src] == r)
        pos = force_layout(members.size, local[src[inside]], local[dst[inside]], rngs[r])
        pos = pos - pos.mean(axis=0)
        dist = np.hypot(pos[:, 0], pos[:, 1])
        # scale by the median distance: isolated nodes drift far in a force layout and
        # would squeeze everyone else into the middle; they end up on the rim instead
        spread = float(np.median(dist)) if members.size > 1 else 0.0
        if spread > 0:
            pos *= 0.5 * radius[r] / spread
            dist = np.hypot(pos[:, 0], pos[:, 1])
            too_far = dist > 0.97 * radius[r]
            pos[too_far] *= (0.97 * radius[r] / dist[too_far])[:, None]
        xy[members] = pos + centre[r]

    # merchants on a ring, KOLs on an arc above the disc
    merchant_xy = np.zeros((model.merchants.n, 2))
    merchant_region = model.merchants.region.astype(np.int64)
    kol_xy = np.zeros((model.kols.n, 2))
    kol_region = model.kols.region.astype(np.int64)
    in_business = active_merchants(model)
    for r in range(n_regions):
        # merchants in business evenly on the ring; free slots (later entrants) between
        for own, turn in (
            (np.flatnonzero((merchant_region == r) & in_business), 0.0),
            (np.flatnonzero((merchant_region == r) & ~in_business), 0.013),
        ):
            merchant_xy[own] = _ring(
                own.size, centre[r], 1.12 * radius[r], math.pi / 2 + turn, 2 * math.pi
            )
        own_k = np.flatnonzero(kol_region == r)
        kol_xy[own_k] = _ring(
            own_k.size, centre[r], 1.3 * radius[r], -math.pi + 0.55, math.pi - 1.1
        )

    marker = float(np.clip(4.6 * math.sqrt(300.0 / max(n, 1)), 1.8, 4.6))
    shapes = [REGION_SHAPES[r % len(REGION_SHAPES)] for r in range(n_regions)]
    prefix = tuple(_marker_prefix(shapes[region[i]], xy[i, 0], xy[i, 1], marker) for i in range(n))
    width = VIEW_WIDTH
    background = _background_svg(model, xy, centre, radius, width, height, sizes)
    return NetworkLayout(
        key=key or layout_key(model),
        width=width,
        height=height,
        consumer_xy=xy,
        merchant_xy=merchant_xy,
        kol_xy=kol_xy,
        region_centre=centre,
        region_radius=radius,
        marker_size=marker,
        background_svg=background,
        consumer_prefix=prefix,
    )


# --------------------------------------------------------------------------- SVG pieces


def _marker_prefix(shape: str, x: float, y: float, s: float) -> str:
    """Return a consumer marker element up to its class (the stage is appended later)."""
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s:.1f}" class="consumer mtsim-s'
    if shape == "square":
        a = s * 0.9
        return (
            f'<rect x="{x - a:.1f}" y="{y - a:.1f}" width="{2 * a:.1f}" height="{2 * a:.1f}" '
            'class="consumer mtsim-s'
        )
    return f'<path d="{shape_path(shape, x, y, s * 1.2)}" class="consumer mtsim-s'


def shape_path(shape: str, x: float, y: float, s: float) -> str:
    """Return SVG path data of a marker shape of radius ``s`` centred on (x, y)."""
    if shape == "triangle":
        pts = [(0, -s), (0.87 * s, 0.5 * s), (-0.87 * s, 0.5 * s)]
    elif shape == "triangle-down":
        pts = [(0, s), (0.87 * s, -0.5 * s), (-0.87 * s, -0.5 * s)]
    elif shape == "diamond":
        pts = [(0, -s), (s, 0), (0, s), (-s, 0)]
    elif shape == "square":
        a = 0.9 * s
        pts = [(-a, -a), (a, -a), (a, a), (-a, a)]
    elif shape == "shop":  # a little house: the merchant glyph
        pts = [(0, -s), (s, -0.2 * s), (0.75 * s, s), (-0.75 * s, s), (-s, -0.2 * s)]
    elif shape == "star":
        pts = []
        for i in range(10):
            radius = s if i % 2 == 0 else 0.45 * s
            angle = -math.pi / 2 + i * math.pi / 5
            pts.append((radius * math.cos(angle), radius * math.sin(angle)))
    else:  # circle as a polygon, for legends only
        pts = [
            (s * math.cos(2 * math.pi * i / 12), s * math.sin(2 * math.pi * i / 12))
            for i in range(12)
        ]
    return "M" + "L".join(f"{x + px:.1f} {y + py:.1f}" for px, py in pts) + "Z"


def _style() -> str:
    stages = "".join(f".mtsim-s{i}{{fill:{c}}}" for i, c in enumerate(STAGE_COLOURS))
    return (
        "<style>"
        ".consumer{stroke:#3a3a3a;stroke-width:.35}"
        f"{stages}"
        f".mtsim-merchant{{stroke:{MERCHANT_ON};stroke-width:1.2}}"
        f".mtsim-merchant.on{{fill:{MERCHANT_ON}}}.mtsim-merchant.off{{fill:#ffffff}}"
        f".mtsim-kol{{fill:{KOL_COLOUR};stroke:#4a1d3d;stroke-width:1}}"
        ".mtsim-kol.posted{stroke-width:2.2}"
        f".mtsim-fan{{stroke:{KOL_COLOUR};stroke-width:.5;stroke-opacity:.16;fill:none}}"
        f".mtsim-orders{{stroke:{ORDER_COLOUR};stroke-width:1.1;stroke-opacity:.75;fill:none}}"
        "</style>"
    )


def _segments(a: np.ndarray, b: np.ndarray) -> str:
    """Return path data of straight segments from the rows of ``a`` to those of ``b``."""
    return "".join(
        f"M{x0:.1f} {y0:.1f}L{x1:.1f} {y1:.1f}"
        for (x0, y0), (x1, y1) in zip(a.tolist(), b.tolist(), strict=True)
    )


def _background_svg(
    model: MarketModel,
    xy: np.ndarray,
    centre: np.ndarray,
    radius: np.ndarray,
    width: float,
    height: float,
    sizes: np.ndarray,
) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        'width="100%" height="100%" class="mtsim-network-background">'
    ]
    merchants = np.bincount(
        model.merchants.region[active_merchants(model)].astype(np.int64), minlength=model.n_regions
    )
    for r, name in enumerate(model.region_names):
        cx, cy = centre[r]
        tint = REGION_TINTS[r % len(REGION_TINTS)]
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{1.05 * radius[r]:.1f}" fill="{tint}" '
            'stroke="#b8c2cc" stroke-width="1"/>'
        )
        shape = REGION_SHAPES[r % len(REGION_SHAPES)]
        detail = f"{int(sizes[r])} consumers ({shape}s), {int(merchants[r])} shops"
        top = max(cy - 1.42 * radius[r], 30.0)
        parts.append(
            f'<text x="{cx:.1f}" y="{top - 17:.1f}" text-anchor="middle" '
            'font-family="sans-serif" font-size="13" font-weight="bold" fill="#333" '
            f'class="mtsim-region-label">{escape(name)}</text>'
            f'<text x="{cx:.1f}" y="{top - 4:.1f}" text-anchor="middle" '
            'font-family="sans-serif" font-size="10.5" fill="#555">'
            f"{escape(detail)}</text>"
        )
    graph = model.graph
    if graph.n_edges:
        ties = _segments(xy[graph.source], xy[graph.target])
        opacity = float(np.clip(0.35 * math.sqrt(1500.0 / graph.n_edges), 0.06, 0.35))
        parts.append(
            f'<path d="{ties}" stroke="{TIE_COLOUR}" stroke-width="0.5" '
            f'stroke-opacity="{opacity:.2f}" fill="none" class="mtsim-ties" '
            f'data-count="{graph.n_edges}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def active_merchants(model: MarketModel) -> np.ndarray:
    """Mask of the merchants in business (the state has free slots for market entry)."""
    active = getattr(model.merchants, "active", None)
    if active is None:
        return np.ones(model.merchants.n, dtype=bool)
    return np.asarray(active, dtype=bool)


def cross_border_pairs(model: MarketModel) -> tuple[np.ndarray, np.ndarray]:
    """Return last step's cross-border orders (between countries) as (consumer, merchant)."""
    c = model.consumers
    buyers = np.flatnonzero(c.last_order_merchant >= 0)
    merchants = c.last_order_merchant[buyers].astype(np.int64)
    between = model.current.cross_border
    cross = between[model.merchants.region[merchants], c.region[buyers]]
    return buyers[cross], merchants[cross]


CHANNEL_COLOURS: dict[str, str] = {
    # the super-app's channels in warm colours, the others in cool ones
    "qr_o2o": "#e8590c",
    "official_account": "#f08c00",
    "friend_share": "#e64980",
    "group": "#c2255c",
    "group_buy": "#fab005",
    "search": "#1c7ed6",
    "app_market": "#15aabf",
    "kol_post": "#7048e8",
    "short_video": "#0ca678",
    "offline": "#868e96",
}
"""Colour of an order line by the channel that led to it (with platforms)."""

PLATFORM_RING = "#e8590c"
"""Ring around a platform user."""


def platform_svg(model: MarketModel, layout: NetworkLayout) -> tuple[list[str], list[str]]:
    """Draw the platform layer: group chats, users' rings, last week's orders by channel.

    Empty without ``platforms:`` in the scenario. Group chats are thin lines from each
    member to the group's founder (class ``mtsim-group``); users get a ring (class
    ``mtsim-platform-user``); each order of last week is a line from buyer to seller
    coloured by its channel (``mtsim-channel-<name>``, ``data-count`` its orders).
    Returns the parts drawn under the consumers (groups, order lines) and over them (rings).
    """
    if model.scenario.platforms is None or model.last_week is None:
        return [], []
    from model.mechanisms.attribution import CHANNELS

    pl = model.platforms
    xy = layout.consumer_xy
    parts = []
    members = np.flatnonzero(pl.group >= 0)
    members = members[pl.group[members] != members]
    if members.size:
        parts.append(
            f'<path class="mtsim-group" data-count="{members.size}" stroke="#c2255c" '
            f'stroke-opacity=".25" stroke-width=".6" fill="none" '
            f'd="{_segments(xy[members], xy[pl.group[members]])}"/>'
        )
    users = np.flatnonzero(pl.member.any(axis=1))
    over = []
    if users.size:
        r = max(2.5, layout.marker_size * 1.6)
        rings = "".join(
            f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0"
            f"a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0"
            for x, y in xy[users].tolist()
        )
        over.append(
            f'<path class="mtsim-platform-user" data-count="{users.size}" fill="none" '
            f'stroke="{PLATFORM_RING}" stroke-width=".9" d="{rings}"/>'
        )
    orders = model.last_week.signals.as_dict().get("orders")
    channel = getattr(orders, "channel", None)
    if orders is not None and channel is not None and orders.count:
        sellers = orders.merchant.astype(np.int64)
        for code, name in enumerate(CHANNELS):
            sel = channel == code
            if sel.any():
                lines = _segments(xy[orders.consumer[sel]], layout.merchant_xy[sellers[sel]])
                parts.append(
                    f'<path class="mtsim-channel mtsim-channel-{name}" '
                    f'data-count="{int(sel.sum())}" '
                    f'stroke="{CHANNEL_COLOURS.get(name, "#555")}" stroke-width="1.2" '
                    f'stroke-opacity=".8" fill="none" d="{lines}"/>'
                )
    return parts, over


def network_svg(model: MarketModel, layout: NetworkLayout | None = None) -> str:
    """Draw the foreground layer of the network picture at the model's current step.

    Consumers are elements of class ``consumer`` (one per consumer, coloured by
    stage), merchants ``mtsim-merchant``, KOLs ``mtsim-kol``; last step's cross-border
    orders are one path ``#mtsim-orders`` whose ``data-count`` is their number.
    """
    layout = layout or layout_for(model)
    stage = model.consumer_stage()
    w, h = layout.width, layout.height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'width="100%" height="100%" id="mtsim-network" data-consumers="{stage.size}" '
        f'data-step="{model.steps}">',
        _style(),
    ]
    # KOL fans: the followers reached by KOLs that posted last step
    k = model.kols
    posted = np.flatnonzero(k.posted) if k.n else np.zeros(0, dtype=np.int64)
    if posted.size:
        fans = []
        for i in posted.tolist():
            followers = k.followers.indices[k.followers.indptr[i] : k.followers.indptr[i + 1]]
            start = np.broadcast_to(layout.kol_xy[i], (followers.size, 2))
            fans.append(_segments(start, layout.consumer_xy[followers]))
        parts.append(f'<path class="mtsim-fan" d="{"".join(fans)}"/>')
    under, over = platform_svg(model, layout)
    parts += under
    buyers, sellers = cross_border_pairs(model)
    parts.append(
        f'<path id="mtsim-orders" class="mtsim-orders" data-count="{buyers.size}" '
        f'd="{_segments(layout.consumer_xy[buyers], layout.merchant_xy[sellers])}"/>'
    )
    prefix = layout.consumer_prefix
    parts.append("".join([prefix[i] + f'{s}"/>' for i, s in enumerate(stage.tolist())]))
    parts += over
    m = model.merchants
    names = model.region_names
    size = max(3.2, layout.marker_size * 1.35)
    in_business = active_merchants(model)
    for j, (x, y) in enumerate(layout.merchant_xy.tolist()):
        if not in_business[j]:
            continue
        on = bool(m.adopted[j])
        title = (
            f"merchant {j} ({names[m.region[j]]}): "
            f"{'sells through mobile channels' if on else 'no mobile marketing yet'}, "
            f"{int(m.sales[j])} orders last week, reputation {float(m.reputation[j]):.2f}"
            f"{', verified' if m.verified[j] else ''}"
        )
        parts.append(
            f'<path class="mtsim-merchant {"on" if on else "off"}" '
            f'd="{shape_path("shop", x, y, size)}"><title>{escape(title)}</title></path>'
        )
    if k.n:
        biggest = max(int(k.follower_count.max()), 1)
        for i, (x, y) in enumerate(layout.kol_xy.tolist()):
            s = 7.0 + 7.0 * math.sqrt(int(k.follower_count[i]) / biggest)
            cred = float(k.credibility[i])
            title = (
                f"KOL {i} ({names[k.region[i]]}): {int(k.follower_count[i])} followers, "
                f"credibility {cred:.2f}"
                f"{', posted last week' if k.posted[i] else ''}"
                f"{' (sponsored)' if k.sponsored[i] else ''}"
            )
            parts.append(
                f'<path class="mtsim-kol{" posted" if k.posted[i] else ""}" '
                f'fill-opacity="{0.25 + 0.75 * cred:.2f}" d="{shape_path("star", x, y, s)}">'
                f"<title>{escape(title)}</title></path>"
            )
    parts.append("</svg>")
    return "".join(parts)


def stage_counts(model: MarketModel) -> dict[str, int]:
    """Count the consumers in each stage now."""
    counts = np.bincount(model.consumer_stage(), minlength=len(STAGES))
    return {name: int(counts[i]) for i, name in enumerate(STAGES)}


def legend_html(model: MarketModel) -> str:
    """Return the legend of the network picture, with the current count of each stage."""
    counts = stage_counts(model)
    rows = []
    for i, name in enumerate(STAGES):
        rows.append(
            '<div class="mtsim-legend-row">'
            f'<svg width="14" height="14"><circle cx="7" cy="7" r="6" fill="{STAGE_COLOURS[i]}" '
            'stroke="#3a3a3a" stroke-width=".6"/></svg> '
            f"<b>{escape(name.replace('_', '-'))}</b>: {escape(STAGE_WORDS[name])} "
            f'(<span class="mtsim-stage-count" data-stage="{name}">{counts[name]}</span>)</div>'
        )
    shapes = ", ".join(
        f"{escape(region)} = {REGION_SHAPES[r % len(REGION_SHAPES)]}"
        for r, region in enumerate(model.region_names)
    )
    others = [
        (
            f'<path d="{shape_path("shop", 7, 7, 6)}" fill="{MERCHANT_ON}" '
            f'stroke="{MERCHANT_ON}"/>',
            "merchant selling through mobile channels (hollow: not yet)",
        ),
        (
            f'<path d="{shape_path("star", 7, 7, 7)}" fill="{KOL_COLOUR}" stroke="#4a1d3d"/>',
            "KOL (influencer); bigger = more followers, faded = less credible, "
            "pink lines = followers reached by last week's post",
        ),
        (
            f'<line x1="0" y1="7" x2="14" y2="7" stroke="{ORDER_COLOUR}" stroke-width="2"/>',
            "a cross-border order placed last week (buyer to seller)",
        ),
        (
            f'<line x1="0" y1="7" x2="14" y2="7" stroke="{TIE_COLOUR}" stroke-width="1"/>',
            "grey lines: who knows whom (word of mouth travels along them)",
        ),
    ]
    if model.scenario.platforms is not None:
        others.append(
            (
                f'<circle cx="7" cy="7" r="5" fill="none" stroke="{PLATFORM_RING}"/>',
                "ring: uses the super-app; faint pink lines: group chats",
            )
        )
        for name, colour in CHANNEL_COLOURS.items():
            others.append(
                (
                    f'<line x1="0" y1="7" x2="14" y2="7" stroke="{colour}" stroke-width="2"/>',
                    f"last week's order through {name.replace('_', ' ')}",
                )
            )
    for glyph, words in others:
        rows.append(
            f'<div class="mtsim-legend-row"><svg width="14" height="14">{glyph}</svg> '
            f"{escape(words)}</div>"
        )
    rows.append(f'<div class="mtsim-legend-row">Consumer shapes by region: {shapes}.</div>')
    return (
        '<div class="mtsim-legend" style="font-size:13px;line-height:1.55">'
        + "".join(rows)
        + "</div>"
    )


# --------------------------------------------------------------------------- charts


def _nice_ceiling(value: float) -> float:
    """Round up to 1, 2, 4 or 8 times a power of ten (1 for values <= 0): clean quarters."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 4.0, 8.0, 10.0):
        if step * power >= value - 1e-12:
            return step * power
    return 10.0 * power


def _x_tick_step(x_max: int) -> int:
    for step in (1, 2, 5, 10, 13, 26, 52, 104, 260, 520):
        if x_max / step <= 6:
            return step
    return max(1, x_max // 6)


def _polyline(xs: np.ndarray, ys: np.ndarray) -> str:
    """Return path data through the finite points, broken where a value is missing."""
    out, pen_down = [], False
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if not math.isfinite(y):
            pen_down = False
            continue
        out.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
    return "".join(out)


@dataclass(frozen=True)
class ChartSpec:
    """One live chart: a title, its metrics and their colours.

    The metrics of a chart are of one kind; values are drawn as the registry shows them
    (``model.metrics``: shares in per cent, trust as an index from 0 to 100).

    Attributes:
        key: identifier (used in the element id ``mtsim-chart-<key>``).
        title: heading shown above the chart.
        metrics: run-table columns drawn as lines.
        colours: line colour of each metric.
    """

    key: str
    title: str
    metrics: tuple[str, ...]
    colours: tuple[str, ...]

    def axis_text(self, value: float) -> str:
        """Format a shown value of this chart for its axis (short)."""
        percent = metric_info(self.metrics[0]).percent
        return format_number(value, significant=3) + ("%" if percent else "")


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "adoption",
        "Adoption (share of consumers or merchants)",
        ("aware_share", "payment_adoption", "shopper_share", "merchant_adoption"),
        (STAGE_COLOURS[1], STAGE_COLOURS[2], STAGE_COLOURS[3], MERCHANT_ON),
    ),
    ChartSpec(
        "trust",
        "Trust (index: 0 = none, 100 = full)",
        ("mean_trust_domestic", "mean_trust_foreign", "kol_credibility"),
        ("#0072B2", ORDER_COLOUR, KOL_COLOUR),
    ),
    ChartSpec(
        "orders",
        "Orders per week",
        ("orders", "cross_border_orders"),
        (STAGE_COLOURS[3], ORDER_COLOUR),
    ),
    ChartSpec(
        "cross_border",
        "Cross-border share of orders",
        ("cross_border_share",),
        (ORDER_COLOUR,),
    ),
)
"""The live charts of the page."""


def chart_svg(spec: ChartSpec, table: pd.DataFrame, x_max: int, width: int = 380) -> str:
    """Draw a line chart of some run-table columns over the weeks so far.

    Args:
        spec: what to draw.
        table: the run table (column ``step`` and the metrics).
        x_max: the last week of the x axis (the scenario's length, so lines grow).
        width: picture width in SVG units.

    Returns:
        An HTML fragment: the <svg> (id ``mtsim-chart-<key>``, ``data-points`` = rows
        drawn) and a legend below it.
    """
    height, left, right, top, bottom = 190, 46, 12, 10, 28
    steps = table["step"].to_numpy(dtype=float) if len(table) else np.zeros(0)
    x_max = max(int(x_max), int(steps.max()) if steps.size else 1, 1)
    columns = [m for m in spec.metrics if m in table.columns]
    shown = metric_info(spec.metrics[0])
    stored = {m: table[m].to_numpy(dtype=float) for m in columns}
    values = {m: stored[m] * shown.scale for m in columns}
    present = [m for m in columns if np.isfinite(values[m]).any()]
    peak = max((float(np.nanmax(values[m])) for m in present), default=0.0)
    if shown.kind == "index":
        y_max = shown.bounds[1]
    elif shown.percent:
        y_max = shown.bounds[1]
        if peak < y_max / 4:  # small shares: zoom in so movement is visible
            y_max = _nice_ceiling(peak * 1.1) if peak > 0 else y_max / 10
    else:
        y_max = _nice_ceiling(max(peak, 1.0) * 1.05)
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(v):
        return left + plot_w * np.asarray(v, dtype=float) / x_max

    def sy(v):
        return top + plot_h * (1.0 - np.asarray(v, dtype=float) / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'id="mtsim-chart-{spec.key}" class="mtsim-chart" data-points="{len(table)}" '
        'font-family="sans-serif" font-size="10">'
    ]
    for i in range(5):
        value = y_max * i / 4
        y = float(sy(value))
        text = spec.axis_text(value)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e4e4e4"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{text}</text>'
        )
    tick = _x_tick_step(x_max)
    for week in range(0, x_max + 1, tick):
        x = float(sx(week))
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 3}" '
            'stroke="#888"/>'
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" fill="#555">'
            f"{week}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 2}" text-anchor="middle" '
        'fill="#555">week</text>'
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#bbb"/>'
    )
    xs = sx(steps)
    for metric, colour in zip(spec.metrics, spec.colours, strict=True):
        if metric not in present:
            continue
        ys = sy(np.clip(values[metric], 0.0, y_max))
        d = _polyline(xs, ys)
        parts.append(
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2" '
            f'class="mtsim-series" data-metric="{metric}"/>'
        )
        if math.isfinite(float(ys[-1])):  # the current value, visible from week 0
            parts.append(
                f'<circle cx="{float(xs[-1]):.1f}" cy="{float(ys[-1]):.1f}" r="3" fill="{colour}"/>'
            )
    parts.append("</svg>")
    legend = []
    for metric, colour in zip(spec.metrics, spec.colours, strict=True):
        if metric not in present:
            continue
        label = metric_label(metric)
        last = format_metric(metric, float(stored[metric][-1]))
        legend.append(
            f'<span style="white-space:nowrap;margin-right:10px">'
            f'<span style="display:inline-block;width:14px;height:3px;background:{colour};'
            f'vertical-align:middle;margin-right:4px"></span>{escape(label)}: <b>{last}</b></span>'
        )
    return (
        "".join(parts)
        + '<div style="font-size:12px;line-height:1.5">'
        + " ".join(legend)
        + "</div>"
    )


def numbers_table_html(rows: Sequence[tuple[str, str, str]]) -> str:
    """Return a table of (id, label, value) rows; value cells have id ``mtsim-value-<id>``."""
    body = "".join(
        f'<tr><td style="padding:2px 10px 2px 0">{escape(label)}</td>'
        '<td style="text-align:right;font-weight:600;white-space:nowrap" '
        f'id="mtsim-value-{escape(key)}">'
        f"{escape(value)}</td></tr>"
        for key, label, value in rows
    )
    style = "font-size:13px;border-collapse:collapse"
    return f'<table class="mtsim-numbers" style="{style}">{body}</table>'

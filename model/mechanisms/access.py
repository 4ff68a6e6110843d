"""Mobile access (infrastructure investment).

Rule: consumer i has usable mobile access at step t when ``u_i < a_r(t)``, where
``u_i`` is a uniform draw fixed at start and ``a_r(t)`` the access share of the
consumer's region r: the region's natural share ``n_r(t)``, with the
``infrastructure`` lever closing share L of the remaining gap. Access therefore only
grows as the share grows, and the same consumers stay connected.

The natural share grows along a logistic curve (``regions.*.access_curve: logistic``,
the default): ``n_r(t) = 1 / (1 + exp(-(logit(a_r0) + k_r t)))`` with ``a_r0`` the
starting share (``mobile_access``) and ``k_r = g_r / (a_r0 (1 - a_r0))``, so that its
slope at step 0 is ``g_r`` (``access_growth``, share points per step) and its ceiling is
the whole population: growth is fastest at half the population and slows towards the
ceiling. Internet diffusion across 214 countries, 1990-2004, follows S-shaped curves
(Andres, Cuberes, Diouf & Serebrisky 2010, The diffusion of the Internet: a
cross-country analysis, Telecommunications Policy 34(5-6)), as did mobile telephony in
the European Union (Gruber & Verboven 2001, European Economic Review 45(3), logistic
fits); the ceiling of 1 is an assumption (nobody is excluded for good; the groups'
access shifts below keep the old and the rural behind). ``access_curve: linear`` gives
the earlier rule, ``n_r(t) = min(1, a_r0 + g_r t)``.

With consumer attributes (``population.attributes``, model/population.py) the
threshold depends on the consumer's group g: ``u_i < p_rg(t)`` with
``p_rg(t) = sigmoid(L_r(t) + s_g)``, where ``s_g`` is the group's access shift
(log-odds; e.g. rural -1.137 from CNNIC's 55.9% rural vs 79.8% urban penetration)
and ``L_r(t)`` is solved each week so that the region's share stays
``sum_g w_rg p_rg(t) = a_r(t)`` (``w_rg``: the group's expected share of the region).
``L_r`` rises with ``a_r``, so every group's access only grows too.

The infrastructure lever's cost counts the consumers it connects: those connected
this week who were not last week and would not be without the lever
(:func:`access_week`).

Source: docs/domain.md, Mechanisms > Mobile access and Policy levers (infrastructure
investment: share of consumers with usable mobile access, ramping up over time);
docs/population.md for the attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from model.population import count_by_region

if TYPE_CHECKING:
    from model.scenario import Scenario


class AccessParameters(Protocol):
    """What :func:`access_week` reads of the week's effective parameters.

    ``model.policy.EffectiveParameters`` has these (model/policy.py computes the natural
    share with :func:`natural_access_share`, so this module does not import it back).
    """

    mobile_access: np.ndarray
    natural_mobile_access: np.ndarray
    levels: Mapping[str, float]


BISECTION_STEPS = 60
"""Bisection steps for the region level L_r (interval [-40, 40]: width below 1e-16)."""


def natural_access_share(
    start: np.ndarray, growth: np.ndarray, logistic: np.ndarray, t: int
) -> np.ndarray:
    """Per region, the access share at step t without policy (the rule above).

    Args:
        start: per region, the share at step 0 (``mobile_access``), in [0, 1].
        growth: per region, the slope at step 0 (``access_growth``, share points per
            step), >= 0.
        logistic: per region, True for the logistic curve, False for the linear one.
        t: the step (negative steps count as 0).
    """
    start = np.asarray(start, dtype=float)
    growth = np.asarray(growth, dtype=float)
    t = max(int(t), 0)
    linear = np.minimum(1.0, start + growth * t)
    inner = (start > 0.0) & (start < 1.0)
    a0 = np.where(inner, start, 0.5)
    rate = growth / (a0 * (1.0 - a0))
    curve = 1.0 / (1.0 + np.exp(-(np.log(a0 / (1.0 - a0)) + rate * t)))
    curve = np.where(inner, curve, start)
    return np.where(np.asarray(logistic, dtype=bool), curve, linear)


def mobile_access(
    access_draw: np.ndarray, region: np.ndarray, access_share: np.ndarray
) -> np.ndarray:
    """Who has usable mobile access, given each region's access share."""
    return access_draw < access_share.astype(np.float32)[region]


def group_access_shares(
    access_share: np.ndarray, group_shares: np.ndarray, shift: np.ndarray
) -> np.ndarray:
    """[region, group] access share ``sigmoid(L_r + s_g)`` keeping each region's share.

    Args:
        access_share: per region, the access share a_r (0..1).
        group_shares: [region, group] expected share of each group in the region.
        shift: per group, the log-odds shift s_g.

    Returns:
        [region, group] shares p_rg with ``sum_g w_rg p_rg = a_r`` (to 1e-12).
    """
    a = np.clip(np.asarray(access_share, dtype=float), 0.0, 1.0)
    w = group_shares / group_shares.sum(axis=1, keepdims=True)
    lo = np.full(a.shape, -40.0)
    hi = np.full(a.shape, 40.0)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        share = (w / (1.0 + np.exp(-(mid[:, None] + shift[None, :])))).sum(axis=1)
        low = share < a
        lo = np.where(low, mid, lo)
        hi = np.where(low, hi, mid)
    level = 0.5 * (lo + hi)
    p = 1.0 / (1.0 + np.exp(-(level[:, None] + shift[None, :])))
    p[a <= 0.0] = 0.0
    p[a >= 1.0] = 1.0
    return p


def mobile_access_by_group(
    access_draw: np.ndarray,
    region: np.ndarray,
    group: np.ndarray,
    access_share: np.ndarray,
    group_shares: np.ndarray,
    shift: np.ndarray,
) -> np.ndarray:
    """Who has usable mobile access when access differs by attribute group.

    Args:
        access_draw: per consumer, the fixed uniform draw.
        region: per consumer, the region code.
        group: per consumer, the attribute group code (model/population.py).
        access_share: per region, the access share a_r.
        group_shares: [region, group] expected share of each group in the region.
        shift: per group, the log-odds shift of access.
    """
    table = group_access_shares(access_share, group_shares, shift).astype(np.float32)
    n_groups = table.shape[1]
    cell = region.astype(np.int64) * n_groups + group
    return access_draw < table.ravel()[cell]


def consumer_access(
    scenario: Scenario,
    access_draw: np.ndarray,
    region: np.ndarray,
    group: np.ndarray,
    access_share: np.ndarray,
) -> np.ndarray:
    """Who has usable mobile access under ``access_share``, with or without attributes.

    Without ``population.attributes`` this is exactly :func:`mobile_access` (``group``
    is ignored); with them, :func:`mobile_access_by_group` with the scenario's group
    shares and access shifts. Use it for any access share (e.g. the share without the
    infrastructure lever, to find whom the lever connected).
    """
    if scenario.population.attributes is None:
        return mobile_access(access_draw, region, access_share)
    from model.population import group_access_shift, group_shares

    return mobile_access_by_group(
        access_draw,
        region,
        group,
        access_share,
        group_shares(scenario),
        group_access_shift(scenario),
    )


class AccessWeek(NamedTuple):
    """Mobile access this week.

    Attributes:
        has_access: per consumer, usable mobile access.
        connected: per region, consumers with access.
        connected_by_policy: consumers newly connected this week above the access they
            would have without the infrastructure lever.
    """

    has_access: np.ndarray
    connected: np.ndarray
    connected_by_policy: int


def access_week(
    scenario: Scenario,
    params: AccessParameters,
    *,
    access_draw: np.ndarray,
    region: np.ndarray,
    group: np.ndarray,
    had_access: np.ndarray,
    n_regions: int,
) -> AccessWeek:
    """Return who has access this week, how many per region, how many the lever connected.

    Args:
        scenario: the scenario (consumer attributes shift access by group).
        params: the week's effective parameters (access shares with and without the
            infrastructure lever, its level).
        access_draw: per consumer, the fixed uniform draw.
        region: per consumer, its region.
        group: per consumer, its attribute group (model/population.py).
        had_access: per consumer, access last week.
        n_regions: number of regions.
    """
    has_access = consumer_access(scenario, access_draw, region, group, params.mobile_access)
    by_policy = 0
    if params.levels["infrastructure"] > 0:
        natural = consumer_access(
            scenario, access_draw, region, group, params.natural_mobile_access
        )
        by_policy = int((has_access & ~had_access & ~natural).sum())
    connected = count_by_region(region, n_regions, has_access)
    return AccessWeek(has_access, connected, by_policy)

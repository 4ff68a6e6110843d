"""Tables of a policy comparison: stacked runs, intervention windows, targets, who gains.

Pure functions over run tables and resolved scenarios; the comparison itself (running
the scenarios, writing the folder) is ``model.workflows.compare.run_comparison``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

#: group-table metrics compared in "who gains" (those present in the table)
GAIN_METRICS: tuple[str, ...] = (
    "access_share",
    "payment_share",
    "ordered_share",
    "order_value_per_consumer",
)


def stack_runs(
    tables: Mapping[tuple[str, int], pd.DataFrame], names: Sequence[str], seeds: Sequence[int]
) -> pd.DataFrame:
    """Stack per-run tables, scenario by scenario, with ``scenario``, ``replication``, ``seed``.

    Args:
        tables: (scenario, replication) -> that run's table (run table or group table);
            runs that are missing (failed) are left out.
        names: the scenarios in order.
        seeds: the seed of each replication.

    Returns:
        One table (empty when there is no run).
    """
    parts = []
    for name in names:
        for rep, seed in enumerate(seeds):
            table = tables.get((name, rep))
            if table is None:
                continue
            front = pd.DataFrame(
                {"scenario": name, "replication": rep, "seed": seed}, index=table.index
            )
            parts.append(pd.concat([front, table], axis=1))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def policy_windows(resolved: Mapping[str, Any], steps: int) -> list[tuple[str, int, int]]:
    """Return the weeks each intervention of a resolved scenario acts, clipped to 1..steps.

    Returns:
        (label or lever, first week, last week) per intervention, in file order; an
        intervention that never acts within the run is left out.
    """
    out = []
    for iv in resolved.get("policies") or []:
        first = max(1, int(iv.get("start", 0)))
        end = iv.get("end")
        last = min(steps, int(end) - 1) if end is not None else steps
        if first <= last:
            out.append((str(iv.get("label") or iv.get("lever")), first, last))
    return out


def package_window(resolved: Mapping[str, Any], steps: int) -> tuple[int, int] | None:
    """Return the weeks from a scenario's first acting intervention to its last acting week."""
    windows = policy_windows(resolved, steps)
    if not windows:
        return None
    return min(w[1] for w in windows), max(w[2] for w in windows)


def outcome_windows(
    resolved: Mapping[str, Mapping[str, Any]], names: Sequence[str], steps: int
) -> list[tuple[int, int]]:
    """Weeks to average outcomes over: every intervention's window and every package's."""
    windows: list[tuple[int, int]] = []
    for name in names:
        windows += [(a, b) for _, a, b in policy_windows(resolved[name], steps)]
        whole = package_window(resolved[name], steps)
        if whole is not None:
            windows.append(whole)
    return windows


def scenario_thresholds(resolved: Mapping[str, Any]) -> dict[str, list[float]]:
    """Targets a scenario declares (``targets: {metric: level}``, when the schema has them)."""
    targets = resolved.get("targets") or {}
    out: dict[str, list[float]] = {}
    if isinstance(targets, Mapping):
        for metric, level in targets.items():
            levels = level if isinstance(level, list) else [level]
            out.setdefault(str(metric), []).extend(float(v) for v in levels)
    return out


def outcome_thresholds(
    resolved: Mapping[str, Mapping[str, Any]],
    names: Sequence[str],
    extra: Mapping[str, Sequence[float]],
    columns: Sequence[str],
) -> dict[str, list[float]]:
    """Levels to time (weeks to threshold): every scenario's targets, then ``extra``.

    Only metrics among ``columns`` (the run table's) are kept.
    """
    targets: dict[str, list[float]] = {}
    for source in [*(scenario_thresholds(resolved[n]) for n in names), extra]:
        for metric, levels in source.items():
            if metric in columns:
                targets.setdefault(metric, []).extend(levels)
    return targets


def gains_by_scenario(groups: pd.DataFrame, names: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Who gains from each scenario after the reference (the first): its group gains.

    Args:
        groups: the group tables of every run, stacked (``stack_runs``).
        names: the scenarios in order; the first is the reference.

    Returns:
        scenario -> ``who_gains`` table of its groups (without ``all``), for every
        scenario with runs; empty when the reference has none.
    """
    from model.analysis.group_effects import who_gains

    reference = groups[groups["scenario"] == names[0]]
    gains: dict[str, pd.DataFrame] = {}
    if reference.empty:
        return gains
    metrics = tuple(m for m in GAIN_METRICS if m in groups.columns)
    for name in names[1:]:
        policy = groups[groups["scenario"] == name]
        if policy.empty:
            continue
        table = who_gains(reference, policy, metrics=metrics)
        gains[name] = table[table["by"] != "all"].reset_index(drop=True)
    return gains

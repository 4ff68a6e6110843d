"""Results by group: the main metrics by country, region, urban/rural and income band.

The group table (``groups.csv`` of ``mtsim run``; docs/population.md) has one row per
step and group, in long form:

- ``step``; ``by``: the grouping (``all``, ``country``, ``region``, ``area``,
  ``income``); ``group``: the group's name (``all``; a country; a region; ``urban`` /
  ``rural``; an income band name). ``area`` and ``income`` rows appear only when the
  scenario has ``population.attributes``.
- ``consumers``: consumers in the group.
- shares of the group's consumers: ``access_share`` (usable mobile access),
  ``aware_share`` (knows mobile shopping), ``payment_share`` (pays by mobile),
  ``ordered_share`` (has ever ordered by mobile), ``cross_border_ordered_share`` (has
  ever ordered across borders).
- means over the group's consumers: ``trust_domestic``, ``trust_foreign``.
- this week's mobile orders placed by the group's consumers: ``orders``,
  ``cross_border_orders``, ``order_value`` (currency), and ``order_value_per_consumer``.

Recording is opt-in (:meth:`model.market.MarketModel.track_groups`): it costs a few
``np.bincount`` passes over the consumers per step (about 10 ms per million consumers
per step; docs/population.md). Every consumer is counted once per grouping: the
finest cells (region x area x income band) are summed with one bincount per metric,
and the groupings are sums of cells.

:func:`who_gains` compares two group tables (a baseline and a policy scenario) at a
step: the difference of each metric by group, for the compare report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from model.scenario import Scenario
    from model.state import ConsumerState

GROUPINGS: tuple[str, ...] = ("all", "country", "region", "area", "income")
"""Groupings of the group table, in row order within a step."""

SHARE_METRICS: dict[str, str] = {
    "access_share": "has_access",
    "aware_share": "aware",
    "payment_share": "payment",
    "ordered_share": "has_ordered",
    "cross_border_ordered_share": "has_ordered_cross_border",
}
"""Group-table column -> the boolean consumer field whose share it is."""

MEAN_METRICS: dict[str, str] = {
    "trust_domestic": "trust_domestic",
    "trust_foreign": "trust_foreign",
}
"""Group-table column -> the consumer field whose mean it is."""

ORDER_METRICS: tuple[str, ...] = (
    "orders",
    "cross_border_orders",
    "order_value",
    "order_value_per_consumer",
)
"""Group-table columns from this week's orders."""

COLUMNS: tuple[str, ...] = (
    "step",
    "by",
    "group",
    "consumers",
    *SHARE_METRICS,
    *MEAN_METRICS,
    *ORDER_METRICS,
)
"""Columns of the group table, in order."""

GROUP_METRIC_INFO: dict[str, str] = {
    "consumers": "consumers in the group",
    "access_share": "share with usable mobile access",
    "aware_share": "share aware of mobile shopping",
    "payment_share": "share paying by mobile",
    "ordered_share": "share that has ever ordered by mobile",
    "cross_border_ordered_share": "share that has ever ordered across borders",
    "trust_domestic": "mean trust in domestic sellers (0-1)",
    "trust_foreign": "mean trust in foreign sellers (0-1)",
    "orders": "mobile orders this week",
    "cross_border_orders": "cross-border mobile orders this week",
    "order_value": "value of this week's mobile orders (currency)",
    "order_value_per_consumer": "value of this week's mobile orders per consumer (currency)",
}
"""Label of each metric column (reports and docs)."""


class GroupRecorder:
    """Records the group table of one model, step by step.

    Attributes:
        names: per grouping, the group names.
        rows: the recorded per-step blocks (a list of DataFrames).
    """

    def __init__(self, scenario: Scenario, consumers: ConsumerState) -> None:
        from model.population import group_layout

        n_regions = len(scenario.region_names)
        layout = group_layout(scenario)
        self._attributes = layout is not None
        income_names = list(layout.income_names) if layout is not None else ["all"]
        n_income = len(income_names)
        region = consumers.region.astype(np.int64)
        area = (~consumers.urban).astype(np.int64)
        self._n_cells = n_regions * 2 * n_income
        self._cell = ((region * 2 + area) * n_income + consumers.income_band).astype(np.int64)
        cells = np.arange(self._n_cells)
        cell_income = cells % n_income
        cell_area = (cells // n_income) % 2
        cell_region = cells // (2 * n_income)
        country = np.array(scenario.region_country_codes, dtype=np.int64)[cell_region]
        groupings: dict[str, tuple[list[str], np.ndarray]] = {
            "all": (["all"], np.zeros(self._n_cells, dtype=np.int64)),
            "country": (list(scenario.country_names), country),
            "region": (list(scenario.region_names), cell_region),
        }
        if self._attributes:
            groupings["area"] = (["urban", "rural"], cell_area)
            groupings["income"] = (income_names, cell_income)
        self.names = {by: names for by, (names, _) in groupings.items()}
        # one (cells x groups) 0/1 matrix, groupings side by side: group sums = cells @ M
        blocks = []
        self._by: list[str] = []
        self._group: list[str] = []
        for by, (names, code) in groupings.items():
            block = np.zeros((self._n_cells, len(names)))
            block[cells, code] = 1.0
            blocks.append(block)
            self._by += [by] * len(names)
            self._group += names
        self._matrix = np.hstack(blocks)
        # consumers are laid out region by region and, with attributes, group by group,
        # so each cell is one contiguous slice: sums per cell are sums over slices
        self._bounds: np.ndarray | None = None
        if self._cell.size and np.all(self._cell[1:] >= self._cell[:-1]):
            self._bounds = np.searchsorted(self._cell, np.arange(self._n_cells + 1))
        self._size = self._cell_sums(None) @ self._matrix
        self.rows: list[pd.DataFrame] = []

    def _cell_sums(self, values: np.ndarray | None) -> np.ndarray:
        """Per cell, the number of consumers (None), of set flags, or the sum of values."""
        if self._bounds is None:
            weights = None if values is None else np.asarray(values, dtype=float)
            return np.bincount(self._cell, weights=weights, minlength=self._n_cells).astype(float)
        b = self._bounds
        if values is None:
            return np.diff(b).astype(float)
        if values.dtype == bool:
            return np.array(
                [np.count_nonzero(values[b[i] : b[i + 1]]) for i in range(self._n_cells)],
                dtype=float,
            )
        return np.array(
            [values[b[i] : b[i + 1]].sum(dtype=np.float64) for i in range(self._n_cells)]
        )

    def record(self, step: int, consumers: Any, orders: Any | None) -> None:
        """Add the rows of one step from the consumers' state and the week's orders.

        Args:
            step: the step number.
            consumers: the consumer state (``model.consumers``).
            orders: the week's orders (``ordering.Orders``: ``consumer``, ``value``,
                ``cross_border``), or None before the first step.
        """
        size = np.maximum(self._size, 1.0)
        data: dict[str, Any] = {
            "step": np.full(len(self._group), step, dtype=np.int64),
            "by": self._by,
            "group": self._group,
            "consumers": self._size.astype(np.int64),
        }
        for column, field in SHARE_METRICS.items():
            data[column] = self._cell_sums(getattr(consumers, field)) @ self._matrix / size
        for column, field in MEAN_METRICS.items():
            data[column] = self._cell_sums(getattr(consumers, field)) @ self._matrix / size
        if orders is not None and orders.consumer.size:
            cell = self._cell[orders.consumer]
            count = np.bincount(cell, minlength=self._n_cells).astype(float)
            cross = np.bincount(
                cell, weights=np.asarray(orders.cross_border, dtype=float), minlength=self._n_cells
            )
            value = np.bincount(
                cell, weights=np.asarray(orders.value, dtype=float), minlength=self._n_cells
            )
        else:
            count = cross = value = np.zeros(self._n_cells)
        data["orders"] = (count @ self._matrix).astype(np.int64)
        data["cross_border_orders"] = (cross @ self._matrix).round().astype(np.int64)
        data["order_value"] = value @ self._matrix
        data["order_value_per_consumer"] = data["order_value"] / size
        self.rows.append(pd.DataFrame(data, columns=list(COLUMNS)))

    def table(self) -> pd.DataFrame:
        """Return the group table so far (columns ``COLUMNS``)."""
        if not self.rows:
            return pd.DataFrame({c: [] for c in COLUMNS})
        return pd.concat(self.rows, ignore_index=True)


def who_gains(
    base: pd.DataFrame,
    policy: pd.DataFrame,
    step: int | None = None,
    metrics: tuple[str, ...] = ("payment_share", "ordered_share", "order_value_per_consumer"),
) -> pd.DataFrame:
    """Who gains from a policy: each group's metric in the policy run minus the baseline.

    Both tables are group tables (``groups.csv``), possibly of several replications
    (a ``replication`` column): values are averaged over replications first.

    Args:
        base: the baseline scenario's group table.
        policy: the policy scenario's group table.
        step: the step compared (default: the last step in both).
        metrics: the metric columns compared.

    Returns:
        One row per (by, group): ``by``, ``group``, then per metric ``<metric>_base``,
        ``<metric>_policy`` and ``<metric>_gain`` (policy - base). Groups present in
        only one table are left out.
    """
    if step is None:
        step = int(min(base["step"].max(), policy["step"].max()))
    keys = ["by", "group"]

    def at_step(table: pd.DataFrame) -> pd.DataFrame:
        rows = table[table["step"] == step]
        return rows.groupby(keys, sort=False)[list(metrics)].mean().reset_index()

    merged = at_step(base).merge(at_step(policy), on=keys, suffixes=("_base", "_policy"))
    out = merged[keys].copy()
    for metric in metrics:
        out[f"{metric}_base"] = merged[f"{metric}_base"]
        out[f"{metric}_policy"] = merged[f"{metric}_policy"]
        out[f"{metric}_gain"] = merged[f"{metric}_policy"] - merged[f"{metric}_base"]
    return out


def plot_who_gains(gains: pd.DataFrame, metric: str, path: Any, title: str = "") -> None:
    """Bar chart of ``<metric>_gain`` by group, one panel per grouping (not ``all``).

    Args:
        gains: the output of :func:`who_gains`.
        metric: the metric whose gain is drawn.
        path: where the PNG goes.
        title: figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [by for by in GROUPINGS if by != "all" and (gains["by"] == by).any()]
    fig, axes = plt.subplots(1, max(1, len(parts)), figsize=(3.2 * max(1, len(parts)), 3.2))
    axes = np.atleast_1d(axes)
    for ax, by in zip(axes, parts, strict=False):
        rows = gains[gains["by"] == by]
        values = rows[f"{metric}_gain"].to_numpy()
        ax.bar(rows["group"].astype(str), values, color=np.where(values >= 0, "#2a7", "#c44"))
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_title(by)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    axes[0].set_ylabel(f"{GROUP_METRIC_INFO.get(metric, metric)}: policy - base")
    fig.suptitle(title or f"Who gains: {metric}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summarize_groups(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (by, group) of a run's group table: each metric's final value and run mean.

    For the sweep store (``outcomes: by_group``): columns ``by``, ``group``,
    ``consumers``, then ``<metric>_final`` (at the last step) and ``<metric>_mean``
    (over steps 1..T, or step 0 alone when there is no other) for every metric
    column of the group table.
    """
    metrics = [c for c in COLUMNS if c not in ("step", "by", "group", "consumers")]
    last = int(table["step"].max())
    later = table[table["step"] > 0] if last > 0 else table
    keys = ["by", "group"]
    final = table[table["step"] == last].set_index(keys)
    mean = later.groupby(keys, sort=False)[metrics].mean()
    out = final[["consumers"]].copy()
    for metric in metrics:
        out[f"{metric}_final"] = final[metric].astype(float)
        out[f"{metric}_mean"] = mean[metric].reindex(out.index).astype(float)
    return out.reset_index()


def run_with_groups(
    scenario: Scenario, seed: int | None = None, steps: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one model recording the group table: ``(run table, group table)``.

    Like ``model.market.run_model`` (same run table: recording draws nothing), plus
    ``model.group_table()``.
    """
    from model.market import MarketModel

    model = MarketModel(scenario, seed=seed)
    model.track_groups()
    for _ in range(scenario.simulation.steps if steps is None else int(steps)):
        model.step()
    return model.timeseries(), model.group_table()


def simulate_task_with_groups(task: Any) -> pd.DataFrame:
    """Work function for ``model.experiment.runner.run_tasks`` that also keeps the group table.

    Runs the task like the runner's default work (``task.scenario``, ``task.seed``,
    ``task.steps``) and returns the run table with the group table in
    ``table.attrs["groups"]`` (pandas keeps ``attrs`` through pickling, so this works
    with process pools). Take it out at once with ``table.attrs.pop("groups")``:
    pandas copies ``attrs`` into frames derived from the table.
    """
    from model.scenario import scenario_from_dict

    scenario = scenario_from_dict(task.scenario, source=f"run {task.key}")
    table, groups = run_with_groups(scenario, seed=int(task.seed), steps=task.steps)
    table.attrs["groups"] = groups
    return table


# --------------------------------------------------------------------------- files

GROUP_FILE = "groups.csv"
"""Name of the group table in a results folder (``mtsim run``)."""


def replication_group_file(out: Any, replication: int) -> Any:
    """Where one replication's group table is staged before :func:`gather_group_tables`."""
    from pathlib import Path

    return Path(out) / "groups" / f"replication-{replication:03d}.csv"


def write_replication_groups(model: Any, out: Any, replication: int) -> None:
    """Stage a model's group table (``model.group_table()``) for one replication."""
    path = replication_group_file(out, replication)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.group_table().to_csv(path, index=False, lineterminator="\n")


def gather_group_tables(
    stage: Any, replications: list[int], seeds: list[int], scenario: str
) -> list[str]:
    """Join the staged replications' group tables into ``groups.csv`` in ``stage``.

    Adds the columns ``scenario``, ``replication`` and ``seed`` in front (as the run
    table) and removes the staged per-replication files.

    Returns:
        ``["groups.csv"]``, or ``[]`` when no replication staged a table.
    """
    import shutil
    from pathlib import Path

    parts = []
    for rep in replications:
        path = replication_group_file(stage, rep)
        if path.is_file():
            part = pd.read_csv(path, keep_default_na=False)
            part.insert(0, "seed", seeds[rep])
            part.insert(0, "replication", rep)
            part.insert(0, "scenario", scenario)
            parts.append(part)
    shutil.rmtree(Path(stage) / "groups", ignore_errors=True)
    if not parts:
        return []
    table = pd.concat(parts, ignore_index=True)
    tmp = Path(stage) / f".{GROUP_FILE}.tmp"
    table.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(Path(stage) / GROUP_FILE)
    return [GROUP_FILE]


def read_group_table(folder: Any) -> pd.DataFrame:
    """Read the group table of a results folder (``mtsim run``'s ``groups.csv``)."""
    from pathlib import Path

    return pd.read_csv(Path(folder) / GROUP_FILE, keep_default_na=False)

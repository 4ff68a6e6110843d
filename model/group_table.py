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
  ``cross_border_orders``, ``order_value`` (yuan), and ``order_value_per_consumer``.

Recording is opt-in (:meth:`model.market.MarketModel.track_groups`): it costs a few
``np.bincount`` passes over the consumers per step (about 10 ms per million consumers
per step; docs/population.md). Every consumer is counted once per grouping: the
finest cells (region x area x income band) are summed with one bincount per metric,
and the groupings are sums of cells.

Comparing and writing group tables (who gains, ``groups.csv``, runner work functions)
is in model/analysis/group_effects.py.
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

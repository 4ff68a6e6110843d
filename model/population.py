"""Who the consumers are: static attributes drawn from the scenario (docs/population.md).

Each consumer gets an area (urban or rural), an income band and an age band, drawn
independently from the shares in ``population.attributes`` (the urban share may differ
by region: ``regions.*.urban_share``). The attributes shift

- mobile access: each level's ``access`` is a log-odds shift; a region keeps its
  access share, the attributes decide who within it is connected
  (mechanisms/access.py);
- payment adoption, purchase frequency and spending: each level's multipliers,
  multiplied over the three attributes and divided by their mean over the region's
  expected population (so a region's average consumer keeps the scenario's rates).

The multipliers are read by the payment phase (``payment_propensity``) and the ordering
phase (``purchase_frequency``, ``spending``). The social network mixes the groups with
``population.attributes.homophily`` (model/network.py). Without an attributes section
nothing is drawn: every consumer is ``urban``, in band 0, with multipliers 1.0, and
the model's random stream is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.scenario import Scenario


@dataclass(frozen=True)
class ConsumerAttributes:
    """Static per-consumer attributes (length n, consumers ordered by region).

    Attributes:
        urban: lives in an urban area.
        income_band: income band code (index into the scenario's income bands).
        age_band: age band code (index into the scenario's age bands).
        group: combined code ``(area * n_income + income_band) * n_age + age_band``,
            area 0 = urban, 1 = rural.
        payment_propensity: multiplier of mobile payment adoption.
        purchase_frequency: multiplier of purchase desire.
        spending: multiplier of order value.
    """

    urban: np.ndarray
    income_band: np.ndarray
    age_band: np.ndarray
    group: np.ndarray
    payment_propensity: np.ndarray
    purchase_frequency: np.ndarray
    spending: np.ndarray


def no_attributes(n: int) -> ConsumerAttributes:
    """Attributes of a scenario without ``population.attributes`` (no random draws)."""
    return ConsumerAttributes(
        urban=np.ones(n, dtype=bool),
        income_band=np.zeros(n, dtype=np.uint8),
        age_band=np.zeros(n, dtype=np.uint8),
        group=np.zeros(n, dtype=np.uint8),
        payment_propensity=np.ones(n, dtype=np.float32),
        purchase_frequency=np.ones(n, dtype=np.float32),
        spending=np.ones(n, dtype=np.float32),
    )


@dataclass(frozen=True)
class GroupLayout:
    """How the attribute groups of a scenario are coded.

    A consumer's group is ``(area * n_income + income_band) * n_age + age_band`` with
    area 0 = urban, 1 = rural.

    Attributes:
        income_names: income band names, lowest first.
        age_names: age band names, youngest first.
    """

    income_names: tuple[str, ...]
    age_names: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        """Number of groups (2 areas x income bands x age bands)."""
        return 2 * len(self.income_names) * len(self.age_names)

    def decode(self, group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(urban, income_band, age_band) of group codes."""
        group = np.asarray(group, dtype=np.int64)
        n_age, n_income = len(self.age_names), len(self.income_names)
        age = group % n_age
        income = (group // n_age) % n_income
        area = group // (n_age * n_income)
        return area == 0, income.astype(np.uint8), age.astype(np.uint8)


def group_layout(scenario: Scenario) -> GroupLayout | None:
    """Return the scenario's group coding (None without ``population.attributes``)."""
    spec = scenario.population.attributes
    if spec is None:
        return None
    return GroupLayout(tuple(spec.income), tuple(spec.age))


def _levels(scenario: Scenario, field: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per level of area (2), income and age: the value of ``field``."""
    spec = scenario.population.attributes
    assert spec is not None
    area = np.array([getattr(spec.area.urban, field), getattr(spec.area.rural, field)], dtype=float)
    income = np.array([getattr(level, field) for level in spec.income.values()], dtype=float)
    age = np.array([getattr(level, field) for level in spec.age.values()], dtype=float)
    return area, income, age


def _combine(area: np.ndarray, income: np.ndarray, age: np.ndarray, how: str) -> np.ndarray:
    """Per group code, the product (``how='mul'``) or sum of the three levels' values."""
    if how == "mul":
        return (area[:, None, None] * income[None, :, None] * age[None, None, :]).ravel()
    return (area[:, None, None] + income[None, :, None] + age[None, None, :]).ravel()


def group_shares(scenario: Scenario) -> np.ndarray:
    """[region, group] expected share of each group among the region's consumers.

    Area, income band and age band are independent; the urban share is the region's
    ``urban_share`` when given, else ``population.attributes.area``'s.
    """
    area, income, age = _levels(scenario, "share")
    income = income / income.sum()
    age = age / age.sum()
    rows = []
    for region in scenario.regions.values():
        urban = area[0] / area.sum() if region.urban_share is None else region.urban_share
        rows.append(_combine(np.array([urban, 1.0 - urban]), income, age, "mul"))
    return np.array(rows)


def group_access_shift(scenario: Scenario) -> np.ndarray:
    """Per group, the log-odds shift of mobile access (sum over area, income, age)."""
    return _combine(*_levels(scenario, "access"), how="add")


MULTIPLIERS = {
    "payment_propensity": "payment",
    "purchase_frequency": "frequency",
    "spending": "spending",
}
"""ConsumerState multiplier field -> the AttributeLevel field it comes from."""


def group_multipliers(scenario: Scenario) -> dict[str, np.ndarray]:
    """[region, group] multipliers, normalised to mean 1 over each region's population."""
    shares = group_shares(scenario)
    out = {}
    for state_field, level_field in MULTIPLIERS.items():
        raw = _combine(*_levels(scenario, level_field), how="mul")
        mean = shares @ raw
        out[state_field] = (raw[None, :] / mean[:, None]).astype(np.float32)
    return out


def draw_attributes(
    scenario: Scenario, sizes: np.ndarray, rng: np.random.Generator
) -> ConsumerAttributes:
    """Draw every consumer's attributes (consumers laid out region by region).

    Each region's group counts are one multinomial draw from its group shares; within
    a region consumers are laid out group by group (so the stochastic-block network
    can treat each group as a block). Consumer ids are arbitrary labels, so this
    ordering carries no meaning.

    Args:
        scenario: the scenario (``population.attributes``, ``regions.*.urban_share``).
        sizes: consumers per region.
        rng: the model's generator (not used when the scenario has no attributes).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(sizes.sum())
    layout = group_layout(scenario)
    if layout is None:
        return no_attributes(n)
    shares = group_shares(scenario)
    n_groups = layout.n_groups
    counts = np.array(
        [rng.multinomial(int(size), shares[r] / shares[r].sum()) for r, size in enumerate(sizes)],
        dtype=np.int64,
    ).reshape(len(sizes), n_groups)
    group = np.repeat(np.tile(np.arange(n_groups, dtype=np.uint8), len(sizes)), counts.ravel())
    region = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    urban, income, age = layout.decode(group)
    cell = region * n_groups + group
    multipliers = {name: table.ravel()[cell] for name, table in group_multipliers(scenario).items()}
    return ConsumerAttributes(
        urban=urban, income_band=income, age_band=age, group=group, **multipliers
    )


def count_by_region(
    region: np.ndarray, n_regions: int, where: np.ndarray | None = None
) -> np.ndarray:
    """Per region, how many of ``region``'s entries (with ``where`` set) are in it.

    Exactly ``np.bincount(region[where], minlength=n_regions)`` (int64) for region codes
    0..n_regions-1. With a few regions, one comparison per region is several times
    faster than gathering the selected codes and counting them.
    """
    if n_regions > 8:
        return np.bincount(region if where is None else region[where], minlength=n_regions)
    counts = np.zeros(n_regions, dtype=np.int64)
    for r in range(n_regions):
        hit = region == r
        if where is not None:
            hit &= where
        counts[r] = np.count_nonzero(hit)
    return counts


def by_region(values: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Per entry of ``region``, its region's value: exactly ``values[region]``.

    With two regions a selection between the two values, faster than gathering through
    the (small-integer) region codes.
    """
    values = np.asarray(values)
    if values.shape == (2,):
        return np.where(region == 0, values[0], values[1])
    return values[region]

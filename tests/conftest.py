"""Shared test helpers: small scenarios built from the shipped baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"

SMALL = {
    "population.consumers": 600,
    "population.merchants": 40,
    "population.kols": 5,
    "simulation.steps": 30,
}


def small_scenario(**overrides):
    """The baseline shrunk to a few hundred consumers, with dotted-path overrides (a__b -> a.b)."""
    from model.scenario import load_scenario

    values = dict(SMALL)
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_scenario(BASELINE, values)


@pytest.fixture
def baseline_path() -> Path:
    return BASELINE

"""mtsim: agent-based simulation of mobile marketing, mobile payment and cross-border trade.

The public API, also importable as ``mtsim`` (mtsim/__init__.py: the name to use in a
folder that has a ``model.py`` of its own)::

    from model import load_scenario, MarketModel, run_model, METRICS
    scenario = load_scenario("scenarios/baseline.yaml", ["population.consumers=2000"])
    table = run_model(scenario, seed=1)          # one row per step, one column per metric

``import model`` is light: every name below is imported on first use, so the command
line can check its input before paying for pydantic, NumPy, pandas or Mesa.
"""

__version__ = "0.1.0"

__mtsim__ = True
"""Marks this package as mtsim's ``model`` (``import mtsim`` checks it: another module
called ``model``, such as a user's model.py, is not)."""

from model.errors import UserError  # noqa: E402

#: public name -> module that defines it (imported on first use)
_LAZY: dict[str, str] = {
    "Scenario": "model.scenario",
    "ScenarioError": "model.scenario",
    "load_scenario": "model.scenario",
    "MarketModel": "model.market",
    "run_model": "model.market",
    "METRICS": "model.metrics",
    "load_results": "model.experiment.store",
}

__all__ = ["UserError", "__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

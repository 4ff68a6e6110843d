"""mtsim: agent-based simulation of mobile marketing, mobile payment and cross-border trade.

The public API::

    from model import load_scenario, MarketModel, run_model, METRICS
    scenario = load_scenario("scenarios/baseline.yaml", ["population.consumers=2000"])
    table = run_model(scenario, seed=1)          # one row per step, one column per metric
"""

__version__ = "0.1.0"

from model.errors import UserError  # noqa: E402
from model.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["UserError", "Scenario", "ScenarioError", "load_scenario", "__version__"]


def __getattr__(name: str):
    # the model core and the harness are imported on first use, keeping `import model` light
    if name in ("MarketModel", "run_model"):
        from model import market

        return getattr(market, name)
    if name == "METRICS":
        from model.metrics import METRICS

        return METRICS
    if name == "load_results":
        from model.experiment.store import load_results

        return load_results
    raise AttributeError(f"module 'model' has no attribute {name!r}")

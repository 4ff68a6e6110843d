"""Per-consumer history: kept only when asked, consistent with the run table, written by
mtsim run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import MarketModel
from model.metrics import CONSUMER_RECORD_FIELDS
from model.scenario import ScenarioError
from tests.conftest import small_scenario
from tests.test_model import BASELINE, mtsim


def _run(scenario, steps: int, seed: int = 5) -> MarketModel:
    model = MarketModel(scenario, seed=seed)
    for _ in range(steps):
        model.step()
    return model


def test_no_per_agent_history_unless_asked():
    model = _run(small_scenario(), 12)
    history = model.consumer_history()
    assert history.empty
    assert list(history.columns) == ["step", "consumer", "region", *CONSUMER_RECORD_FIELDS]
    assert model._consumer_records == []


def test_records_every_k_steps_match_the_run_table_and_change_nothing():
    plain = _run(small_scenario(), 25).timeseries()
    model = _run(small_scenario(simulation__record_consumers_every=10), 25)
    table = model.timeseries()
    pd.testing.assert_frame_equal(table, plain)  # recording does not touch the simulation

    history = model.consumer_history()
    n = model.consumers.n
    assert sorted(history["step"].unique()) == [0, 10, 20]
    assert len(history) == 3 * n
    by_step = history.groupby("step")
    rows = table.set_index("step").loc[[0, 10, 20]]
    np.testing.assert_allclose(by_step["aware"].mean(), rows["aware_share"])
    np.testing.assert_allclose(by_step["payment"].mean(), rows["payment_adoption"])
    np.testing.assert_allclose(by_step["has_ordered"].mean(), rows["shopper_share"])
    np.testing.assert_allclose(
        by_step["trust_domestic"].mean(), rows["mean_trust_domestic"], rtol=1e-5
    )
    # a record is a copy of that step's state, not a view of the live arrays
    assert history.loc[history["step"] == 0, "aware"].mean() < rows.loc[20, "aware_share"]
    assert set(history["region"].unique()) <= set(model.region_names)
    assert history["stage"].between(0, 4).all()
    assert history["trust_foreign"].between(0, 1).all()


def test_record_setting_is_validated():
    with pytest.raises(ScenarioError, match="record_consumers_every"):
        small_scenario(simulation__record_consumers_every=-1)


def test_mtsim_run_writes_consumer_records_per_replication(tmp_path):
    out = tmp_path / "run"
    args = ["run", str(BASELINE), "--steps", "8", "--reps", "2", "--quiet",
            "--set", "population.consumers=500", "--set", "population.merchants=30",
            "--set", "simulation.record_consumers_every=4", "--out", str(out)]
    done = mtsim(*args)
    assert done.returncode == 0, done.stderr
    assert "consumers/" in done.stdout
    history = pd.read_parquet(out / "consumers")
    series = pd.read_csv(out / "timeseries.csv")
    assert sorted(history["replication"].unique()) == [0, 1]
    assert sorted(history["step"].unique()) == [0, 4, 8]
    assert len(history) == 2 * 3 * 500
    shares = history.groupby(["replication", "step"])["payment"].mean()
    expected = series.set_index(["replication", "step"])["payment_adoption"].loc[shares.index]
    np.testing.assert_allclose(shares.to_numpy(), expected.to_numpy())

    # a rerun with fewer replications into the same folder leaves no stale file behind
    rerun = [a if a != "2" else "1" for a in args]
    done = mtsim(*rerun)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (out / "consumers").iterdir()] == ["replication-000.parquet"]

    # without the setting, no consumers/ folder
    plain = tmp_path / "plain"
    done = mtsim("run", str(BASELINE), "--steps", "3", "--quiet",
                 "--set", "population.consumers=300", "--out", str(plain))
    assert done.returncode == 0, done.stderr
    assert not (plain / "consumers").exists()

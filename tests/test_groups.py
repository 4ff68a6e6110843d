"""Results by group: the group table and who gains from a policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import small_scenario

from model.analysis.group_effects import plot_who_gains, who_gains
from model.group_table import COLUMNS
from model.market import MarketModel
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
FOUR = ROOT / "scenarios" / "four_regions.yaml"
SMALL = {
    "population.consumers": 1500,
    "population.merchants": 60,
    "population.kols": 5,
    "simulation.steps": 12,
}


def run_groups(scenario, steps=12, seed=2):
    model = MarketModel(scenario, seed=seed)
    model.track_groups()
    for _ in range(steps):
        model.step()
    return model, model.group_table()


def test_group_table_adds_up_to_the_model():
    model, table = run_groups(load_scenario(FOUR, SMALL))
    assert list(table.columns) == list(COLUMNS)
    assert sorted(table["step"].unique()) == list(range(13))
    last = table[table["step"] == 12].set_index(["by", "group"])
    c = model.consumers
    n = c.n
    for by in ("all", "country", "region", "area", "income"):
        assert last.loc[by, "consumers"].sum() == n, by
    assert set(last.loc["country"].index) == {"home", "partner"}
    assert set(last.loc["area"].index) == {"urban", "rural"}
    everyone = last.loc[("all", "all")]
    assert everyone["payment_share"] == pytest.approx(c.payment.mean())
    assert everyone["access_share"] == pytest.approx(c.has_access.mean())
    assert everyone["trust_foreign"] == pytest.approx(c.trust_foreign.mean(), rel=1e-5)
    orders = model.last_week.signals.orders
    assert everyone["orders"] == orders.consumer.size
    assert everyone["order_value"] == pytest.approx(float(np.sum(orders.value)))
    # a region's row is the mean over its consumers
    inland = model.scenario.region_names.index("inland")
    mine = c.region == inland
    assert last.loc[("region", "inland"), "aware_share"] == pytest.approx(c.aware[mine].mean())
    home = np.isin(c.region, [0, inland])
    assert last.loc[("country", "home"), "consumers"] == home.sum()
    rural = ~c.urban
    assert last.loc[("area", "rural"), "access_share"] == pytest.approx(c.has_access[rural].mean())


def test_group_table_without_attributes_has_no_area_or_income_rows():
    model, table = run_groups(small_scenario(**{"population.attributes": None}), steps=3)
    assert set(table["by"]) == {"all", "country", "region"}
    assert (table["consumers"][table["by"] == "all"] == model.consumers.n).all()


def test_group_table_is_empty_unless_asked_and_does_not_change_results():
    sc = small_scenario()
    quiet = MarketModel(sc, seed=9)
    tracked = MarketModel(sc, seed=9)
    tracked.track_groups()
    for _ in range(3):
        quiet.step()
        tracked.step()
    assert quiet.group_table().empty and list(quiet.group_table().columns) == list(COLUMNS)
    pd.testing.assert_frame_equal(quiet.timeseries(), tracked.timeseries())


def test_who_gains_from_infrastructure_are_the_rural_consumers():
    """Closing half of every access gap helps those with the larger gap most."""
    sc = load_scenario(FOUR, SMALL)
    policy = load_scenario(
        FOUR,
        {
            **SMALL,
            "policies": [{"lever": "infrastructure", "start": 1, "strength": 0.5}],
        },
    )
    _, base = run_groups(sc, steps=4)
    _, with_policy = run_groups(policy, steps=4)
    gains = who_gains(base, with_policy, metrics=("access_share", "payment_share"))
    by_group = gains.set_index(["by", "group"])
    rural = by_group.loc[("area", "rural"), "access_share_gain"]
    urban = by_group.loc[("area", "urban"), "access_share_gain"]
    assert rural > urban > 0
    assert by_group.loc[("all", "all"), "access_share_gain"] > 0
    assert {"access_share_base", "access_share_policy"} <= set(gains.columns)


def test_who_gains_averages_replications_and_plots(tmp_path):
    def table(values, replication):
        return pd.DataFrame(
            {
                "replication": replication,
                "step": [5, 5],
                "by": ["area", "area"],
                "group": ["urban", "rural"],
                "payment_share": values,
            }
        )

    base = pd.concat([table([0.5, 0.2], 0), table([0.7, 0.4], 1)])
    policy = pd.concat([table([0.6, 0.5], 0), table([0.6, 0.5], 1)])
    gains = who_gains(base, policy, metrics=("payment_share",)).set_index("group")
    assert gains.loc["urban", "payment_share_gain"] == pytest.approx(0.0)
    assert gains.loc["rural", "payment_share_gain"] == pytest.approx(0.2)
    path = tmp_path / "gains.png"
    plot_who_gains(gains.reset_index(), "payment_share", path)
    assert path.stat().st_size > 1000


def test_mtsim_run_writes_groups_csv(tmp_path):
    from model.analysis.group_effects import read_group_table
    from tests.test_model import mtsim

    out = tmp_path / "run"
    done = mtsim(
        "run", str(FOUR), "--steps", "4", "--reps", "2", "--quiet",
        "--set", "population.consumers=600", "--set", "population.merchants=30",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "groups.csv" in done.stdout
    groups = read_group_table(out)
    series = pd.read_csv(out / "timeseries.csv")
    assert list(groups.columns[:3]) == ["scenario", "replication", "seed"]
    assert sorted(groups["replication"].unique()) == [0, 1]
    assert sorted(groups["step"].unique()) == list(range(5))
    assert not (out / "groups").exists()
    everyone = groups[groups["by"] == "all"].set_index(["replication", "step"])
    expected = series.set_index(["replication", "step"])["payment_adoption"]
    np.testing.assert_allclose(
        everyone["payment_share"].to_numpy(), expected.loc[everyone.index].to_numpy()
    )


def test_summarize_groups_gives_final_and_mean_per_group():
    from model.analysis.group_effects import summarize_groups
    from model.experiment.runner import run_with_groups

    sc = load_scenario(FOUR, SMALL)
    series, table = run_with_groups(sc, seed=3, steps=4)
    summary = summarize_groups(table).set_index(["by", "group"])
    assert len(summary) == table[table["step"] == 4].shape[0]
    everyone = summary.loc[("all", "all")]
    assert everyone["payment_share_final"] == pytest.approx(series["payment_adoption"].iloc[-1])
    mean_orders = table[(table["by"] == "all") & (table["step"] > 0)]["orders"].mean()
    assert everyone["orders_mean"] == pytest.approx(mean_orders)


def test_runner_work_function_returns_the_group_table_with_the_run_table():
    from model.experiment.runner import RunTask, run_tasks, simulate_task_with_groups

    sc = load_scenario(FOUR, SMALL)
    tasks = [RunTask(key=f"r{s}", scenario=sc.resolved(), seed=s, steps=3) for s in (1, 2)]
    results = list(run_tasks(tasks, workers=1, progress=False, work=simulate_task_with_groups))
    assert all(r.ok for r in results), [r.error for r in results]
    for result in results:
        groups = result.table.attrs.pop("groups")
        assert list(groups.columns) == list(COLUMNS)
        everyone = groups[groups["by"] == "all"]
        np.testing.assert_allclose(
            everyone["payment_share"].to_numpy(), result.table["payment_adoption"].to_numpy()
        )


def test_group_sums_do_not_depend_on_the_consumers_order():
    """Contiguous cells (slices) and any order (bincount) give the same table."""
    from types import SimpleNamespace

    from model.group_table import GroupRecorder

    model = MarketModel(load_scenario(FOUR, SMALL), seed=8)
    for _ in range(3):
        model.step()
    c = model.consumers
    fields = (
        "region urban income_band has_access aware payment has_ordered "
        "has_ordered_cross_border trust_domestic trust_foreign"
    ).split()
    order = np.random.default_rng(0).permutation(c.n)
    laid_out = SimpleNamespace(**{f: getattr(c, f) for f in fields})
    shuffled = SimpleNamespace(**{f: getattr(c, f)[order] for f in fields})
    orders = model.last_week.signals.orders
    moved = SimpleNamespace(
        consumer=np.argsort(order)[orders.consumer],
        value=orders.value,
        cross_border=orders.cross_border,
    )
    a = GroupRecorder(model.scenario, laid_out)
    b = GroupRecorder(model.scenario, shuffled)
    a.record(3, laid_out, orders)
    b.record(3, shuffled, moved)
    pd.testing.assert_frame_equal(a.table(), b.table(), check_exact=False, rtol=1e-9)

"""`mtsim compare`: common random numbers, outputs, figures, report, errors and failures."""

from __future__ import annotations

import argparse
import json
from concurrent.futures import Executor, Future
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from model.analysis import compare, plots, report, stats
from model.commands import compare as compare_command
from model.errors import UserError
from model.experiment.runner import execute_task

SMALL = "population: {consumers: 300, merchants: 20, kols: 3}\nsimulation: {steps: 12, seed: 7}\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.fixture()
def scenario_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return {
        "base": _write(folder, "base", "# the reference\nname: base\n" + SMALL),
        "twin": _write(folder, "twin", "extends: base.yaml\nname: twin\n"),
        "security": _write(
            folder,
            "security",
            "extends: base.yaml\nname: security\npolicies:\n"
            "  - {lever: payment_security, start: 2, ramp: 3, strength: 0.8,"
            " cost_per_step: 50, label: Payment security}\n"
            "  - {lever: rigid_demand, start: 1, strength: 0.3, cost_per_step: 20}\n",
        ),
    }


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mtsim")
    compare_command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def _run(argv: list[str]) -> int:
    args = _parse(argv)
    return args.func(args)


def _not_blank(path: Path) -> None:
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
    assert float(np.std(image[..., :3])) > 0.01


# ----------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> tuple[Path, int, str]:
    """One small comparison shared by the checks below: base, its twin, a policy."""
    folder = tmp_path_factory.mktemp("cmp")
    files = {
        "base": _write(folder, "base", "name: base\n" + SMALL),
        "twin": _write(folder, "twin", "extends: base.yaml\nname: twin\n"),
        "security": _write(
            folder,
            "security",
            "extends: base.yaml\nname: security\npolicies:\n"
            "  - {lever: payment_security, start: 2, ramp: 3, strength: 0.8,"
            " cost_per_step: 50, label: Payment security}\n"
            "  - {lever: rigid_demand, start: 1, strength: 0.3, cost_per_step: 20}\n",
        ),
    }
    out = folder / "out"
    code = _run(
        [
            "compare",
            str(files["base"]),
            str(files["twin"]),
            str(files["security"]),
            "--reps",
            "3",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    return out, code, str(files["base"])


def test_compare_writes_every_output(comparison):
    out, code, _ = comparison
    assert code == 0
    for name in (
        "timeseries.csv",
        "outcomes.csv",
        "comparison.png",
        "comparison.svg",
        "effects.png",
        "timelines.png",
        "report.html",
        "manifest.json",
    ):
        assert (out / name).stat().st_size > 1000, name


def test_timeseries_has_documented_columns_and_common_seeds(comparison):
    out, _, _ = comparison
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns[:4]) == ["scenario", "replication", "seed", "step"]
    assert {"payment_adoption", "cross_border_share", "policy_cost"} <= set(ts.columns)
    assert set(ts["scenario"]) == {"base", "twin", "security"}
    assert len(ts) == 3 * 3 * 13  # scenarios x replications x steps 0..12
    seeds = ts.groupby(["replication", "scenario"])["seed"].first().unstack()
    assert (seeds.nunique(axis=1) == 1).all()  # replication i: the same seed everywhere
    assert seeds["base"].nunique() == 3  # and a different seed per replication
    assert seeds["base"].tolist() == compare.replication_seeds(7, 3)


def test_identical_scenarios_give_exactly_zero_paired_differences(comparison):
    out, _, _ = comparison
    ts = pd.read_csv(out / "timeseries.csv")
    metrics = [c for c in ts.columns if c not in ("scenario", "replication", "seed", "step")]
    base = ts[ts.scenario == "base"].reset_index(drop=True)[metrics]
    twin = ts[ts.scenario == "twin"].reset_index(drop=True)[metrics]
    pd.testing.assert_frame_equal(base, twin)
    outcomes = pd.read_csv(out / "outcomes.csv")
    twin_rows = outcomes[(outcomes.scenario == "twin") & outcomes["diff"].notna()]
    assert len(twin_rows) >= 2 * 13
    assert (twin_rows[["diff", "diff_ci_low", "diff_ci_high"]].to_numpy() == 0.0).all()


def test_outcomes_table_statistics_and_costs(comparison):
    out, _, _ = comparison
    ts = pd.read_csv(out / "timeseries.csv")
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert set(outcomes["measure"]) == {"final", "last_quarter", "run_mean", "total"}
    # 12 weeks < a quarter: the last-quarter window is every simulated week
    quarter = outcomes[
        (outcomes.scenario == "security")
        & (outcomes.metric == "orders")
        & (outcomes.measure == "last_quarter")
    ].iloc[0]
    runs = ts[(ts.scenario == "security") & (ts.step >= 1)].groupby("replication")["orders"]
    assert quarter["mean"] == pytest.approx(runs.mean().mean())
    assert (outcomes["reference"] == "base").all()
    # recompute one row from the time series
    final = ts[ts.step == 12].pivot(
        index="replication", columns="scenario", values="payment_adoption"
    )
    want = stats.paired_difference(final["security"], final["base"])
    row = outcomes[
        (outcomes.scenario == "security")
        & (outcomes.metric == "payment_adoption")
        & (outcomes.measure == "final")
    ].iloc[0]
    assert row["diff"] == pytest.approx(want.mean)
    assert row["diff_ci_low"] == pytest.approx(want.low)
    # cost: ramped payment security (50/3, 100/3, then 50) from week 2 and 20 a week from week 1
    expected_cost = 12 * 20 + 50 * (1 / 3 + 2 / 3) + 50 * 9
    assert row["total_cost"] == pytest.approx(expected_cost)
    assert row["extra_cost"] == pytest.approx(expected_cost)
    assert row["effect_per_unit_cost"] == pytest.approx(want.mean / expected_cost)
    assert row["diff_ci_low"] > 0  # the policy clearly raises payment adoption
    base_row = outcomes[(outcomes.scenario == "base") & (outcomes.metric == "payment_adoption")]
    assert base_row["diff"].isna().all() and (base_row["total_cost"] == 0).all()


def test_figures_are_not_blank(comparison):
    out, _, _ = comparison
    for name in ("comparison.png", "effects.png", "timelines.png"):
        _not_blank(out / name)
    svg = (out / "comparison.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for name in ("base", "twin", "security"):
        assert name in svg  # the legend names every scenario


def test_report_is_self_contained_and_names_every_scenario(comparison):
    out, _, base_file = comparison
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3
    assert 'src="http' not in html and "<script" not in html
    for name in ("base", "twin", "security"):
        assert f"<strong>{name}</strong>" in html
    assert base_file in html
    assert "Payment security" in html and "payment_security" in html  # the timeline table
    assert "raises consumers paying by mobile by" in html
    assert "twin gives exactly the same outcomes as base in every paired run" in html
    assert "on average in weeks 1 to 12" in html  # weekly flows read over the last quarter
    assert "Costs" in html and "per 1,000 units" in html


def test_manifest_records_the_study(comparison):
    out, _, _ = comparison
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "compare"
    assert manifest["seeds"] == compare.replication_seeds(7, 3)
    assert manifest["replications"] == 3 and manifest["steps"] == 12
    assert manifest["base_seed"] == 7 and manifest["reference"] == "base"
    assert set(manifest["scenarios"]) == {"base", "twin", "security"}
    assert manifest["runs_finished"] == 9 and manifest["runs_failed"] == 0
    assert {"numpy", "mesa", "python"} <= set(manifest["versions"])
    assert manifest["started"] and manifest["finished"]


# ----------------------------------------------------------------------------- options


def test_seed_steps_and_set_options(scenario_files, tmp_path):
    out = tmp_path / "o"
    code = _run(
        [
            "compare",
            str(scenario_files["base"]),
            str(scenario_files["base"]),  # the same file twice: named base and base#2
            "--reps",
            "2",
            "--steps",
            "5",
            "--seed",
            "99",
            "--set",
            "population.consumers=200",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == compare.replication_seeds(99, 2)
    assert manifest["scenarios"]["base#2"]["population"]["consumers"] == 200
    ts = pd.read_csv(out / "timeseries.csv")
    assert ts["step"].max() == 5 and set(ts["scenario"]) == {"base", "base#2"}


def test_default_out_dir_is_named_after_the_scenarios(scenario_files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["compare", str(scenario_files["base"]), str(scenario_files["security"])]
    argv += ["--reps", "1", "--steps", "3", "--workers", "1", "--quiet"]
    assert _run(argv) == 0
    made = list((tmp_path / "results").iterdir())
    assert len(made) == 1 and made[0].name.startswith("compare-base-security-")
    assert (made[0] / "report.html").exists()
    assert not (made[0] / "effects.png").exists() or (made[0] / "effects.png").stat().st_size


def test_workers_do_not_change_results(scenario_files, tmp_path):
    names, loaded, _ = compare.load_scenarios([scenario_files["base"], scenario_files["security"]])
    one = compare.run_comparison(names, loaded, tmp_path / "a", reps=2, steps=6, progress=False)
    two = compare.run_comparison(
        names, loaded, tmp_path / "b", reps=2, steps=6, workers=2, progress=False
    )
    pd.testing.assert_frame_equal(one.timeseries, two.timeseries)


# ----------------------------------------------------------------------------- errors


def test_bad_scenario_files_stop_before_any_run(scenario_files, tmp_path):
    folder = scenario_files["base"].parent
    bad_key = _write(folder, "bad_key", "extends: base.yaml\npopulaton: {consumers: 10}\n")
    bad_policy = _write(
        folder,
        "bad_policy",
        "extends: base.yaml\npolicies:\n  - {lever: integrity, start: 9, end: 2}\n",
    )
    out = tmp_path / "never"
    argv = ["compare", str(scenario_files["base"]), str(bad_key), str(bad_policy)]
    with pytest.raises(UserError) as info:
        _run([*argv, str(folder / "missing.yaml"), "--out", str(out), "--quiet"])
    lines = str(info.value).splitlines()
    assert any(line.startswith(f"{bad_key}: populaton: unknown key") for line in lines)
    assert any(
        line.startswith(f"{bad_policy}: policies.0:") and "end (2)" in line for line in lines
    )
    assert any("missing.yaml: file not found" in line for line in lines)
    assert not out.exists()


def test_bad_options_are_user_errors(scenario_files, tmp_path):
    base = str(scenario_files["base"])
    for extra, fragment in (
        (["--reps", "0"], "--reps"),
        (["--workers", "0"], "--workers"),
        (["--steps", "0"], "--steps"),
        (["--set", "population.consumers=-5"], "population.consumers"),
    ):
        with pytest.raises(UserError, match=fragment):
            _run(["compare", base, "--out", str(tmp_path / "x"), "--quiet", *extra])
    longer = _write(
        scenario_files["base"].parent, "longer", "extends: base.yaml\nsimulation: {steps: 30}\n"
    )
    with pytest.raises(UserError, match="different numbers of weeks"):
        _run(["compare", base, str(longer), "--quiet"])


def test_cli_prints_one_line_error_and_exits_2(tmp_path, capsys):
    from model.cli import main

    code = main(["compare", str(tmp_path / "nope.yaml"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("mtsim: error: ") and "nope.yaml: file not found" in err
    assert "Traceback" not in err


class _FlakyExecutor(Executor):
    """Runs tasks in this process; the worker 'dies' on the tasks named in ``fail``."""

    def __init__(self, fail: set[str]):
        self.fail = fail

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        task = args[0]
        if task.key in self.fail:
            future.set_exception(RuntimeError("worker lost"))
        else:
            future.set_result(execute_task(*args, **kwargs))
        return future


def test_failed_runs_are_reported_not_dropped(scenario_files, tmp_path):
    folder = scenario_files["base"].parent
    broken = _write(
        folder,
        "broken",
        "extends: base.yaml\nname: broken\nnetwork: {kind: file, path: no_such_graph.txt}\n",
    )
    names, loaded, sources = compare.load_scenarios(
        [scenario_files["base"], broken, scenario_files["security"]]
    )
    result = compare.run_comparison(
        names,
        loaded,
        tmp_path / "out",
        reps=2,
        steps=5,
        sources=sources,
        executor=_FlakyExecutor({"security/1"}),
        progress=False,
    )
    failed = {(f["scenario"], f["replication"]) for f in result.failures}
    assert failed == {("broken", 0), ("broken", 1), ("security", 1)}
    assert all(f["error"] for f in result.failures)
    manifest = json.loads((result.out / "manifest.json").read_text())
    assert manifest["runs_failed"] == 3 and manifest["status"] == "complete with failed runs"
    assert "no_such_graph.txt" in json.dumps(manifest["failures"])
    html = (result.out / "report.html").read_text()
    assert "3 run(s) failed" in html and "worker lost" in html
    assert "broken: no run finished" in html
    row = result.summary[
        (result.summary.scenario == "security") & (result.summary.metric == "payment_adoption")
    ].iloc[0]
    assert row["n"] == 1 and row["n_pairs"] == 1


def test_failed_runs_give_exit_code_1_and_stderr_lines(scenario_files, tmp_path, capsys):
    folder = scenario_files["base"].parent
    broken = _write(
        folder,
        "broken2",
        "extends: base.yaml\nname: broken\nnetwork: {kind: file, path: no_such_graph.txt}\n",
    )
    argv = ["compare", str(scenario_files["base"]), str(broken), "--reps", "1", "--steps", "3"]
    code = _run([*argv, "--workers", "1", "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "mtsim: run failed: broken replication 0" in err and "no_such_graph.txt" in err


# ----------------------------------------------------------------------------- unit level


def _synthetic(effect: float, noise: float, reps: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for rep in range(reps):
        common = rng.normal(0, 0.02, 11)
        for name, shift in (("ref", 0.0), ("up", effect), ("flat", 0.0)):
            own = rng.normal(0, noise, 11)
            for t in range(11):
                value = 0.02 * t + common[t] + (shift + own[t] if t else 0.0)
                rows.append(
                    {
                        "scenario": name,
                        "replication": rep,
                        "seed": rep,
                        "step": t,
                        "payment_adoption": value,
                        "cross_border_share": value / 2,
                        "orders": 100 * value,
                        "policy_cost": 10.0 if name == "up" and t else 0.0,
                    }
                )
    return pd.DataFrame(rows)


def test_sentences_claim_a_direction_only_when_the_interval_excludes_zero():
    table = _synthetic(effect=0.05, noise=0.02)
    summary = stats.summarize(stats.run_outcomes(table))
    text = report.scenario_sentences(summary, ["ref", "up", "flat"], 10)
    row = summary[
        (summary.scenario == "flat")
        & (summary.metric == "payment_adoption")
        & (summary.measure == "final")
    ].iloc[0]
    assert row["diff_ci_low"] < 0 < row["diff_ci_high"]
    assert "flat makes no clear difference to consumers paying by mobile" in text["flat"]
    assert "raises" not in text["flat"] and "lowers" not in text["flat"]
    up = summary[
        (summary.scenario == "up")
        & (summary.metric == "payment_adoption")
        & (summary.measure == "final")
    ].iloc[0]
    assert up["diff_ci_low"] > 0
    shown = [f"{100 * up[k]:.1f}" for k in ("diff", "diff_ci_low", "diff_ci_high")]
    assert (
        f"by week 10 up raises consumers paying by mobile by {shown[0]} points "
        f"({shown[1]} to {shown[2]})" in text["up"]
    )
    assert "Its policies cost 100 currency units" in text["up"]
    down = summary.assign(
        diff=-summary["diff"],
        diff_ci_low=-summary["diff_ci_high"],
        diff_ci_high=-summary["diff_ci_low"],
    )
    assert (
        f"lowers consumers paying by mobile by {shown[0]} points ({shown[1]} to {shown[2]})"
        in report.scenario_sentences(down, ["ref", "up", "flat"], 10)["up"]
    )


def test_effect_clause_formats_the_issue_example():
    disp = plots.metric_display("cross_border_share")
    assert disp.scale == 100 and disp.difference_unit == "points"
    assert (
        report.effect_clause(disp, 0.041, 0.029, 0.053, 10)
        == "raises cross-border share of orders by 4.1 points (2.9 to 5.3)"
    )
    assert report.effect_clause(disp, -0.041, -0.053, -0.029, 10).startswith(
        "lowers cross-border share of orders by 4.1 points (2.9 to 5.3)"
    )
    single = report.effect_clause(disp, 0.041, float("nan"), float("nan"), 1)
    assert "too few replications" in single


def test_plots_and_report_from_a_synthetic_table(tmp_path):
    table = _synthetic(effect=0.05, noise=0.01)
    names = ["ref", "up", "flat"]
    summary = stats.summarize(stats.run_outcomes(table))
    colors = plots.scenario_colors(names)
    assert colors["ref"] == plots.REFERENCE_COLOR and len(set(colors.values())) == 3
    (cmp_png, cmp_svg) = plots.plot_comparison(
        stats.timeseries_bands(table), [tmp_path / "c.png", tmp_path / "c.svg"], colors=colors
    )
    (eff,) = plots.plot_effects(summary, [tmp_path / "e.png"], colors=colors, week=10)
    (tl,) = plots.plot_policy_timelines(
        {
            "ref": [],
            "up": [{"lever": "integrity", "start": 2, "ramp": 3, "strength": 0.5}],
            "flat": [],
        },
        10,
        [tmp_path / "t.png"],
        colors=colors,
    )
    for path in (cmp_png, eff, tl):
        _not_blank(path)
    info = report.ComparisonInfo(
        scenarios=names,
        resolved={n: {"name": n, "policies": []} for n in names},
        steps=10,
        replications=4,
        seeds=[0, 1, 2, 3],
    )
    page = tmp_path / "r.html"
    report.write_report(
        page, info, summary, {"timelines": tl, "Over time": cmp_png, "Effects": eff}
    )
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 3
    for name in names:
        assert f"<strong>{name}</strong>" in html
    assert cmp_svg.stat().st_size > 1000


def test_interrupt_keeps_finished_runs_and_a_manifest(scenario_files, tmp_path, monkeypatch):
    import model.market

    real_run_model = model.market.run_model
    names, loaded, _ = compare.load_scenarios([scenario_files["base"], scenario_files["security"]])
    seeds = compare.replication_seeds(7, 2)

    def interrupted(scenario, seed=None, steps=None):
        if scenario.name == "security" and seed == seeds[1]:
            raise KeyboardInterrupt
        return real_run_model(scenario, seed=seed, steps=steps)

    monkeypatch.setattr(model.market, "run_model", interrupted)
    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        compare.run_comparison(names, loaded, out, reps=2, steps=4, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["finished"] is None
    assert manifest["runs_finished"] == 3
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts.groupby(["scenario", "replication"])) == 3
    assert not (out / "report.html").exists()

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

from model.analysis import plots, report, stats
from model.analysis.html import render_page
from model.commands import compare as compare_command
from model.errors import UserError
from model.experiment.runner import execute_task
from model.metrics import metric_info
from model.workflows import compare

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
    assert (twin_rows["diff"] == 0.0).all()
    paired = twin_rows[twin_rows["n_pairs"] >= 2]  # one pair gives no interval
    assert (paired[["diff_ci_low", "diff_ci_high"]].to_numpy() == 0.0).all()


def test_outcomes_table_statistics_and_costs(comparison):
    out, _, _ = comparison
    ts = pd.read_csv(out / "timeseries.csv")
    outcomes = pd.read_csv(out / "outcomes.csv")
    # security's interventions act in weeks 2-12 and 1-12 (its whole package: 1-12)
    assert set(outcomes["measure"]) == {
        "final",
        "last_quarter",
        "run_mean",
        "cumulative",
        "weeks_1_12",
        "weeks_2_12",
        "total",
    }
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
    # cost: the policy_cost the model reports each week, summed over a run, mean over runs
    spent = ts[ts.step >= 0].groupby(["scenario", "replication"])["policy_cost"].sum()
    expected_cost = spent["security"].mean()
    assert expected_cost > 0
    assert row["total_cost"] == pytest.approx(expected_cost)
    assert row["extra_cost"] == pytest.approx((spent["security"] - spent["base"]).mean())
    per_pair = (final["security"] - final["base"]) / (spent["security"] - spent["base"])
    assert row["effect_per_unit_cost"] == pytest.approx(per_pair.mean())
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
    assert "Costs" in html and "per 10,000 yuan" in html


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
    summary = stats.summarize(stats.measures_per_run(table))
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
    assert "Its policies cost 100 yuan" in text["up"]
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
    disp = metric_info("cross_border_share")
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
    summary = stats.summarize(stats.measures_per_run(table))
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
    import model.experiment.runner

    real_run = model.experiment.runner.run_with_groups  # what compare runs per replication
    names, loaded, _ = compare.load_scenarios([scenario_files["base"], scenario_files["security"]])
    seeds = compare.replication_seeds(7, 2)

    def interrupted(scenario, seed=None, steps=None):
        if scenario.name == "security" and seed == seeds[1]:
            raise KeyboardInterrupt
        return real_run(scenario, seed=seed, steps=steps)

    monkeypatch.setattr(model.experiment.runner, "run_with_groups", interrupted)
    out = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        compare.run_comparison(names, loaded, out, reps=2, steps=4, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["finished"] is None
    assert manifest["runs_finished"] == 3
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts.groupby(["scenario", "replication"])) == 3
    assert not (out / "report.html").exists()


# ----------------------------------------------------------------------------- decision support


def _summary_row(scenario, metric, measure, diff, low, high, mean=1.0, n=4):
    return {
        "scenario": scenario,
        "metric": metric,
        "measure": measure,
        "n": n,
        "mean": mean,
        "ci_low": mean - 0.1,
        "ci_high": mean + 0.1,
        "reference": "ref",
        "n_pairs": n if scenario != "ref" else 0,
        "diff": diff,
        "diff_ci_low": low,
        "diff_ci_high": high,
        "total_cost": 0.0,
        "extra_cost": float("nan"),
        "effect_per_unit_cost": float("nan"),
        "effect_per_unit_cost_ci_low": float("nan"),
        "effect_per_unit_cost_ci_high": float("nan"),
    }


def test_report_colours_and_words_follow_the_good_direction():
    """Fewer counterfeit sales is good (green), more is bad (red); the cross-border share is
    neither (blue), whatever the sign (issue 17.3)."""
    nan = float("nan")
    rows = []
    for metric, measure in (
        ("counterfeit_incidents", "last_quarter"),
        ("payment_adoption", "final"),
        ("cross_border_share", "last_quarter"),
    ):
        rows.append(_summary_row("ref", metric, measure, nan, nan, nan))
    rows += [
        _summary_row("fewer_fakes", "counterfeit_incidents", "last_quarter", -3.0, -4.0, -2.0),
        _summary_row("fewer_fakes", "payment_adoption", "final", -0.05, -0.07, -0.03),
        _summary_row("fewer_fakes", "cross_border_share", "last_quarter", 0.04, 0.03, 0.05),
        _summary_row("more_fakes", "counterfeit_incidents", "last_quarter", 3.0, 2.0, 4.0),
        _summary_row("more_fakes", "payment_adoption", "final", 0.05, 0.03, 0.07),
        _summary_row("more_fakes", "cross_border_share", "last_quarter", -0.04, -0.05, -0.03),
    ]
    summary = pd.DataFrame(rows)
    names = ["ref", "fewer_fakes", "more_fakes"]
    colors = plots.scenario_colors(names)
    metrics = ["counterfeit_incidents", "payment_adoption", "cross_border_share"]
    html = report.outcome_table(summary, names, metrics, None, colors, 20)
    cells = {}
    for name in names[1:]:
        part = html.split(f"{name}</td>")[1:]
        cells[name] = [p.split('<span class="')[1].split('"')[0] for p in part]
    assert cells["fewer_fakes"] == ["good", "bad", "neutral"]
    assert cells["more_fakes"] == ["bad", "good", "neutral"]
    page = render_page("base.html", title="colours")
    assert ".good{color:#1a7f37" in page and ".bad{color:#b42318" in page
    text = report.scenario_sentences(summary, names, 20, metrics)
    when = "on average in weeks 8 to 20"
    assert (
        f"lowers counterfeit sales by 3.0 incidents per week (2.0 to 4.0) {when}, an improvement"
        in (text["fewer_fakes"])
    )
    assert (
        f"raises counterfeit sales by 3.0 incidents per week (2.0 to 4.0) {when}, a worsening"
        in (text["more_fakes"])
    )
    assert (
        "lowers consumers paying by mobile by 5.0 points (3.0 to 7.0), a worsening"
        in (text["fewer_fakes"])
    )
    share = text["more_fakes"].split("cross-border share of orders")[1][:40]
    assert "improvement" not in share and "worsening" not in share


def test_first_sentence_is_the_effect_while_the_policy_acts():
    """A programme that acts in weeks 1-4 and leaves no trace at week 30 is reported first
    by its effect during those weeks, with the relative change of weekly flows."""
    rng = np.random.default_rng(5)
    rows = []
    for rep in range(6):
        noise = rng.normal(0, 1.0, 31)
        for name in ("ref", "early"):
            for t in range(31):
                boost = 10.0 if name == "early" and 1 <= t <= 4 else 0.0
                rows.append(
                    {
                        "scenario": name,
                        "replication": rep,
                        "seed": rep,
                        "step": t,
                        "orders": 20.0 + noise[t] + boost + rng.normal(0, 0.3),
                        "payment_adoption": 0.1 + 0.01 * t,
                    }
                )
    table = pd.DataFrame(rows)
    summary = stats.summarize(stats.measures_per_run(table, windows=[(1, 4)]))
    text = report.scenario_sentences(
        summary, ["ref", "early"], 30, ["orders", "payment_adoption"], windows={"early": (1, 4)}
    )["early"]
    first = text.split(". ")[0]
    assert first.startswith("While its policies act (weeks 1 to 4), early raises mobile orders")
    row = summary[(summary.scenario == "early") & (summary.measure == "weeks_1_4")]
    row = row[row.metric == "orders"].iloc[0]
    ref = summary[(summary.scenario == "ref") & (summary.measure == "weeks_1_4")]
    ref = ref[ref.metric == "orders"].iloc[0]
    assert f"{row['diff'] / ref['mean'] * 100:+.0f}%" in first  # relative to the reference
    assert "by week 30 early makes no clear difference to mobile orders" in text


def test_coupons_before_trust_lead_with_their_window(tmp_path):
    """The shipped coupons-before-trust scenario: the first sentence about it is its effect
    during weeks 1-26, when the coupons run."""
    root = Path(__file__).resolve().parents[1] / "scenarios"
    out = tmp_path / "coupons"
    argv = ["compare", str(root / "baseline.yaml"), str(root / "coupons_before_trust.yaml")]
    argv += ["--set", "population.consumers=500", "--set", "population.merchants=25"]
    argv += ["--set", "population.kols=3", "--steps", "30", "--reps", "3", "--workers", "1"]
    assert _run([*argv, "--out", str(out), "--quiet"]) == 0
    html = (out / "report.html").read_text()
    findings = html.split("<h2>Findings</h2>")[1].split("</ul>")[0]
    item = [li for li in findings.split("<li>") if "coupons_before_trust" in li][0]
    sentence = item.split("</span>", 1)[1].split(". ")[0]
    assert sentence.startswith("While its policies act (weeks 1 to 26), coupons_before_trust ")
    # what it says during the window is the comparison's own: its outcomes, from the results
    outcomes = pd.read_csv(out / "outcomes.csv")
    window = outcomes[
        (outcomes.scenario == "coupons_before_trust") & (outcomes.measure == "weeks_1_26")
    ]
    assert not window.empty
    assert "<h2>Outcomes while each policy acts</h2>" in html
    assert "Coupons and red envelopes (early) (1 to 26)" in html


def test_thresholds_cumulative_and_seeds_as_mtsim_run(scenario_files, tmp_path):
    from model import load_scenario, run_model

    out = tmp_path / "t"
    argv = ["compare", str(scenario_files["base"]), str(scenario_files["security"])]
    argv += ["--reps", "2", "--steps", "8", "--workers", "1", "--seed", "7"]
    argv += ["--threshold", "payment_adoption=0.02", "--threshold", "shopper_share=0.99"]
    assert _run([*argv, "--out", str(out), "--quiet"]) == 0
    outcomes = pd.read_csv(out / "outcomes.csv")
    reached = outcomes[
        (outcomes.metric == "payment_adoption") & (outcomes.measure == "weeks_to_0.02")
    ]
    assert len(reached) == 2 and (reached["mean"] >= 0).all()
    never = outcomes[(outcomes.metric == "shopper_share") & (outcomes.measure == "weeks_to_0.99")]
    assert (never["n"] == 0).all()
    html = (out / "report.html").read_text()
    assert (
        "<h2>Time to threshold</h2>" in html and "<h2>Outcomes cumulated over the run</h2>" in html
    )
    # compare's reference replication i uses seed SEED + i, like mtsim run's replication i
    assert compare.replication_seeds(7, 3) == [7, 8, 9]
    ts = pd.read_csv(out / "timeseries.csv")
    ref = ts[(ts.scenario == "base") & (ts.replication == 1)].reset_index(drop=True)
    alone = run_model(load_scenario(scenario_files["base"]), seed=8, steps=8)
    assert ref["seed"].iloc[0] == 8
    assert np.allclose(ref["payment_adoption"].to_numpy(), alone["payment_adoption"].to_numpy())


def test_bad_set_and_threshold_are_reported_once(scenario_files, capsys):
    from model.cli import main

    files = [str(scenario_files[k]) for k in ("base", "twin", "security")]
    assert main(["compare", *files, "--set", "payment.fraud_rat=0.1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("mtsim: error: --set: payment.fraud_rat: unknown key")
    assert main(["compare", *files, "--threshold", "paymnet_adoption=0.5", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "mtsim: error: --threshold: paymnet_adoption: unknown metric; "
        "did you mean 'payment_adoption'?"
    ]


def test_decomposition_statistics_on_a_synthetic_case():
    """Additive levers under common random numbers: interaction interval contains 0; a
    multiplicative pair: it excludes 0."""
    from model.analysis.decomposition import decompose

    rng = np.random.default_rng(8)
    rows = []
    for rep in range(10):
        world = rng.normal(0.0, 1.0)  # the chance events every scenario shares
        for name, a, b in (("ref", 0, 0), ("pkg", 1, 1), ("pkg[a]", 1, 0), ("pkg[b]", 0, 1)):
            jitter = rng.normal(0.0, 0.05)
            additive = world + 0.5 * a + 0.3 * b + jitter
            multiplicative = world + 0.5 * a + 0.3 * b + 0.4 * a * b + jitter
            for metric, value in (("additive", additive), ("multiplicative", multiplicative)):
                rows.append(
                    {
                        "scenario": name,
                        "replication": rep,
                        "seed": rep,
                        "metric": metric,
                        "measure": "final",
                        "value": value,
                    }
                )
    outcomes = pd.DataFrame(rows)
    table = decompose(outcomes, "ref", "pkg", {"a": "pkg[a]", "b": "pkg[b]"})
    inter = table[table.term == "interaction"].set_index("metric")
    assert inter.loc["additive", "ci_low"] < 0 < inter.loc["additive", "ci_high"]
    assert inter.loc["multiplicative", "ci_low"] > 0
    total = table[(table.term == "total") & (table.metric == "additive")].iloc[0]
    assert total["mean"] == pytest.approx(0.8, abs=0.1)


def test_decompose_a_package_into_its_levers(tmp_path):
    """Constructed cases in the model: payment security with KOL disclosure in a world with no
    KOLs (disclosure acts on nothing: no interaction), and full infrastructure with a strong
    rigid-demand push on payment adoption (rigid demand converts the consumers who have
    access; infrastructure gives access to the rest: complements, interaction above 0)."""
    folder = tmp_path / "sc"
    folder.mkdir()
    base = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
    _write(
        folder,
        "base",
        f"extends: {base}\nname: base\npopulation: {{consumers: 500, merchants: 25, kols: 0}}\n"
        "simulation: {steps: 26, seed: 5}\n",
    )
    _write(
        folder,
        "overlap",
        "extends: base.yaml\nname: overlap\npolicies:\n"
        "  - {lever: infrastructure, start: 1, strength: 1.0, cost_per_step: 50}\n"
        "  - {lever: rigid_demand, start: 1, strength: 0.3, cost_per_step: 50}\n",
    )
    _write(
        folder,
        "separate",
        "extends: base.yaml\nname: separate\npolicies:\n"
        "  - {lever: payment_security, start: 1, strength: 1.0, cost_per_step: 50}\n"
        "  - {lever: kol_disclosure, start: 1, strength: 1.0, cost_per_step: 50}\n",
    )
    out = tmp_path / "d"
    argv = ["compare", *(str(folder / f"{n}.yaml") for n in ("base", "overlap", "separate"))]
    argv += ["--decompose", "--reps", "8", "--workers", "2", "--out", str(out), "--quiet"]
    assert _run(argv) == 0
    table = pd.read_csv(out / "decomposition.csv")
    pick = table[(table.metric == "payment_adoption") & (table.measure == "final")]
    terms = pick[pick.package == "overlap"].set_index("term")
    assert set(terms.index) == {
        "total",
        "lever:infrastructure",
        "lever:rigid_demand",
        "interaction",
    }
    assert terms.loc["interaction", "ci_low"] > 0  # complements
    assert terms.loc["total", "mean"] == pytest.approx(
        terms.loc["lever:infrastructure", "mean"]
        + terms.loc["lever:rigid_demand", "mean"]
        + terms.loc["interaction", "mean"]
    )
    separate = pick[(pick.package == "separate") & (pick.term == "interaction")].iloc[0]
    assert separate["ci_low"] <= 0 <= separate["ci_high"]
    html = (out / "report.html").read_text()
    assert "<h2>Packages decomposed into their levers</h2>" in html and "complements" in html
    assert (out / "decomposition-1.png").stat().st_size > 5000


def test_scenario_targets_give_time_to_threshold(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    target = tmp_path / "with_targets.yaml"
    target.write_text(
        f"extends: {root / 'scenarios' / 'baseline.yaml'}\nname: with_targets\n"
        "targets: {payment_adoption: 0.2, shopper_share: [0.1, 0.99]}\n"
    )
    out = tmp_path / "cmp"
    result = subprocess.run(
        [sys.executable, "-m", "model.cli", "compare", str(root / "scenarios" / "baseline.yaml"),
         str(target), "--reps", "2", "--steps", "30", "--set", "population.consumers=300",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "outcomes.csv")
    measures = set(table["measure"])
    assert {"weeks_to_0.2", "weeks_to_0.1", "weeks_to_0.99"} <= measures
    never = table[(table["metric"] == "shopper_share") & (table["measure"] == "weeks_to_0.99")]
    assert (never["n"] == 0).all()  # no run reached 99% shoppers in 30 weeks


def test_report_says_who_gains_by_group(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    policy = tmp_path / "infra.yaml"
    policy.write_text(
        f"extends: {root / 'scenarios' / 'baseline.yaml'}\nname: infra\n"
        "policies:\n  - {lever: infrastructure, label: Infrastructure, start: 2, strength: 0.8}\n"
    )
    out = tmp_path / "cmp"
    result = subprocess.run(
        [sys.executable, "-m", "model.cli", "compare",
         str(root / "scenarios" / "baseline.yaml"), str(policy),
         "--reps", "2", "--steps", "20", "--set", "population.consumers=400", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    groups = pd.read_csv(out / "groups.csv")
    assert set(groups["scenario"]) == {"baseline", "infra"}
    assert {"area", "income"} <= set(groups["by"])
    html = (out / "report.html").read_text()
    assert "Who gains" in html and (out / "who_gains-1.png").is_file()
    # infrastructure connects more people: access rises for rural consumers
    last = groups[groups["step"] == groups["step"].max()]
    rural = last[(last["by"] == "area") & (last["group"] == "rural")]
    by_scenario = rural.groupby("scenario")["access_share"].mean()
    assert by_scenario["infra"] > by_scenario["baseline"]

"""Validation: analytic references against independent values, and `mtsim validate`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import csgraph

from model.validation import reference as ref

# --------------------------------------------------------------------------- Bass


def test_bass_recursion_matches_hand_computed_steps():
    p, q = 0.03, 0.38
    f = [0.0]
    for _ in range(5):
        f.append(f[-1] + (p + q * f[-1]) * (1 - f[-1]))
    assert np.allclose(ref.bass_recursion(p, q, 5), f)
    # the first steps by hand: F1 = p, F2 = p + (p + q p)(1 - p)
    assert ref.bass_recursion(p, q, 1)[1] == pytest.approx(0.03)
    assert ref.bass_recursion(p, q, 2)[2] == pytest.approx(0.03 + (0.03 + 0.38 * 0.03) * 0.97)


def test_bass_recursion_caps_the_hazard_at_one():
    curve = ref.bass_recursion(0.6, 0.9, 3)
    assert curve[1] == pytest.approx(0.6)
    assert curve[2] == pytest.approx(1.0)  # p + q F = 1.14 > 1: everyone left adopts
    assert np.all(np.diff(curve) >= 0) and curve.max() <= 1.0


@pytest.mark.parametrize(("p", "q", "f0"), [(0.03, 0.38, 0.0), (0.01, 0.5, 0.0), (0.02, 0.3, 0.1)])
def test_bass_closed_form_is_the_limit_of_many_small_substeps(p, q, f0):
    times = np.arange(0, 31)
    closed = ref.bass_closed_form(p, q, times, f0=f0)
    fine = ref.bass_substep_recursion(p, q, 30, substeps=4000, f0=f0)
    assert np.max(np.abs(closed - fine)) < 2e-4
    coarse = ref.bass_substep_recursion(p, q, 30, substeps=10, f0=f0)
    assert np.max(np.abs(closed - coarse)) > np.max(np.abs(closed - fine))  # error shrinks


def test_bass_closed_form_solves_the_ode():
    p, q = 0.03, 0.38
    t = np.linspace(0.5, 20, 40)
    h = 1e-5
    derivative = (ref.bass_closed_form(p, q, t + h) - ref.bass_closed_form(p, q, t - h)) / (2 * h)
    f = ref.bass_closed_form(p, q, t)
    assert np.allclose(derivative, (p + q * f) * (1 - f), atol=1e-7)
    assert ref.bass_closed_form(p, q, [0.0])[0] == 0.0
    # the textbook peak time t* = ln(q/p)/(p+q) is where the adoption rate is highest
    peak = math.log(q / p) / (p + q)
    grid = np.linspace(0, 20, 20001)
    rate = np.gradient(ref.bass_closed_form(p, q, grid), grid)
    assert grid[np.argmax(rate)] == pytest.approx(peak, abs=2e-3)


def test_bass_rejects_bad_parameters():
    with pytest.raises(ValueError):
        ref.bass_recursion(-0.1, 0.3, 5)
    with pytest.raises(ValueError):
        ref.bass_closed_form(0.1, 0.3, [1.0], f0=1.0)


# --------------------------------------------------------------------------- percolation


@pytest.mark.parametrize(("transmission", "quoted"), [(0.3, 0.314), (0.4, 0.642), (0.5, 0.797)])
def test_percolation_root_matches_quoted_values_and_substitution(transmission, quoted):
    s = ref.percolation_giant_component(4.0, transmission)
    assert s == pytest.approx(quoted, abs=5e-4)
    assert s == pytest.approx(1 - math.exp(-4.0 * transmission * s), abs=1e-12)


def test_percolation_is_zero_at_and_below_the_threshold():
    assert ref.percolation_threshold(4.0) == 0.25
    assert ref.percolation_giant_component(4.0, 0.25) == 0.0
    assert ref.percolation_giant_component(4.0, 0.2) == 0.0
    assert 0 < ref.percolation_giant_component(4.0, 0.26) < 0.1


def test_percolation_root_by_fixed_point_iteration():
    # independent method: iterate S <- 1 - exp(-c S) from S = 1 (converges for c > 1)
    for c in (1.5, 2.0, 3.0, 5.0):
        s = 1.0
        for _ in range(5000):
            s = 1 - math.exp(-c * s)
        assert ref.percolation_giant_component(c, 1.0) == pytest.approx(s, abs=1e-9)


# --------------------------------------------------------------------------- Watts 2002


def test_vulnerable_degree_cutoff():
    assert ref.vulnerable_max_degree(0.18) == 5
    assert ref.vulnerable_max_degree(0.2) == 5  # 1/5 >= 0.2 exactly
    assert ref.vulnerable_max_degree(0.25) == 4
    assert ref.vulnerable_max_degree(0.5) == 2
    assert ref.vulnerable_max_degree(1.0) == 1


def test_watts_condition_against_an_explicit_poisson_sum():
    z, phi = 2.0, 0.18
    explicit = sum(k * (k - 1) * math.exp(-z) * z**k / math.factorial(k) for k in range(1, 6)) - z
    assert ref.watts_cascade_condition(z, phi) == pytest.approx(explicit, rel=1e-12)


def test_watts_window_edges_for_phi_018():
    low, high = ref.watts_window(0.18)
    assert low == pytest.approx(1.02, abs=0.01)
    assert high == pytest.approx(5.76, abs=0.01)
    assert abs(ref.watts_cascade_condition(low, 0.18)) < 1e-9
    assert abs(ref.watts_cascade_condition(high, 0.18)) < 1e-9
    assert ref.watts_cascade_condition(3.0, 0.18) > 0
    assert ref.watts_cascade_condition(1.0, 0.18) < 0 and ref.watts_cascade_condition(6.5, 0.18) < 0


def test_watts_cascade_probability_pattern():
    p = {z: ref.watts_cascade_probability(z, 0.18) for z in (1.0, 2.0, 3.0, 5.0, 6.5)}
    assert p[1.0] == 0.0 and p[6.5] == 0.0
    assert p[2.0] == pytest.approx(0.75, abs=0.02)
    assert p[3.0] == pytest.approx(0.87, abs=0.03)
    assert p[5.0] == pytest.approx(0.70, abs=0.02)


@pytest.mark.parametrize("z", [2.0, 3.0])
def test_watts_cascade_probability_equals_extended_vulnerable_cluster_of_a_big_graph(z):
    # independent check: build a large ER graph, find the giant cluster of vulnerable nodes
    # (degree <= 5), and count the nodes in it or adjacent to it
    n = 200_000
    rng = np.random.default_rng(7)
    m = rng.poisson(z * n / 2)
    edges = rng.integers(0, n, size=(m, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    adj = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.int8).tocsr()
    degree = np.asarray(adj.sum(axis=1)).ravel()
    vulnerable = (degree >= 1) & (degree <= 5)
    idx = np.nonzero(vulnerable)[0]
    sub = adj[idx][:, idx]
    _, labels = csgraph.connected_components(sub, directed=False)
    giant_label = np.bincount(labels).argmax()
    in_giant = np.zeros(n, dtype=bool)
    in_giant[idx[labels == giant_label]] = True
    extended = in_giant | (adj @ in_giant.astype(np.int8) > 0)
    assert extended.mean() == pytest.approx(ref.watts_cascade_probability(z, 0.18), abs=0.01)


def test_independent_threshold_cascade_on_small_graphs():
    star = np.array([[0, k] for k in range(1, 5)])  # centre 0, leaves 1..4
    # from a leaf: the centre sees 1 of 4 active (0.25 >= 0.2), then every leaf follows
    assert ref.threshold_cascade_shares(5, star, [1], 0.2).tolist() == [1.0]
    # at phi = 0.3 the centre needs 2 of 4: a single leaf stays alone
    assert ref.threshold_cascade_shares(5, star, [1], 0.3).tolist() == [0.2]
    # from the centre every leaf (degree 1) follows at once; an isolated node never does
    assert ref.threshold_cascade_shares(6, star, [0, 5], 0.9).tolist() == [5 / 6, 1 / 6]
    path = np.array([[i, i + 1] for i in range(9)])
    assert ref.threshold_cascade_shares(10, path, [4], 0.5).tolist() == [1.0]
    assert ref.threshold_cascade_shares(10, path, [4], 0.51).tolist() == [0.1]


def test_independent_erdos_renyi_generator():
    rng = np.random.default_rng(3)
    n, z = 3000, 4.0
    degrees = []
    for _ in range(20):
        edges = ref.erdos_renyi_edges(n, z, rng)
        assert np.all(edges[:, 0] < edges[:, 1])  # no loops, each pair once in order
        assert np.unique(edges[:, 0] * n + edges[:, 1]).size == len(edges)
        degrees.append(np.bincount(edges.ravel(), minlength=n))
    degrees = np.concatenate(degrees)
    assert degrees.mean() == pytest.approx(z, abs=0.05)
    assert degrees.var() == pytest.approx(z, rel=0.05)  # Poisson: variance = mean
    assert np.mean(degrees == 0) == pytest.approx(math.exp(-z), abs=0.005)


def test_independent_cascade_code_matches_the_model_on_the_same_graphs():
    from model.market import MarketModel
    from model.scenario import scenario_from_dict
    from model.validation.checks import word_of_mouth_scenario

    n, phi = 800, 0.18
    rng = np.random.default_rng(11)
    for g, z in enumerate((1.5, 3.0, 5.7)):
        data = word_of_mouth_scenario(
            n, {"kind": "erdos_renyi", "mean_degree": z}, {"rule": "linear_threshold"}
        )
        graph = MarketModel(scenario_from_dict(data), seed=100 + g).graph
        edges = np.column_stack([graph.source, graph.target]).astype(np.int64)
        for seed_node in rng.choice(n, size=4, replace=False):
            data["word_of_mouth"] = {
                "rule": "linear_threshold",
                "threshold": phi,
                "initial_aware": 0.0,
                "initial_aware_nodes": [int(seed_node)],
            }
            model = MarketModel(scenario_from_dict(data), seed=100 + g)
            while True:
                model.step()
                if not model.consumers.newly_aware.any():
                    break
            expected = ref.threshold_cascade_shares(n, edges, [seed_node], phi)[0]
            assert model.consumers.aware.mean() == pytest.approx(expected), (z, seed_node)


@pytest.mark.parametrize(("z", "analytic_holds"), [(1.2, True), (3.0, True), (5.7, False)])
def test_simulated_reference_against_the_analytic_chance_at_both_edges(z, analytic_holds):
    # 10,000 nodes as in the full check: the analytic chance holds just above the lower
    # edge and inside the window; just below the upper edge (5.76) finite graphs cascade
    # far more often than the infinite-graph value (the reason the check uses simulation)
    sim = ref.simulate_threshold_cascades(10_000, z, 0.18, graphs=60, seeds_per_graph=20, seed=5)
    analytic = ref.watts_cascade_probability(z, 0.18)
    se = math.sqrt(max(sim.frequency * (1 - sim.frequency), 0.01) / sim.runs)
    if analytic_holds:
        assert sim.frequency == pytest.approx(analytic, abs=4 * se + 0.01)
    else:
        assert analytic < 0.15 and sim.frequency > analytic + 0.08


def test_quick_run_counts_reject_a_25_percent_error():
    from model.validation.checks import (
        QUICK,
        compare_frequency,
        compare_two_frequencies,
        runs_for_frequency,
    )

    # the case: independent cascade at T = 0.4 (S = 0.642) must not pass at 0.80
    s = ref.percolation_giant_component(4.0, 0.4)
    runs = runs_for_frequency(s, QUICK.ic_runs, QUICK.min_runs)
    row = compare_frequency("c", "T=0.4", round(0.80 * runs), runs, s, note="")
    assert not row.passed
    assert compare_frequency("c", "T=0.4", round(s * runs), runs, s, note="").passed
    # a quick Watts frequency of 0.3 or more: a 25% error fails; of 0.1 or less: 0.075 fails
    reference_runs = QUICK.watts_reference_graphs * QUICK.watts_reference_seeds
    for expected in [0.0, 0.02, 0.05, 0.1, *np.linspace(0.3, 0.95, 14)]:
        runs = runs_for_frequency(expected, QUICK.watts_runs, QUICK.min_runs, reference_runs)
        hits = round(expected * reference_runs)
        off = max(0.25 * expected, 0.075)
        for wrong in (expected + off, expected - off):
            if 0 <= wrong <= 1:
                row = compare_two_frequencies(
                    "c", "z", round(wrong * runs), runs, hits, reference_runs, note=""
                )
                assert not row.passed, (expected, wrong, runs, row.tolerance)


def test_binomial_standard_error():
    assert ref.binomial_standard_error(0.5, 100) == pytest.approx(0.05)
    assert ref.binomial_standard_error(0.0, 100) == 0.0


# --------------------------------------------------------------------------- the checks


def test_compare_curve_accepts_the_right_reference_and_rejects_a_wrong_one():
    from model.validation.checks import (
        DiffusionTask,
        compare_curve,
        run_diffusion,
        word_of_mouth_scenario,
    )

    n, steps = 2000, 15
    scenario = word_of_mouth_scenario(
        n,
        {"kind": "complete"},
        {"rule": "bass", "innovation": 0.03, "imitation": 0.38},
        steps=steps,
    )
    curves = np.array(
        [run_diffusion(DiffusionTask(scenario, s, steps=steps)).curve for s in range(8)]
    )
    right, _ = compare_curve("bass", "right", curves, ref.bass_recursion(0.03, 0.38, steps), n)
    wrong, _ = compare_curve("bass", "wrong", curves, ref.bass_recursion(0.03, 0.30, steps), n)
    assert right.passed
    assert not wrong.passed and wrong.details["steps_failing"] > 3


def test_compare_frequency_tolerance_is_four_binomial_standard_errors():
    from model.validation.checks import compare_frequency

    row = compare_frequency("c", "f", hits=70, runs=100, expected=0.75, note="")
    assert row.tolerance == pytest.approx(4 * math.sqrt(0.75 * 0.25 / 100))
    assert row.passed and row.measured == 0.7
    assert not compare_frequency("c", "f", hits=50, runs=100, expected=0.75, note="").passed
    zero = compare_frequency("c", "f", hits=0, runs=400, expected=0.0, note="")
    assert zero.passed and zero.tolerance == pytest.approx(4 * math.sqrt(0.01 * 0.99 / 400))
    assert not compare_frequency("c", "f", hits=12, runs=400, expected=0.0, note="").passed


def test_run_diffusion_stops_when_nobody_new_becomes_aware(tmp_path):
    from model.validation.checks import DiffusionTask, run_diffusion, word_of_mouth_scenario

    path = tmp_path / "path.edgelist"
    path.write_text("".join(f"{i} {i + 1}\n" for i in range(9)))
    scenario = word_of_mouth_scenario(
        10,
        {"kind": "file", "path": str(path)},
        {"rule": "independent_cascade", "transmission": 1.0, "initial_aware_nodes": [0]},
    )
    outcome = run_diffusion(DiffusionTask(scenario, seed=1, keep_nodes=True))
    assert outcome.final == 1.0 and outcome.steps == 10  # 9 hops, then one quiet step
    assert outcome.nodes.tolist() == list(range(10))
    assert outcome.curve.tolist() == pytest.approx([min(t + 1, 10) / 10 for t in range(11)])


def test_ndlib_helper_on_small_graphs_and_global_state_untouched():
    pytest.importorskip("ndlib")
    from model.validation.checks import ndlib_final_state

    edges = np.array([[i, i + 1] for i in range(9)])
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    everyone = ndlib_final_state(10, edges, [0], "independent_cascade", seed=5, transmission=1.0)
    assert everyone.tolist() == list(range(10))
    assert np.array_equal(np.random.get_state()[1], before)
    # star: centre 0 with leaves 1..4, threshold 0.5: two active leaves activate the centre,
    # the centre then activates every leaf (each has one neighbour)
    star = np.array([[0, k] for k in range(1, 5)])
    lt = ndlib_final_state(5, star, [1, 2], "linear_threshold", seed=5, thresholds=np.full(5, 0.5))
    assert lt.tolist() == [0, 1, 2, 3, 4]
    lone = ndlib_final_state(5, star, [1], "linear_threshold", seed=5, thresholds=np.full(5, 0.5))
    assert lone.tolist() == [1]


# --------------------------------------------------------------------------- mtsim validate


CI_CHECKS = ("bass", "bass_closed_form", "ndlib_independent_cascade", "ndlib_threshold")
"""The checks of ``mtsim validate --quick`` in CI's run (about 40 s); the cascade checks
(watts_cascades, ic_percolation: about 150 s more) run in the slow tier's test below."""


def test_mtsim_validate_quick_passes(tmp_path, capsys):
    from model.cli import main

    only = ",".join(CI_CHECKS)
    code = main(["validate", "--quick", "--only", only, "--workers", "2", "--out", str(tmp_path)])
    _check_quick_report(tmp_path, code, capsys.readouterr().out, set(CI_CHECKS), least_rows=7)


def test_mtsim_validate_quick_passes_every_check(tmp_path, capsys):
    from model.cli import main

    code = main(["validate", "--quick", "--workers", "2", "--out", str(tmp_path)])
    _check_quick_report(
        tmp_path,
        code,
        capsys.readouterr().out,
        {"bass", "bass_closed_form", "watts_cascades", "ic_percolation"},
        least_rows=12,
    )
    report = json.loads((tmp_path / "validation.json").read_text())
    watts = next(c for c in report["checks"] if c["name"] == "watts_cascades")
    degrees = [r["details"]["mean_degree"] for r in watts["rows"]]
    assert min(d for d in degrees if d > 1.02) < 2 and any(5.2 < d < 5.76 for d in degrees)


def _check_quick_report(tmp_path, code, printed, names_expected, least_rows):
    report = json.loads((tmp_path / "validation.json").read_text())
    failing = [
        (r["name"], r["expected"], r["measured"], r["tolerance"])
        for c in report["checks"]
        for r in c["rows"]
        if not r["passed"]
    ]
    assert code == 0, failing
    assert report["passed"] and report["mode"] == "quick"
    names = {c["name"] for c in report["checks"]}
    assert names_expected <= names
    for check in report["checks"]:
        if not check["skipped"]:
            assert (tmp_path / check["figure"]).stat().st_size > 10_000
            assert check["rows"]
    assert "FAIL" not in printed
    header = printed.splitlines()[0]
    for column in ("check", "what is compared", "expected", "measured", "criterion", "result"):
        assert column in header
    assert sum(len(c["rows"]) for c in report["checks"]) >= least_rows
    for check in report["checks"]:
        for row in check["rows"]:
            assert row["criterion"] and row["name"]
    assert (
        (tmp_path / "validation.md")
        .read_text()
        .startswith("| check | what is compared | expected | measured | criterion | result |")
    )


def test_validate_table_says_what_is_compared_and_the_criterion():
    from model.validation.checks import CheckOutcome, _ks_row, compare_two_frequencies
    from model.validation.verdict import format_markdown, format_table

    rng = np.random.default_rng(0)
    ks = _ks_row(
        "ndlib_independent_cascade",
        "KS p-value: final sizes, mtsim vs NDlib (IC T=0.3, z=4)",
        rng.random(50),
        rng.random(50),
        note="",
    )
    freq = compare_two_frequencies(
        "watts_cascades", "z=5.7: share of runs with a global cascade", 30, 100, 260, 1000, ""
    )
    outcomes = [
        CheckOutcome("ndlib_independent_cascade", "t", [ks]),
        CheckOutcome("watts_cascades", "t", [freq]),
    ]
    table = format_table(outcomes)
    lines = table.splitlines()
    assert "what is compared" in lines[0] and "criterion" in lines[0]
    ks_line = next(line for line in lines if "NDlib" in line)
    assert "KS p-value" in ks_line and "KS p >= 0.01" in ks_line
    assert ks_line.split()[ks_line.split().index("KS", 2) - 2] == "-"  # no expected value
    assert f"|diff| <= {freq.tolerance:.4f} (4 SE)" in table
    markdown = format_markdown(outcomes)
    assert "| KS p-value: final sizes, mtsim vs NDlib (IC T=0.3, z=4) | - |" in markdown
    assert f"| \\|diff\\| <= {freq.tolerance:.4f} (4 SE) |" in markdown  # pipes escaped
    assert all(line.count(" | ") == 5 for line in markdown.splitlines()[2:])


def test_mtsim_validate_rejects_unknown_checks(tmp_path, capsys):
    from model.cli import main

    assert main(["validate", "--only", "bass,wats", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "mtsim: error: --only: unknown check 'wats'" in err

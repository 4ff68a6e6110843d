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


def test_mtsim_validate_quick_passes(tmp_path, capsys):
    from model.cli import main

    code = main(["validate", "--quick", "--workers", "2", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
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
    assert {"bass", "bass_closed_form", "watts_cascades", "ic_percolation"} <= names
    for check in report["checks"]:
        if not check["skipped"]:
            assert (tmp_path / check["figure"]).stat().st_size > 10_000
            assert check["rows"]
    assert "expected" in printed and "FAIL" not in printed
    assert sum(len(c["rows"]) for c in report["checks"]) >= 15


def test_mtsim_validate_rejects_unknown_checks(tmp_path, capsys):
    from model.cli import main

    assert main(["validate", "--only", "bass,wats", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "mtsim: error: --only: unknown check 'wats'" in err

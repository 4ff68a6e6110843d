"""Saving a run's state at a week and starting from it (model/state_io.py, issue 29).

What must hold: save at week W and resume to T equals the uninterrupted run to T, byte
for byte (W at 0, mid-run and T; with a platform; with a policy acting across W); a
state from another version or another scenario is refused in one line; compare refuses
scenarios of different populations; the optimizer's check command runs as written.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
PLATFORM = ROOT / "scenarios" / "platform_superapp.yaml"

SMALL = {
    "population.consumers": 300,
    "population.merchants": 20,
    "population.kols": 3,
    "simulation.steps": 8,
    "simulation.record_consumers_every": 3,
}
ACROSS = {  # a policy acting before and after the saved week
    "policies": [
        {"lever": "payment_security", "strength": 0.6, "start": 2, "end": 7, "cost_per_step": 10.0},
        {"lever": "integrity", "strength": 0.5, "start": 3, "ramp": 3},
    ]
}


def _scenario(path: Path = BASELINE, **extra):
    from model.scenario import load_scenario

    return load_scenario(path, {**SMALL, **extra})


def _outputs(model) -> tuple[str, str, bytes]:
    """The run's output tables as the files hold them: run table, group table, records."""
    runs, groups, records = io.StringIO(), io.StringIO(), io.BytesIO()
    model.timeseries().to_csv(runs, index=False, lineterminator="\n")
    model.group_table().to_csv(groups, index=False, lineterminator="\n")
    model.consumer_history().to_parquet(records, index=False)
    return runs.getvalue(), groups.getvalue(), records.getvalue()


def _resumed_equals_uninterrupted(scenario, week: int, tmp_path: Path, last: int = 8) -> None:
    from model.experiment.runner import model_with_groups

    state = tmp_path / f"state-{week}.npz"
    whole = model_with_groups(scenario, steps=last, save_state=(week, state))
    resumed = model_with_groups(scenario, steps=last, start=state)
    assert resumed.steps == whole.steps == last
    a, b = _outputs(whole), _outputs(resumed)
    assert a[0] == b[0]  # the run table, byte for byte
    assert a[1] == b[1]  # the group table
    assert a[2] == b[2]  # the per-consumer records
    _assert_same_state(whole, resumed)


def _walk(value, path="state"):
    """Yield (path, leaf) for every field of the state tree."""
    import scipy.sparse as sp

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        yield f"{path}#len", len(value)
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    elif sp.issparse(value):
        yield f"{path}#sparse", value.toarray()
    else:
        yield path, value


def _assert_same_state(a, b) -> None:
    left = dict(_walk(a._states))
    right = dict(_walk(b._states))
    assert left.keys() == right.keys()
    for key, x in left.items():
        y = right[key]
        if isinstance(x, np.ndarray | np.generic):
            assert type(x) is type(y) and x.dtype == y.dtype, key
            assert np.array_equal(x, y, equal_nan=True), key
        else:
            assert type(x) is type(y), key
            assert x == y or (x != x and y != y), key


@pytest.mark.parametrize("week", [0, 4, 8])
def test_resume_equals_uninterrupted_run_at_start_middle_and_end(week, tmp_path):
    _resumed_equals_uninterrupted(_scenario(**ACROSS), week, tmp_path)


def test_resume_with_a_platform_and_a_policy_across_the_saved_week(tmp_path):
    scenario = _scenario(PLATFORM, **ACROSS, **{"platforms.record_merchants_every": 2})
    assert scenario.platforms is not None
    _resumed_equals_uninterrupted(scenario, 5, tmp_path)


def test_every_state_field_is_saved_and_restored(tmp_path):
    """A field added to a state dataclass is saved by the walker, or saving fails."""
    from model.market import MarketModel
    from model.state_io import read_state, resume_model, save_state

    model = MarketModel(_scenario(PLATFORM))
    for _ in range(3):
        model.step()
    save_state(model, tmp_path / "s.npz")
    resumed = resume_model(read_state(tmp_path / "s.npz"))
    _assert_same_state(model, resumed)
    assert resumed.steps == 3 and resumed.seed == model.seed


def test_every_model_attribute_is_saved_or_rebuilt():
    """A new MarketModel attribute must be classed as state (saved) or rebuilt."""
    import mesa

    from model.market import MarketModel
    from model.state_io import REBUILT_MODEL_ATTRIBUTES, SAVED_MODEL_ATTRIBUTES

    model = MarketModel(_scenario())
    model.step()
    own = set(vars(model)) - set(vars(mesa.Model(rng=1)))
    unclassified = own - SAVED_MODEL_ATTRIBUTES - REBUILT_MODEL_ATTRIBUTES
    assert not unclassified, f"classify in model/state_io.py: {sorted(unclassified)}"


def test_unknown_kind_of_state_value_is_refused_when_saving(tmp_path):
    from model.market import MarketModel
    from model.state_io import StateError, save_state

    model = MarketModel(_scenario())
    model.market.last.ledger = object()  # a value the walker does not know
    with pytest.raises(StateError, match=r"model.*ledger"):
        save_state(model, tmp_path / "s.npz")
    assert not (tmp_path / "s.npz").exists()


def _rewrite_meta(path: Path, target: Path, **changes) -> None:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(bytes(arrays.pop("meta")).decode())
    meta.update(changes)
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(target, meta=blob, **arrays)


@pytest.fixture
def saved_state(tmp_path):
    from model.market import MarketModel
    from model.state_io import save_state

    model = MarketModel(_scenario(**ACROSS))
    for _ in range(4):
        model.step()
    return save_state(model, tmp_path / "state.npz")


def test_state_of_another_version_or_changed_scenario_is_refused_in_one_line(
    saved_state, tmp_path, capsys
):
    from model.cli import main

    other = tmp_path / "other-version.npz"
    _rewrite_meta(saved_state, other, model_version="0.0.9+000000000000")
    changed = tmp_path / "changed.npz"
    with np.load(saved_state, allow_pickle=False) as archive:
        text = json.loads(bytes(archive["meta"]).decode())["scenario_yaml"]
    _rewrite_meta(saved_state, changed, scenario_yaml=text.replace("name: baseline", "name: x"))
    fmt = tmp_path / "format.npz"
    _rewrite_meta(saved_state, fmt, format_version=99)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    cases = {
        other: "saved by mtsim 0.0.9",
        changed: "scenario hash mismatch",
        fmt: "state format version 99",
        junk: "not an mtsim state file",
        tmp_path / "missing.npz": "no such state file",
    }
    for path, words in cases.items():
        capsys.readouterr()
        start = time.perf_counter()
        code = main(["run", "--from-state", str(path), "--out", str(tmp_path / "o"), "--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        assert str(path) in err[0] and words in err[0], err
        assert time.perf_counter() - start < 2.0
    assert not (tmp_path / "o").exists()


def test_a_scenario_that_changes_more_than_the_future_is_refused(saved_state, tmp_path):
    from model.state_io import StateError, read_state, resume_model

    saved = read_state(saved_state)
    bigger = _scenario(**ACROSS, **{"population.consumers": 400})
    with pytest.raises(StateError, match="population"):
        resume_model(saved, bigger)
    past = dict(ACROSS["policies"][0], strength=0.3)
    changed_past = _scenario(policies=[past, ACROSS["policies"][1]])
    with pytest.raises(StateError, match="before week 4"):
        resume_model(saved, changed_past)
    # a policy from the saved week on, and more weeks, are the future: allowed
    later = {"lever": "rigid_demand", "strength": 0.4, "start": 4}
    future = _scenario(policies=[*ACROSS["policies"], later], **{"simulation.steps": 12})
    model = resume_model(saved, future)
    assert model.steps == 4


def test_resume_with_another_seed_keeps_the_past_and_changes_the_future(saved_state):
    from model.experiment.runner import model_with_groups

    scenario = _scenario(**ACROSS)
    same = model_with_groups(scenario, steps=8, start=saved_state).timeseries()
    other = model_with_groups(scenario, seed=7, steps=8, start=saved_state).timeseries()
    assert same.iloc[:5].equals(other.iloc[:5])  # weeks 0..4: the saved history
    assert not same.iloc[5:].equals(other.iloc[5:])


def test_compare_refuses_different_populations_in_one_line(tmp_path, capsys):
    from model.cli import main

    small = tmp_path / "small.yaml"
    small.write_text(f"extends: {BASELINE}\nname: small\npopulation: {{consumers: 200}}\n")
    code = main(["compare", str(BASELINE), str(small), "--steps", "2", "--out",
                 str(tmp_path / "c")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "differ in population" in err[0], err
    assert "--allow-different-populations" in err[0]


@pytest.mark.long  # a whole comparison: figures and report
def test_compare_allowed_to_differ_says_so_in_its_first_line(tmp_path, capsys):
    from model.cli import main

    a = tmp_path / "a.yaml"
    a.write_text(f"extends: {BASELINE}\nname: a\npopulation: {{consumers: 200, merchants: 10, "
                 "kols: 2}\n")
    b = tmp_path / "b.yaml"
    b.write_text(f"extends: {BASELINE}\nname: b\npopulation: {{consumers: 250, merchants: 10, "
                 "kols: 2}\n")
    code = main(["compare", str(a), str(b), "--steps", "2", "--reps", "1", "--workers", "1",
                 "--out", str(tmp_path / "c"), "--quiet", "--allow-different-populations"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert "differ in population" in out[0] and "200" in out[0] and "250" in out[0]


@pytest.mark.long  # a whole comparison: figures and report
def test_compare_from_a_state_runs_policies_from_the_saved_week(saved_state, tmp_path, capsys):
    import pandas as pd

    from model.cli import main

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "name: rigid\npolicies:\n  - {lever: rigid_demand, strength: 0.5, start: 4}\n"
    )
    early = tmp_path / "early.yaml"
    early.write_text("name: early\npolicies:\n  - {lever: rigid_demand, strength: 0.5, start: 1}\n")
    code = main(["compare", "--from-state", str(saved_state), str(early), "--steps", "8",
                 "--out", str(tmp_path / "e")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "week 4 or later" in err[0], err
    code = main(["compare", "--from-state", str(saved_state), str(policy), "--steps", "8",
                 "--reps", "2", "--workers", "1", "--out", str(tmp_path / "c"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "c" / "timeseries.csv")
    assert set(table["scenario"]) == {"baseline", "rigid"}
    assert table["step"].max() == 8
    ref = table[table["scenario"] == "baseline"].set_index(["replication", "step"])
    pol = table[table["scenario"] == "rigid"].set_index(["replication", "step"])
    past = ref.index.get_level_values("step") <= 4
    cols = ["payment_adoption", "aware_share", "orders"]
    assert ref.loc[past, cols].equals(pol.loc[past, cols])  # the same present
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["start"]["week"] == 4


# ----------------------------------------------------------------------------- command line


def _cli(args, cwd, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "model.cli", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=timeout,
    )


@pytest.mark.subprocess
def test_mtsim_run_save_and_resume_write_the_same_files(tmp_path):
    sets = ["--set", "population.consumers=300", "--set", "simulation.record_consumers_every=4"]
    common = [str(BASELINE), *sets, "--steps", "9", "--quiet"]
    whole = _cli(["run", *common, "--out", "whole", "--save-state", "5"], tmp_path)
    assert whole.returncode == 0, whole.stderr
    state = tmp_path / "whole" / "state-week-005.npz"
    assert state.is_file() and "state saved" in whole.stdout
    resumed = _cli(
        ["run", "--from-state", str(state), "--steps", "9", "--out", "resumed", "--quiet"], tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr
    for name in ("timeseries.csv", "groups.csv", "consumers/replication-000.parquet"):
        whole_bytes = (tmp_path / "whole" / name).read_bytes()
        assert whole_bytes == (tmp_path / "resumed" / name).read_bytes(), name
    start = time.perf_counter()
    changed = tmp_path / "changed.yaml"
    changed.write_text(f"extends: {BASELINE}\nname: baseline\npopulation: {{consumers: 310}}\n")
    refused = _cli(["run", str(changed), "--from-state", str(state), "--out", "x"], tmp_path)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert str(state) in refused.stderr and "population" in refused.stderr
    assert time.perf_counter() - start < 10  # the command line's start-up included
    assert not (tmp_path / "x").exists()


def _problem_file(folder: Path) -> Path:
    """A tiny search: one lever, few trials, a small world (as tests/test_decision.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "problem.yaml"
    path.write_text(
        "\n".join([
            "name: check_me",
            f"base: {os.path.relpath(BASELINE, folder)}",
            "set: {population.consumers: 300}",
            "steps: 6",
            "replications: 1",
            "seed: 3",
            "budget: 6000",
            "trials: 4",
            "population: 4",
            "batch: 4",
            "mixes: 2",
            "levers:",
            "  - {lever: infrastructure, strength: [0, 1], step: 0.25, "
            "fields_per_strength: {cost_per_step: 250}}",
            "objectives:",
            "  - {metric: mobile_access_share, direction: maximize}",
            "  - {metric: verified_merchant_share, direction: maximize}",
        ]) + "\n"
    )
    return path


@pytest.mark.subprocess
@pytest.mark.slow
def test_optimizer_check_command_runs_as_written_from_a_fresh_folder(tmp_path):
    import shlex

    problem = _problem_file(tmp_path / "problems")
    done = _cli(["optimize", "problems/problem.yaml", "--out", "results/opt", "--workers", "1",
                 "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stdout.splitlines() if x.startswith("check a mix: ")]
    assert len(lines) == 1, done.stdout
    command = lines[0].removeprefix("check a mix: ")
    words = shlex.split(command)
    assert words[:2] == ["mtsim", "compare"]
    for word in words[2:4]:
        assert (tmp_path / word).is_file(), word  # relative to the folder it ran in
    report = (tmp_path / "results" / "opt" / "report.html").read_text()
    assert shlex.split(command)[2] in report
    mix = (tmp_path / words[3]).read_text()
    assert command in mix
    # as written (only ``mtsim`` is ``python -m model.cli`` here)
    check = _cli(words[1:], tmp_path)
    assert check.returncode == 0, check.stderr
    assert "differ in population" not in check.stdout
    assert problem.is_file()


@pytest.mark.subprocess
@pytest.mark.slow
def test_optimize_from_a_state_and_its_check_command_run_as_written(tmp_path):
    import shlex

    from model.market import MarketModel
    from model.state_io import save_state

    model = MarketModel(_scenario(**ACROSS))
    for _ in range(4):
        model.step()
    save_state(model, tmp_path / "present.npz")
    (tmp_path / "problem.yaml").write_text(
        "\n".join([
            "name: from_present",
            "start: present.npz",
            "steps: 8",
            "replications: 1",
            "seed: 3",
            "budget: 6000",
            "trials: 4",
            "population: 4",
            "batch: 4",
            "mixes: 2",
            "levers:",
            "  - {lever: rigid_demand, strength: [0, 1], step: 0.25, start: 4, "
            "fields_per_strength: {cost_per_step: 100}}",
            "objectives:",
            "  - {metric: payment_adoption, direction: maximize}",
            "  - {metric: aware_share, direction: maximize}",
        ]) + "\n"
    )
    done = _cli(["optimize", "problem.yaml", "--out", "opt", "--workers", "1", "--quiet"],
                tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stdout.splitlines() if x.startswith("check a mix: ")]
    assert len(lines) == 1, done.stdout
    words = shlex.split(lines[0].removeprefix("check a mix: "))
    assert words[:4] == ["mtsim", "compare", "--from-state", "present.npz"]
    check = _cli(words[1:], tmp_path)
    assert check.returncode == 0, check.stderr
    early = tmp_path / "early.yaml"
    early.write_text((tmp_path / "problem.yaml").read_text().replace("start: 4,", "start: 2,"))
    refused = _cli(["optimize", "early.yaml", "--out", "opt2", "--quiet"], tmp_path)
    assert refused.returncode == 2 and "levers.0.start: 2" in refused.stderr

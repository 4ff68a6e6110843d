"""A sweep that starts from a saved state (``start:`` in the experiment file, issue 29).

What must hold: every run of a sweep from a state equals the run that ``mtsim compare
--from-state`` builds from the same state with the same policy file and seed, number
for number, and its weeks before the saved one are the saved history; varying a
behavioural parameter (computed into the saved state with its old value) is refused in
one line naming it; a policy file as ``base:`` beside ``start:`` is used; resuming
skips finished runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
WEEK = 4
LAST = 8


def _save(path: Path, week: int = WEEK) -> Path:
    from model.market import MarketModel
    from model.scenario import load_scenario
    from model.state_io import save_state

    scenario = load_scenario(
        BASELINE,
        {
            "population.consumers": 300,
            "population.merchants": 20,
            "population.kols": 3,
            "simulation.steps": LAST,
            "policies": [{"lever": "payment_security", "strength": 0.6, "start": 2, "end": 7}],
        },
    )
    model = MarketModel(scenario)
    for _ in range(week):
        model.step()
    return save_state(model, path)


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Path:
    return _save(tmp_path_factory.mktemp("state") / "state.npz")


def _experiment(folder: Path, state: Path, **changes) -> Path:
    policy = folder / "rigid.yaml"
    policy.write_text(
        f"name: rigid\npolicies:\n  - {{lever: rigid_demand, strength: 0.0, start: {WEEK}}}\n"
    )
    data = {
        "name": "from_state",
        "start": str(state),
        "base": policy.name,
        "parameters": [{"name": "rigid", "path": "policies.1.strength", "values": [0.0, 0.5]}],
        "design": {"kind": "grid"},
        "replications": 2,
        "steps": LAST,
        "seed": 11,
        "outcomes": "timeseries",
    }
    data.update(changes)
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_sweep_from_a_state_equals_compare_from_the_state(state, tmp_path):
    from model.experiment.runner import model_with_groups
    from model.experiment.store import load_design, load_results
    from model.workflows.compare import scenarios_from_state
    from model.workflows.sweep import run_sweep

    experiment = _experiment(tmp_path, state)
    out = tmp_path / "out"
    summary = run_sweep(experiment, out, workers=1, progress=False)
    assert summary.status == "complete" and summary.computed == 4
    design, results = load_design(out), load_results(out)
    saved_history = model_with_groups(
        scenarios_from_state(state, [])[1]["baseline"], steps=WEEK, start=state
    ).timeseries()
    for strength in (0.0, 0.5):
        policy = tmp_path / f"policy-{strength}.yaml"  # what compare --from-state reads
        policy.write_text(
            f"name: p\npolicies:\n  - {{lever: rigid_demand, strength: {strength}, "
            f"start: {WEEK}}}\n"
        )
        scenario = scenarios_from_state(state, [policy])[1]["p"]
        for _, row in design[design["rigid"] == strength].iterrows():
            # compare --from-state POLICY --steps 8 --seed S: replication 0 uses seed S
            expected = model_with_groups(
                scenario, seed=int(row["seed"]), steps=LAST, start=state, groups=False
            ).timeseries()
            stored = results[results["run"] == row["run"]].reset_index(drop=True)
            assert stored["step"].tolist() == expected["step"].tolist() == list(range(LAST + 1))
            for metric in expected.columns.drop("step"):
                np.testing.assert_array_equal(
                    stored[metric].to_numpy(), expected[metric].to_numpy(dtype=float), metric
                )
            past = stored[stored["step"] <= WEEK]["payment_adoption"].to_numpy()
            np.testing.assert_array_equal(past, saved_history["payment_adoption"].to_numpy())
    # resume: nothing to do, nothing recomputed
    again = run_sweep(experiment, out, resume=True, workers=1, progress=False)
    assert again.skipped == 4 and again.computed == 0 and again.status == "complete"


def test_resume_from_another_saved_present_is_refused(tmp_path):
    from model.experiment.store import StoreError
    from model.workflows.sweep import run_sweep

    state = _save(tmp_path / "state.npz")
    experiment = _experiment(
        tmp_path,
        state,
        parameters=[{"name": "rigid", "path": "policies.1.strength", "values": [0.5]}],
        replications=1,
    )
    out = tmp_path / "out"
    assert run_sweep(experiment, out, workers=1, progress=False).status == "complete"
    _save(state, week=WEEK - 1)  # the same scenario (same run ids), another week
    with pytest.raises(StoreError, match="started from"):
        run_sweep(experiment, out, resume=True, workers=1, progress=False)


@pytest.mark.parametrize(
    "parameter, named",
    [
        ({"path": "payment.fraud_rate", "values": [0.01, 0.02]}, "payment.fraud_rate"),
        ({"path": "policies.0.strength", "values": [0.3, 0.6]}, "before week 4"),
    ],
)
def test_varying_the_saved_world_from_a_state_is_refused_in_one_line(
    state, tmp_path, parameter, named
):
    from model.experiment.spec import ExperimentError, load_experiment

    experiment = _experiment(tmp_path, state, parameters=[parameter])
    with pytest.raises(ExperimentError) as caught:
        load_experiment(experiment)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert named in message and "state" in message, message


def test_a_policy_before_the_saved_week_or_a_short_run_is_refused(state, tmp_path):
    from model.experiment.spec import ExperimentError, load_experiment

    experiment = _experiment(tmp_path, state, steps=WEEK)
    with pytest.raises(ExperimentError, match="after it"):
        load_experiment(experiment)
    experiment = _experiment(tmp_path, state)
    (tmp_path / "rigid.yaml").write_text(
        "name: rigid\npolicies:\n  - {lever: rigid_demand, strength: 0.1, start: 2}\n"
    )
    with pytest.raises(ExperimentError, match="policies.0.start"):
        load_experiment(experiment)

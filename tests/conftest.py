"""Shared test helpers (small scenarios from the shipped baseline) and the test tiers.

Tiers (markers declared in pyproject.toml; README, "Set-up: two commands"):

- ``quick``: given here to every test that has none of the markers below: every
  mechanism's direction, the invariants, the contracts and the input errors, in
  process. ``pytest -m quick -n auto``.
- ``long``: runs models for more than a few seconds (about 3 to 60 s on an idle 2-core
  machine) and checks what the quick tier can do without: a search, a fit, a
  statistical check over many paired runs, a report's wording, a folder's contents.
- ``subprocess``: starts the mtsim command line, a server or a Dask cluster as
  separate processes.
- ``notebook``: executes a notebook in a Jupyter kernel.
- ``browser``: drives a headless Chromium.
- ``slow``: left out of the default run (``-m "not slow"``) too.

A marker written in a test file counts; :data:`TIERS` marks tests of files whose
authors keep them elsewhere, by file and test function, from measured durations
(``pytest --durations=0``).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"

SMALL = {
    "population.consumers": 600,
    "population.merchants": 40,
    "population.kols": 5,
    "simulation.steps": 30,
}


def small_scenario(**overrides):
    """The baseline shrunk to a few hundred consumers, with dotted-path overrides (a__b -> a.b)."""
    from model.scenario import load_scenario

    values = dict(SMALL)
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_scenario(BASELINE, values)


_RUNS: dict[tuple[str, int], object] = {}


def cached_run(scenario, seed: int):
    """``run_model(scenario, seed=seed)``, made once per test process for the same values.

    Runs are deterministic, so tests that compare several columns of the same runs, or
    several levers against the same world without a policy, share them. The key is every
    scenario value but its name and description, which no run reads. Do not change the
    returned table.
    """
    import json

    from model.market import run_model

    values = scenario.model_dump(mode="json", exclude={"name", "description"})
    key = (json.dumps(values, sort_keys=True), seed)
    if key not in _RUNS:
        _RUNS[key] = run_model(scenario, seed=seed)
    return _RUNS[key]


def load_experiment_script(name: str):
    """Import experiments/NAME.py as a module (the experiments folder is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def baseline_path() -> Path:
    return BASELINE


HEAVY_MARKERS = ("slow", "long", "subprocess", "notebook", "browser")
"""The markers that keep a test out of the quick tier."""

TIERS: dict[str, dict[str, tuple[str, ...]]] = {
    # out of CI's run to keep it under 10 minutes on 2 cores (2026-12-06: 640 s with them)
    "slow": {
        # the replay's two tests are strict known failures until issue 28's refit: 44 s
        "test_china_2013.py": (),
        "test_calibration.py": (  # 31 s and 18 s
            "test_twin_experiment_recovers_known_parameters",
            "test_time_budget_keeps_only_complete_generations",
        ),
        "test_compare.py": ("test_decompose_a_package_into_its_levers",),  # 24 s
        # 28 s; the sweep's SIGTERM and SIGKILL tests (test_faults.py) stay in CI
        "test_faults.py": ("test_sigterm_stops_compare_in_one_line_and_keeps_finished_runs",),
        # 10 s; test_groups.py's run writes its groups table in CI
        "test_consumer_history.py": ("test_mtsim_run_writes_consumer_records_per_replication",),
        "test_decision.py": ("test_optimize_front_dominates_a_same_budget_grid",),  # 26 s
        # 40 s; the quick tier keeps the huge values refused in one line
        "test_hostile_input_4.py": ("test_every_number_at_its_maximum_keeps_the_run_table_finite",),
        # 23 s; test_mechanisms.py's size test (slow) checks the same on the baseline
        "test_new_user.py": (
            "test_curves_hardly_depend_on_the_size_when_the_market_scales_with_it",
        ),
        # 150 s more than CI's selection of the checks (bass, closed form, NDlib), which
        # test_mtsim_validate_quick_passes runs in the long tier
        "test_validation.py": ("test_mtsim_validate_quick_passes_every_check",),
        # 15 s, 16 runs of 2,000 consumers for a direction with weak power; CI keeps the
        # creation and diversion accounting (test_economy.py) and the cross-border
        # direction (test_mechanisms.py's test_higher_trade_cost_lowers_cross_border_share)
        "test_economy.py": ("test_created_trade_shows_in_the_mobile_share_of_consumption",),
        # 14 s; CI keeps a killed sweep's resume without recomputing finished parts in
        # test_faults.py's killed-sweep tests; this one also compares the resumed store with
        # an uninterrupted sweep
        "test_sweep.py": ("test_interrupted_sweep_resumes_without_recomputing",),
        # 110 s of the 2 cores' time (17 levers x 8 paired runs, orders in an 8,000-consumer
        # world); CI ran at 601-619 s of its 600 with it (2026-12-07). Each lever's
        # direction stays in CI (test_policy.py, test_mechanisms.py, quick tier); the paired
        # intervals are docs/policies.md's generated table (`python -m docs.build --only
        # lever-targets`) and run with the slow tier
        "test_levers.py": ("test_lever_at_full_strength_moves_its_target",),
    },
    "long": {
        "test_calibration.py": (
            "test_twin_experiment_recovers_known_parameters",
            "test_time_budget_keeps_only_complete_generations",
            "test_calibrate_holdout_writes_outputs_and_fitted_scenario_survives_a_move",
            "test_single_core_runs_are_reproducible",
            "test_a_generation_below_the_ess_floor_ends_the_fit_and_is_not_kept",
            "test_a_logit_scale_fit_stays_within_the_prior_bounds",
        ),
        "test_china_2013.py": (),  # every test reads one 156-week replay (module fixture)
        "test_compare.py": (
            "test_decompose_a_package_into_its_levers",
            "test_workers_do_not_change_results",
            "test_coupons_before_trust_lead_with_their_window",
            "test_thresholds_cumulative_and_seeds_as_mtsim_run",  # 5 s: a folder's contents
            # 4 s and 3 s: the folder's name and a failed replication's report (the quick
            # tier keeps test_compare_writes_every_output)
            "test_default_out_dir_is_named_after_the_scenarios",
            "test_failed_runs_are_reported_not_dropped",
        ),
        "test_consumer_history.py": ("test_mtsim_run_writes_consumer_records_per_replication",),
        "test_decision.py": (
            "test_optimize_front_dominates_a_same_budget_grid",
            "test_discover_recovers_a_known_box_within_one_grid_step",
            "test_compare_uncertain_reports_regret_across_worlds",  # 4 s: runs over worlds
        ),
        # 5-8 s each: a validation, discovery and calibration into a full disk; the
        # read-only and file cases of the same file stay in the quick tier
        "test_pools.py": ("test_full_disk_is_one_line_and_earlier_results_stay",),
        "test_sensitivity.py": ("test_sobol_pipeline_from_experiment_file_to_indices",),  # 4 s
        # trade creation and diversion over two paired runs of 156 weeks; the direction is
        # test_mechanisms.py's test_higher_trade_cost_lowers_cross_border_share
        "test_economy.py": (
            "test_lower_cross_border_friction_creates_and_diverts_trade",
            # 4.5 s: paired runs; the coupons' direction is test_mechanisms.py's
            # test_coupons_do_nothing_without_trust_and_help_with_it (quick)
            "test_coupons_create_mobile_demand_not_only_move_it",
        ),
        "test_groups.py": ("test_mtsim_run_writes_groups_csv",),
        # 4.7 s: the lever's direction is test_mechanisms.py's
        # test_merchant_promotion_lever_raises_merchant_adoption (quick)
        "test_merchant_economics.py": ("test_promotion_raises_merchant_adoption",),
        # 8 paired runs per lever; test_policy.py and test_mechanisms.py check each lever's
        # parameters and each mechanism's direction in the quick tier
        "test_levers.py": ("test_lever_at_full_strength_moves_its_target",),
        "test_validation.py": ("test_mtsim_validate_quick_passes",),
        # 5 s and 4 s: the diagnostic scripts' runs (two replays to 2020; the seeding probes)
        "test_patterns.py": (
            "test_diffusion_probes_replay_gaps_are_the_mean_curves_distance_to_cnnic",
            "test_seeding_probes_measure_the_suites_difference_under_each_probe",
        ),
        # 4 s: a compare run to list its outputs; the quick tier keeps the README's commands
        "test_readme.py": ("test_readme_compare_outputs_table_lists_what_compare_writes",),
    },
    "subprocess": {
        "test_calibration.py": ("test_input_errors_are_found_before_heavy_imports",),
        "test_cli.py": (
            "test_input_errors_come_before_heavy_imports",
            "test_import_model_is_light",
            "test_closed_pipe_ends_quietly_without_traceback",
            "test_schema_into_head_through_a_real_pipe",
            "test_run_into_head_one_line",
        ),
        "test_compare.py": (
            "test_scenario_targets_give_time_to_threshold",
            "test_report_says_who_gains_by_group",
        ),
        "test_decision.py": (
            "test_optimize_resumes_after_sigkill_without_repeating_finished_trials",
        ),
        # each runs `python -m docs.build` (3-4 s: every generator renders)
        "test_docs_build.py": (
            "test_check_passes_on_the_repository",
            "test_check_fails_on_a_hand_edited_number",
            "test_a_results_table_follows_its_recorded_results_file",
            "test_bad_markers_are_named",
            "test_markers_inside_fenced_code_are_not_blocks",
            "test_a_rerun_records_its_command_machine_seeds_duration_and_outputs",
            "test_calibration_tables_refuse_a_changed_fit",
        ),
        "test_docs_build_runs.py": (
            "test_a_block_without_a_record_says_so_and_passes_until_a_number_is_typed",
        ),
        "test_economy.py": ("test_bad_economic_input_is_one_line",),
        "test_faults.py": (
            "test_killed_sweep_leaves_no_orphans_and_resume_rebuilds_the_manifest",
            "test_full_disk_stops_a_sweep_in_one_line_and_keeps_finished_runs",
            "test_full_disk_in_run_keeps_the_earlier_results",
            "test_read_only_out_is_one_line_and_results_stay",
            "test_out_that_is_a_file_is_one_line",
            "test_interrupted_run_writes_the_finished_replications",
            "test_run_interrupted_before_any_replication_says_nothing_was_written",
            "test_rerun_into_the_same_folder_replaces_only_mtsims_files",
        ),
        "test_model.py": ("test_same_seed_same_csv_bytes_and_different_seed_differs",),
        "test_platform.py": (
            "test_bad_platform_input_is_one_line",
            "test_mtsim_run_writes_the_per_merchant_table",
        ),
        "test_sweep.py": (  # the last two start a Dask cluster (scheduler and worker processes)
            "test_interrupted_sweep_resumes_without_recomputing",
            "test_cli_prints_bad_file_errors_without_traceback",
            "test_sweep_keeps_outcomes_by_group",
            "test_same_results_with_one_worker_two_workers_and_dask",
            "test_dask_local_option_starts_and_closes_its_own_cluster",
        ),
        "test_viz.py": ("test_viz_input_errors_come_before_the_heavy_imports",),
    },
}
"""Marker -> test file -> test functions (by name, every parameter); ``()``: the whole file."""


def tier_markers(path: Path, function: str) -> list[str]:
    """Return the markers :data:`TIERS` gives to test ``function`` of the file at ``path``."""
    return [
        marker
        for marker, files in TIERS.items()
        if path.name in files and (not files[path.name] or function in files[path.name])
    ]


LONGEST_FIRST: tuple[str, ...] = (
    "test_notebooks.py::test_notebook_runs[04_calibration]",
    "test_validation.py::test_mtsim_validate_quick_passes",
    "test_viz_browser.py::test_classroom_notebook_renders_the_page_inline_in_jupyterlab",
    "test_calibration.py::test_twin_experiment_recovers_known_parameters",
    "test_new_user.py::test_curves_hardly_depend_on_the_size_when_the_market_scales_with_it",
)
"""The longest tests (30-90 s each on an idle 2-core machine, ``--durations``): run first,
so that with ``-n auto`` no worker is left alone with one of them at the end."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of :data:`TIERS`, give ``quick`` to every test without a heavy one.

    Then move the :data:`LONGEST_FIRST` tests to the front (the rest keep their order).
    """
    for item in items:
        function = getattr(item, "originalname", item.name)
        for marker in tier_markers(item.path, function):
            item.add_marker(marker)
        if not any(item.get_closest_marker(name) for name in HEAVY_MARKERS):
            item.add_marker("quick")
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}

    def position(item: pytest.Item) -> int:
        return rank.get(f"{item.path.name}::{item.name}", len(rank))

    items.sort(key=position)  # stable: every other test keeps its place


# --------------------------------------------------------------------------- browsers, servers

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium: Playwright drives it (a browser download fails on the project's VM)."""

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def playwright_or_skip():
    """Return ``playwright.sync_api``; skip the calling module without chromium or Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need Debian's chromium at /usr/bin/chromium "
            "(apt-get install chromium; .ci/install test does it)",
            allow_module_level=True,
        )
    return pytest.importorskip(
        "playwright.sync_api", reason="browser tests need Playwright's Python package"
    )


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a server a test started in its own process group: SIGTERM, then SIGKILL."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)

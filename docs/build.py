"""Build the documents' generated blocks from the code and from recorded results.

A generated block is the text between two marker lines in README.md or in a Markdown
file under docs/ (marker lines inside fenced code are ignored)::

    <!-- gen:NAME:start -->
    ... what generator NAME writes ...
    <!-- gen:NAME:end -->

``GENERATORS`` maps each NAME to a function of docs/generators.py. A generator reads
either the code (the ODD's phase, state, parameter, lever and submodel tables) or the
results file of an ``Experiment``: a command that reruns it and the files it writes.
Each run of an experiment is recorded in docs/build_records/<experiment>.json: the
command, commit (and whether the tree had uncommitted changes), machine, date, load
average, seeds, duration and the SHA-256 of every file it wrote. Until an experiment has
a record, its blocks say so and give the command that writes them (no number to go
stale); ``--check`` passes on them and names the experiments not yet recorded. The test
runs (experiments/test_timings.py) run before every other experiment of a build: their
tests check the documents, which agree with the records only before results change.

Commands, from the repository root::

    python -m docs.build --check           # quick (CI): every block is what its generator
                                           # writes now and every results file is the one
                                           # its record names; exit 1 naming the file, the
                                           # block and the first differing line
    python -m docs.build --check FILE.md   # the same for these files only
    python -m docs.build --from-records    # rewrite the blocks; no experiment runs
    python -m docs.build                   # rerun every experiment behind a block, record
                                           # it, then rewrite the blocks (the scale
                                           # benchmark wants an idle machine)
    python -m docs.build --only NAME ...   # only these generators (and their experiments)
    python -m docs.build --list            # generators, where they are used, records
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from docs import generators, generators_data, generators_holdout
from docs import generators_runs as runs
from docs import generators_tables as tables

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "docs" / "build_records"
MARKER = re.compile(r"<!-- gen:([a-z0-9][a-z0-9-]*):(start|end) -->")


class BuildError(Exception):
    """A document, generator or record that cannot be used, with a one-line reason."""


@dataclass(frozen=True)
class Experiment:
    """A run whose results files generated blocks are written from.

    Attributes:
        name: the record's name (docs/build_records/<name>.json).
        command: its argv, run from the repository root (``python``: this interpreter).
        outputs: the files it writes, relative to the repository root.
        seeds: the seeds it uses.
        what: one line for ``--list``.
        first: run before every other experiment of a build (the test runs: they check
            the documents, which are consistent only before any results file changes).
    """

    name: str
    command: tuple[str, ...]
    outputs: tuple[str, ...]
    seeds: tuple[int, ...]
    what: str
    first: bool = False


@dataclass(frozen=True)
class Generator:
    """A generated block: its name in the markers, what writes it, and from what.

    Attributes:
        name: the NAME of ``<!-- gen:NAME:start -->``.
        render: returns the block's text; takes the experiment's record if it has one.
        what: one line for ``--list``.
        experiment: the experiment whose results it renders (None: it reads the code).
    """

    name: str
    render: Callable[..., str]
    what: str
    experiment: Experiment | None = None


BENCH_SCALE = Experiment(
    name="bench_scale",
    command=("python", "-m", "benchmarks.bench_scale", "--publish", "--seed", "1", "--reps", "3"),
    outputs=(
        "benchmarks/results/bench_scale_summary.csv",
        "benchmarks/results/bench_scale.csv",
        "benchmarks/results/bench_scale.png",
    ),
    seeds=(1,),
    what="scale benchmark, 1e3 to 1e6 consumers against Mesa's virus_on_network, medians "
    "of 3 runs per size (an idle machine; about 15 minutes; until 2026-12-07 one run per "
    "size, whose last two records gave 30.4x and 29.4x at 100k, too close to the 30x guard)",
)

LEVER_MULTIPLES = Experiment(
    name="lever_multiples",
    command=("python", "experiments/lever_multiples.py"),
    outputs=("experiments/lever_multiples.csv",),
    seeds=(42, 43, 44),
    what="what the library's lever files do (spend multiples, adoption rates, trust at the "
    "coupons' start), 3 paired runs per file at the baseline's size (about 2 minutes)",
)


def _pattern_suite(
    name: str, folder: str, seeds: range, seed_args: tuple[str, ...], what: str
) -> Experiment:
    """Declare a run of the pattern suite (``mtsim validate --patterns``) into ``folder``."""
    out = f"docs/validation_results/{folder}"
    return Experiment(
        name=name,
        command=(
            ("python", "-m", "model.cli", "validate", "--patterns")
            + seed_args
            + ("--workers", "2", "--out", out)
        ),
        outputs=tuple(f"{out}/patterns.{ext}" for ext in ("csv", "md", "json")),
        seeds=tuple(seeds),
        what=what,
    )


PATTERNS = _pattern_suite(
    "patterns",
    "patterns",
    range(1001, 1021),
    (),  # the suite's default seeds are the held-back ones
    "the pattern suite: 14 stylised facts on the baseline, 20 held-back seeds of 2,000 "
    "consumers (about 3 minutes with 2 workers on an idle 2-core machine)",
)
PATTERNS_SECOND = _pattern_suite(
    "patterns_second",
    "patterns_second",
    range(3001, 3021),
    ("--seeds", "3001-3020"),
    "the pattern suite on a second set of fresh seeds, 3001-3020 (first run on "
    "2026-12-07, night; about 3 minutes with 2 workers on an idle 2-core machine)",
)


def _measured(name: str, seeds: tuple[int, ...], what: str, *figures: str) -> Experiment:
    """Declare an experiment of experiments/policy_measures.py: one table (and figures)."""
    return Experiment(
        name=name,
        command=("python", "experiments/policy_measures.py", name),
        outputs=(f"experiments/measured/{name}.csv", *figures),
        seeds=seeds,
        what=what,
    )


POLICY_COMPARISON = _measured(
    "policy_comparison",
    tuple(range(42, 52)),
    "docs/policies.md's main comparison: baseline and four policy files, 10 paired "
    "replications of 2,000 consumers over 156 weeks (mtsim's compare workflow)",
)
LEVER_TARGETS = _measured(
    "lever_targets",
    tuple(range(1, 9)),
    "every library lever at full strength against no policy, 8 paired runs in small "
    "worlds (tests/test_levers.py's check)",
)
MARKETING_LEVERS = _measured(
    "marketing_levers",
    tuple(range(42, 48)),
    "the six marketing files at library strength against the baseline, 6 paired "
    "replications, 104 weeks",
)
KOL_CAMPAIGN_BUDGET = _measured(
    "kol_campaign_budget",
    (11,),
    "KOL campaign budget 0-10x: mtsim sweep experiments/kol_campaign_budget.yaml (66 runs, "
    "104 weeks; master seed 11) and its figure",
    "docs/figures/kol_campaign_budget_curve.png",
)
LOW_TRUST_COUPONS = _measured(
    "low_trust_coupons",
    tuple(range(42, 48)),
    "coupons before and after trust in the low-trust world, 6 paired replications",
)
COUNTERFEIT_HEAVY = _measured(
    "counterfeit_heavy",
    (42, 43, 44),
    "the counterfeit-heavy world against the baseline, 3 paired replications, and its run "
    "summary figure",
    "docs/figures/counterfeit_heavy_summary.png",
)
PLATFORM_ROUTES = _measured(
    "platform_routes",
    (42, 43, 44, 45),
    "platform verification and the state's integrity lever in the super-app world, 4 "
    "paired replications",
)
PLATFORM_LEVERS = _measured(
    "platform_levers",
    (1, 2, 3),
    "docs/platform.md's table: the seven platform library scenarios on seeds 1-3",
)
PLATFORM_TARGETS = _measured(
    "platform_targets",
    tuple(range(1, 9)),
    "docs/platform.md's targets: the material's four figures, platform_superapp at 2,000 "
    "consumers, seeds 1-8, the last 52 of 156 weeks",
)
POPULATION_SIZE = _measured(
    "population_size",
    (1, 2, 3, 4),
    "README's size table: the baseline at 2,000 and 20,000 consumers, seeds 1-4, week 156",
)
CNNIC_REPLAY = _measured(
    "cnnic_replay",
    tuple(range(1000, 1024)),
    "README's replay sentence: china_2013 against CNNIC's payment series, 24 runs",
)

GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator(
            "odd-schedule",
            generators.phase_schedule,
            "the week's phases in order (model.phases.PHASES)",
        ),
        Generator(
            "phase-table", generators.phase_table, "the full phase table (model.phases.phase_table)"
        ),
        Generator(
            "odd-state",
            generators.state_tables,
            "state variables, dtypes and shapes (model/state.py)",
        ),
        Generator(
            "odd-parameters",
            generators.parameter_tables,
            "the scenario schema with reference values, units and sources",
        ),
        Generator(
            "odd-levers",
            generators.lever_table,
            "policy levers: caps (model/levers.py), effects (model/policy.py)",
        ),
        Generator(
            "ranges-table",
            generators.ranges_table,
            "docs/ranges.md: every behavioural parameter's plausible range (model/ranges.yaml)",
        ),
        Generator(
            "odd-submodels",
            generators.submodel_list,
            "mechanism modules and their one-line rules (model/mechanisms/)",
        ),
        Generator(
            "bench-scale",
            generators.scale_table,
            "README's scale table (benchmarks/results/bench_scale_summary.csv)",
            BENCH_SCALE,
        ),
        Generator(
            "bench-scale-detail",
            generators.scale_table_detail,
            "docs/scale.md's table with Mesa's rates",
            BENCH_SCALE,
        ),
        Generator(
            "lever-multiples",
            generators.lever_multiples_table,
            "docs/policies.md's table of what the library's lever files do",
            LEVER_MULTIPLES,
        ),
        Generator(
            "pattern-facts",
            generators.pattern_facts,
            "the stylised facts' claims and measurements (model/validation/patterns.py)",
        ),
        Generator(
            "patterns",
            generators.patterns_table,
            "docs/validation.md's table of stylised facts (mtsim validate --patterns)",
            PATTERNS,
        ),
        Generator(
            "patterns-second",
            generators.patterns_second_table,
            "docs/validation.md: the pattern suite's verdicts on a second set of fresh seeds "
            "beside the held-back seeds' (reads the patterns run too: rewrite it with them)",
            PATTERNS_SECOND,
        ),
        Generator(
            "ad-concave-steps-both",
            generators.ad_concave_steps_both,
            "docs/validation.md: ad_concave's steps over both sets of fresh seeds (reads the "
            "patterns run too: rewrite it with them)",
            PATTERNS_SECOND,
        ),
        Generator(
            "ad-concave-steps",
            generators.ad_concave_steps,
            "docs/validation.md's step-by-step changes of the ad response (same run)",
            PATTERNS,
        ),
        Generator(
            "policy-comparison",
            generators.policy_comparison_table,
            "docs/policies.md's main comparison (four policies against the baseline)",
            POLICY_COMPARISON,
        ),
        Generator(
            "lever-targets",
            generators.lever_targets_table,
            "docs/policies.md: every lever at full strength moves its own target",
            LEVER_TARGETS,
        ),
        Generator(
            "marketing-levers",
            generators.marketing_levers_table,
            "docs/policies.md: marketing levers at library strength",
            MARKETING_LEVERS,
        ),
        Generator(
            "kol-campaign-budget",
            generators.kol_campaign_budget_table,
            "docs/policies.md: the KOL campaign budget curve",
            KOL_CAMPAIGN_BUDGET,
        ),
        Generator(
            "low-trust-coupons",
            generators.low_trust_coupons_table,
            "docs/policies.md: coupons before and after trust (low-trust world)",
            LOW_TRUST_COUPONS,
        ),
        Generator(
            "counterfeit-heavy",
            generators.counterfeit_heavy_table,
            "docs/policies.md: the counterfeit-heavy world against the baseline",
            COUNTERFEIT_HEAVY,
        ),
        Generator(
            "platform-routes",
            generators.platform_routes_table,
            "docs/policies.md: platform verification or state integrity",
            PLATFORM_ROUTES,
        ),
        Generator(
            "platform-levers",
            generators.platform_levers_table,
            "docs/platform.md: the platform library scenarios side by side",
            PLATFORM_LEVERS,
        ),
        Generator(
            "rebuild-time",
            lambda: rebuild_time_text(),
            "README: how long a full rebuild took, from every experiment's record",
        ),
        Generator(
            "population-size",
            generators.population_size_table,
            "README: the baseline's shares at week 156 by population size",
            POPULATION_SIZE,
        ),
        Generator(
            "cnnic-replay",
            generators.cnnic_replay_sentence,
            "README: how closely the calibrated replay follows CNNIC's payment series",
            CNNIC_REPLAY,
        ),
        Generator(
            "platform-targets",
            generators.platform_targets_table,
            "docs/platform.md: the material's figures the platform world is calibrated to",
            PLATFORM_TARGETS,
        ),
    )
}


# The calibration, validation, decision-support and performance tables (docs/generators_tables.py).
CALIBRATION_TABLES = Experiment(
    name="calibration_tables",
    command=("python", "experiments/calibration_tables.py"),
    outputs=(
        tables.CAL_POSTERIOR,
        tables.CAL_IN_SAMPLE,
        tables.CAL_HOLDOUT,
        tables.CAL_FITS,
    ),
    seeds=(),
    what="the calibration's tables from the shipped fits in docs/calibration_results/ (no "
    "model run, no fit, no hold-out scoring: a new fit is mtsim calibrate's; about 1 s)",
)
VALIDATE_CLASSIC = Experiment(
    name="validate_classic",
    command=(
        "python",
        "-m",
        "model.cli",
        "validate",
        "--workers",
        "2",
        "--out",
        tables.VALIDATION_DIR,
    ),
    outputs=(f"{tables.VALIDATION_DIR}/validation.json", f"{tables.VALIDATION_DIR}/validation.md"),
    seeds=(20240601,),
    what="the docking checks of mtsim validate at full size (22 comparisons: Bass, Watts, "
    "percolation, NDlib; one of the longest experiments: its record has the time)",
)
PLATFORM_STEP_TIME = Experiment(
    name="platform_step_time",
    command=("python", "experiments/platform_step_time.py"),
    outputs=(tables.PLATFORM_STEP_TIME,),
    seeds=(1, 2, 3),
    what="docs/platform.md's step time with and without a platform, 2,000 consumers, seeds "
    "1-3, 100 weeks, one core (about 10 s; an idle machine)",
)


def _decision_example(name: str, seeds: tuple[int, ...], what: str, *figures: str) -> Experiment:
    """Declare an example of docs/decisions.md (experiments/decision_examples.py)."""
    return Experiment(
        name=f"decisions_{name}",
        command=("python", "experiments/decision_examples.py", name),
        outputs=(f"experiments/measured/decisions_{name}.csv", *figures),
        seeds=seeds,
        what=what,
    )


DECISIONS_THRESHOLD = _decision_example(
    "threshold",
    tuple(range(42, 52)),
    "docs/decisions.md section 1: mtsim compare of the two coupon programmes with "
    "--threshold, 10 paired replications, 156 weeks (30 runs; about 1 minute idle)",
)
DECISIONS_DECOMPOSE = _decision_example(
    "decompose",
    tuple(range(42, 52)),
    "docs/decisions.md section 2: mtsim compare --decompose of combined_package, 10 "
    "replications of 9 scenarios, 156 weeks (90 runs; about 3 minutes idle), and its figure",
    "docs/figures/decisions_decomposition.png",
)
DECISIONS_OPTIMIZE = _decision_example(
    "optimize",
    (11, 12, 13),
    "docs/decisions.md section 4: mtsim optimize experiments/optimize_payment_trust.yaml, "
    "48 mixes x 3 replications of 1,000 consumers, 52 weeks (144 runs; about 1 minute idle), "
    "and its figure",
    "docs/figures/decisions_pareto.png",
)
BENCH_SWEEP = Experiment(
    name="bench_sweep",
    command=("python", "-m", "benchmarks.bench_sweep", "--out", tables.BENCH_SWEEP),
    outputs=(tables.BENCH_SWEEP,),
    seeds=(1,),
    what="docs/sweeps.md's sweep throughput (48 runs of 1,000 consumers with 1 and 2 "
    "workers) and overhead (4 runs of 10,000 consumers, 100 weeks); an idle machine, "
    "about 1-2 minutes",
)
ERROR_TIMINGS = Experiment(
    name="error_timings",
    command=("python", "experiments/error_timings.py"),
    outputs=(tables.ERROR_TIMINGS,),
    seeds=(),
    what="docs/robustness.md: time to the error of four bad commands, 5 new processes each "
    "(about 20 s)",
)
WORLDS_INTEGRITY = Experiment(
    name="worlds_integrity",
    command=("python", "experiments/worlds_integrity.py"),
    outputs=(
        "experiments/measured/worlds_integrity_summary.csv",
        "experiments/measured/worlds_integrity_sensitivity.csv",
        "experiments/measured/worlds_integrity_run.json",
    ),
    seeds=(1, 2, 3, 4),
    what="docs/decisions.md 3a: integrity vs baseline over 32 plausible worlds x 4 paired "
    "replications at 2,000 consumers (256 runs, a few minutes on 2 cores)",
)
DISCOVER_EXAMPLE = Experiment(
    name="discover_example",
    command=("python", "experiments/discover_example.py"),
    outputs=(
        "experiments/measured/discover_example.json",
        "experiments/measured/discover_example_boxes.csv",
        "docs/figures/decisions_peeling.png",
    ),
    seeds=(7,),
    what="docs/decisions.md section 5: mtsim sweep experiments/lhs_main.yaml (128 runs of "
    "2,000 consumers, 104 weeks, 2 workers) and mtsim discover with the median rule "
    "(about 2 minutes: sweep 101 s, discover 12 s, at load average 1.5-4)",
)
DIFFUSION_PROBES = Experiment(
    name="diffusion_probes",
    command=("python", "-m", "experiments.diffusion_probes"),
    outputs=(generators_data.DIFFUSION_PROBES,),
    seeds=(1, 2, 3),
    what="docs/validation.md: the baseline's early curves and Bass fits with KOL and channel "
    "awareness probed, building seeds 1-3, 2,000 consumers, 312 weeks; then the calibrated "
    "replay to 2020 on the same seeds, fitted at CNNIC's year-ends (about 2 minutes)",
)
SEEDING_PROBES = Experiment(
    name="seeding_probes",
    command=("python", "-m", "experiments.seeding_probes"),
    outputs=(generators_data.SEEDING_PROBES,),
    seeds=tuple(range(1, 21)),
    what="docs/validation.md: the pattern suite's hub_seeding with a heavy-tailed graph and "
    "KOL awareness probed, building seeds 1-20, 2,000 consumers, 52 weeks (about 1 minute)",
)
FORECAST = Experiment(
    name="forecast",
    command=("python", "experiments/forecast.py", "--workers", "2"),
    outputs=(generators_data.FORECAST,),
    seeds=tuple(range(3001, 3011)),
    what="docs/calibration.md: china_2013 continued to 2025-12-31 at 2,000 consumers, seeds "
    "3001-3010, 2 workers: the forecast for 2021-2025 (about 1 minute)",
)
REGRET_EXAMPLE = Experiment(
    name="regret_example",
    command=("python", "experiments/regret_example.py"),
    outputs=(
        "experiments/measured/regret_example_summary.csv",
        "experiments/measured/regret_example.json",
    ),
    seeds=(21,),
    what="docs/decisions.md 3: three packages' regret over 12 uncertain worlds (72 runs of "
    "1,000 consumers, about a minute)",
)
GENERATORS.update(
    (g.name, g)
    for g in (
        Generator(
            "calibration-posterior",
            tables.calibration_posterior_table,
            "docs/calibration.md: the full fit's posterior and the point estimate",
            CALIBRATION_TABLES,
        ),
        Generator(
            "calibration-fits",
            tables.calibration_fits_table,
            "docs/calibration.md: the two fits' generations, runs, epsilon, ESS",
            CALIBRATION_TABLES,
        ),
        Generator(
            "calibration-in-sample",
            tables.calibration_in_sample_table,
            "docs/calibration.md: the point estimate's in-sample check per series",
            CALIBRATION_TABLES,
        ),
        Generator(
            "calibration-payment-gaps",
            tables.calibration_payment_gaps_table,
            "docs/calibration.md: payment gaps at CNNIC's dates (fit check; replay)",
            CALIBRATION_TABLES,
        ),
        Generator(
            "calibration-holdout",
            tables.calibration_holdout_table,
            "docs/calibration.md: out-of-sample RMSE and coverage (hold-out fit)",
            CALIBRATION_TABLES,
        ),
        Generator(
            "holdout-table",
            tables.readme_holdout_table,
            "README: out-of-sample RMSE of mtsim and the curves (hold-out fit)",
            CALIBRATION_TABLES,
        ),
        Generator(
            "validate-classic",
            tables.validation_classic_table,
            "docs/validation.md: the docking checks of mtsim validate",
            VALIDATE_CLASSIC,
        ),
        Generator(
            "platform-step-time",
            tables.platform_step_time_text,
            "docs/platform.md: a week's step with and without a platform",
            PLATFORM_STEP_TIME,
        ),
        Generator(
            "bench-sweep",
            tables.bench_sweep_table,
            "docs/sweeps.md: sweep throughput and overhead per run",
            BENCH_SWEEP,
        ),
        Generator(
            "error-timings",
            tables.error_timings_table,
            "docs/robustness.md: time to the error of bad commands",
            ERROR_TIMINGS,
        ),
        Generator(
            "readme-policy-effects",
            tables.readme_policy_effects,
            "README: what the three single-lever policy files do (policies.md's comparison)",
            POLICY_COMPARISON,
        ),
        Generator(
            "decisions-threshold",
            tables.decisions_threshold_table,
            "docs/decisions.md: coupon programmes while they act, time to threshold",
            DECISIONS_THRESHOLD,
        ),
        Generator(
            "decisions-decompose",
            tables.decisions_decompose_table,
            "docs/decisions.md: combined_package decomposed into its levers",
            DECISIONS_DECOMPOSE,
        ),
        Generator(
            "worlds-integrity",
            generators_data.worlds_integrity_text,
            "docs/decisions.md: integrity's effect across 32 plausible worlds",
            WORLDS_INTEGRITY,
        ),
        Generator(
            "decisions-regret",
            generators_data.regret_example_text,
            "docs/decisions.md: regret of three packages across uncertain worlds",
            REGRET_EXAMPLE,
        ),
        Generator(
            "bass-of-data",
            generators_data.bass_of_data_table,
            "docs/validation.md: Bass p, q, m of CNNIC's own yearly series (no model run)",
        ),
        Generator(
            "bass-time-interval",
            generators_data.bass_time_interval_table,
            "docs/validation.md: the suite's yearly Bass fit of continuous Bass curves (no "
            "model run)",
        ),
        Generator(
            "diffusion-probes",
            generators_data.diffusion_probes_table,
            "docs/validation.md: early curves and Bass fits under awareness probes",
            DIFFUSION_PROBES,
        ),
        Generator(
            "seeding-probes",
            generators_data.seeding_probes_table,
            "docs/validation.md: hub_seeding with a heavy-tailed graph and KOL awareness probed",
            SEEDING_PROBES,
        ),
        Generator(
            "diffusion-probes-continuous",
            generators_data.diffusion_probes_continuous_table,
            "docs/validation.md: the probes' yearly curves fitted in discrete and continuous time",
            DIFFUSION_PROBES,
        ),
        Generator(
            "bass-of-replay",
            generators_data.replay_bass_table,
            "docs/validation.md: CNNIC's Bass fits beside the calibrated replay's",
            DIFFUSION_PROBES,
        ),
        Generator(
            "forecast",
            generators_data.forecast_table,
            "docs/calibration.md: the calibrated replay's forecast for 2021-2025",
            FORECAST,
        ),
        Generator(
            "calibration-priors",
            generators_data.calibration_priors_table,
            "docs/calibration.md: the fitted parameters and their priors (no model run)",
        ),
        Generator(
            "consumption-targets",
            generators_data.consumption_targets_table,
            "docs/calibration.md: the band of the mobile share of consumption fitted (data only)",
        ),
        Generator(
            "holdout-latest",
            generators_holdout.holdout_latest_table,
            "docs/calibration.md, README: the latest hold-out forecast against the baselines "
            "(the shipped fit; no model run)",
        ),
        Generator(
            "holdout-latest-fit",
            generators_holdout.holdout_latest_fit,
            "docs/calibration.md: the latest hold-out fit's generations, ESS and band coverage",
        ),
        Generator(
            "full-latest-fit",
            generators_holdout.full_latest_fit,
            "docs/calibration.md: the latest full fit's generations, ESS and in-sample coverage",
        ),
        Generator(
            "full-latest-posterior",
            generators_holdout.full_latest_posterior,
            "docs/calibration.md: the latest full fit's posterior beside the scenarios' point",
        ),
        Generator(
            "decisions-optimize",
            tables.decisions_optimize_table,
            "docs/decisions.md: the Pareto front of the example optimisation",
            DECISIONS_OPTIMIZE,
        ),
        Generator(
            "decisions-discover",
            generators_data.decisions_discover_text,
            "docs/decisions.md: mtsim discover on the LHS sweep, outcome below its median",
            DISCOVER_EXAMPLE,
        ),
    )
)


# The test runs and the texts around the docking checks (docs/generators_runs.py).
def _test_run(tier: str, what: str) -> Experiment:
    """Declare a timed run of one of the README's test commands (experiments/test_timings.py)."""
    return Experiment(
        name=f"tests_{tier}",
        command=("python", "experiments/test_timings.py", tier),
        outputs=(f"experiments/measured/tests_{tier}.json",),
        seeds=(),
        what=what,
        first=True,
    )


TESTS_QUICK = _test_run(
    "quick",
    "README's quick tier, pytest -m quick -n auto, timed as a whole (one to two minutes on "
    "an idle 2-core machine)",
)
TESTS_FULL = _test_run(
    "full",
    "README's full test run (CI's tests without the install), pytest -m \"not slow\" -n "
    "auto, timed, with each notebook's run time (about 10 minutes on an idle 2-core machine)",
)
REPLAY_SIZES = _measured(
    "replay_sizes",
    tuple(range(1000, 1024)),
    "docs/calibration.md's population-size table: china_2013 against CNNIC at 1,000, "
    "2,000, 5,000 and 10,000 consumers (24, 24, 12, 6 runs; about 2 minutes)",
)
# The grounding audit (docs/generators_grounding.py; issue 28): china_2013 against CNNIC and NBS.
from docs import generators_grounding as grounding  # noqa: E402  (kept with its registration)

GROUNDING_AUDIT = Experiment(
    name="grounding_audit",
    command=("python", "experiments/grounding_audit.py", "--workers", "2"),
    outputs=(
        "experiments/measured/grounding_audit_runs.csv",
        grounding.CNNIC,
        grounding.YEARS,
        "docs/figures/grounding_audit.png",
    ),
    seeds=tuple(range(2001, 2011)),
    what="docs/calibration.md's grounding audit: china_2013 at 2,000 consumers, seeds "
    "2001-2010, 365 weeks, 2 workers, against CNNIC's payment and shopping and NBS's online "
    "share of retail (about 1 minute)",
)
GENERATORS.update(
    (g.name, g)
    for g in (
        Generator(
            "replay-sizes",
            runs.replay_sizes_table,
            "docs/calibration.md: the replay's gaps to CNNIC by population size",
            REPLAY_SIZES,
        ),
        Generator(
            "calibration-run-time",
            runs.calibration_run_time,
            "docs/calibration.md: one fit run's time, from the measured step time",
            PLATFORM_STEP_TIME,
        ),
        Generator(
            "scale-targets",
            runs.scale_targets_text,
            "README, docs/scale.md: whether the scale targets are met in the benchmark",
            BENCH_SCALE,
        ),
        Generator(
            "decision-timings",
            lambda: decision_timings_text(),
            "README: how long the recorded optimize and decompose examples took",
        ),
        Generator(
            "validate-classic-notes",
            runs.validate_classic_notes,
            "docs/validation.md: the docking runs' sizes and the numbers read from them",
            VALIDATE_CLASSIC,
        ),
        Generator(
            "watts-reference",
            runs.watts_reference_table,
            "docs/validation.md: Watts's analytic chance against the finite-graph simulation",
            VALIDATE_CLASSIC,
        ),
        Generator(
            "readme-validate-classic",
            runs.readme_validate_classic,
            "README: the docking checks' results in four rows",
            VALIDATE_CLASSIC,
        ),
        Generator(
            "tests-quick-time",
            runs.tests_quick_text,
            "README: the quick tier's test count and wall time",
            TESTS_QUICK,
        ),
        Generator(
            "tests-full-time",
            runs.tests_full_text,
            "README: the full test run's test count and wall time",
            TESTS_FULL,
        ),
        Generator(
            "notebook-times",
            runs.notebook_times_text,
            "README, docs/notebooks.md: each notebook's run time in the full test run",
            TESTS_FULL,
        ),
        Generator(
            "grounding-cnnic",
            grounding.grounding_cnnic_table,
            "docs/calibration.md: china_2013's payment and shopping at CNNIC's dates, "
            "mean and single runs",
            GROUNDING_AUDIT,
        ),
        Generator(
            "grounding-money",
            grounding.grounding_money_table,
            "docs/calibration.md: china_2013's mobile share of consumption and GMV in yuan "
            "against NBS, per year",
            GROUNDING_AUDIT,
        ),
        Generator(
            "grounding-summary",
            grounding.grounding_summary,
            "README: the grounding audit in three sentences",
            GROUNDING_AUDIT,
        ),
    )
)


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Block:
    """One generated block of a document: its name and the indices of its marker lines."""

    name: str
    start: int
    end: int


def documents() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def find_blocks(lines: list[str]) -> list[Block]:
    """Return the generated blocks of a document's lines; BuildError on unpaired markers."""
    blocks: list[Block] = []
    open_name, open_at, fenced = None, -1, False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        marker = MARKER.fullmatch(line.strip())
        if fenced or not marker:
            continue
        name, side = marker.groups()
        if side == "start":
            if open_name is not None:
                raise BuildError(
                    f"line {index + 1}: block '{name}' starts inside block '{open_name}' "
                    f"(line {open_at + 1})"
                )
            open_name, open_at = name, index
        elif name != open_name:
            raise BuildError(f"line {index + 1}: end of block '{name}' without its start")
        else:
            blocks.append(Block(name, open_at, index))
            open_name = None
    if open_name is not None:
        raise BuildError(f"line {open_at + 1}: block '{open_name}' has no end marker")
    return blocks


def relative(path: Path) -> str:
    """Return a path relative to the repository when inside it, else as given."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- records


def sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_path(experiment: Experiment) -> Path:
    """Where an experiment's record is kept."""
    return RECORDS / f"{experiment.name}.json"


def load_record(experiment: Experiment) -> dict[str, Any]:
    """Return an experiment's record; BuildError when it is missing."""
    path = record_path(experiment)
    if not path.exists():
        raise BuildError(
            f"{relative(path)}: no record of experiment '{experiment.name}'; "
            f"run python -m docs.build --only <its blocks>"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def record_problems(experiment: Experiment) -> list[str]:
    """Results files that are missing or not the ones the experiment's record names.

    An experiment without a record has none: its blocks say it is not yet recorded
    (:func:`not_yet_recorded`) and hold no number to go stale.
    """
    if not record_path(experiment).exists():
        return []
    recorded = load_record(experiment).get("outputs", {})
    problems = []
    for output in experiment.outputs:
        path = ROOT / output
        if output not in recorded:
            problems.append(f"{output}: not in {relative(record_path(experiment))}")
        elif not path.exists():
            problems.append(f"{output}: missing (recorded in {relative(record_path(experiment))})")
        elif sha256(path) != recorded[output]:
            problems.append(
                f"{output}: changed since {relative(record_path(experiment))} was written; "
                f"rerun it through python -m docs.build so that its run is recorded"
            )
    return problems


def git(*args: str) -> str:
    """Output of a git command in the repository ('' when git is unavailable)."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    """Describe this machine for a record."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        memory = float("nan")
    versions = {name: metadata.version(name) for name in ("mesa", "numpy")}
    cores = os.cpu_count()
    return {
        "description": f"{platform.node()}, {cores} cores, {memory:.0f} GiB, "
        f"Python {platform.python_version()}, Mesa {versions['mesa']}",
        "node": platform.node(),
        "system": platform.platform(),
        "cores": cores,
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        **versions,
    }


def run_experiment(experiment: Experiment) -> dict[str, Any]:
    """Run an experiment from the repository root and write its record."""
    command = [sys.executable if arg == "python" else arg for arg in experiment.command]
    print(f"docs.build: running {experiment.name}: {' '.join(experiment.command)}", flush=True)
    started = datetime.now(UTC)
    load = os.getloadavg()
    clock = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT)
    duration = time.perf_counter() - clock
    if done.returncode != 0:
        raise BuildError(f"experiment '{experiment.name}' failed (exit {done.returncode})")
    commit = git("rev-parse", "HEAD")
    record = {
        "experiment": experiment.name,
        "command": " ".join(experiment.command),
        "commit": commit or "unknown",
        "uncommitted_changes": (
            bool(git("status", "--porcelain", "--untracked-files=no")) if commit else None
        ),
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_at_start": [round(value, 2) for value in load],
        "seeds": list(experiment.seeds),
        "duration_s": round(duration, 1),
        "outputs": {output: sha256(ROOT / output) for output in experiment.outputs},
    }
    RECORDS.mkdir(parents=True, exist_ok=True)
    record_path(experiment).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


# --------------------------------------------------------------------------- rendering


class Renderer:
    """Renders each generator at most once per build (some build a small model)."""

    def __init__(self) -> None:
        self._done: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        """Return the text generator ``name`` writes now; BuildError when it cannot."""
        if name not in GENERATORS:
            raise BuildError(
                f"no generator named '{name}' (known: {', '.join(sorted(GENERATORS))})"
            )
        if name not in self._done:
            generator = GENERATORS[name]
            try:
                if generator.experiment is None:
                    text = generator.render()
                elif not record_path(generator.experiment).exists():
                    text = not_yet_recorded(name, generator.experiment)
                else:
                    text = generator.render(load_record(generator.experiment))
            except BuildError:
                raise
            except Exception as error:  # a generator's failure is reported, not a traceback
                raise BuildError(
                    f"generator '{name}' failed: {type(error).__name__}: {error}"
                ) from error
            self._done[name] = text if text.endswith("\n") else text + "\n"
        return self._done[name]


def not_yet_recorded(name: str, experiment: Experiment) -> str:
    """Return what a block says until its experiment has a record: no number, the command."""
    return (
        f"*Not yet recorded: `python -m docs.build --only {name}` runs experiment "
        f"`{experiment.name}` ({experiment.what}) and writes this block from its results.*\n"
    )


def first_difference(expected: list[str], found: list[str]) -> tuple[int, str, str] | None:
    """Return the first line where two blocks differ: (index, expected, found)."""
    for index in range(max(len(expected), len(found))):
        want = expected[index] if index < len(expected) else "(end of block)"
        have = found[index] if index < len(found) else "(end of block)"
        if want != have:
            return index, want, have
    return None


def unrecorded(paths: Iterable[Path]) -> list[str]:
    """Experiments behind blocks of these files that have no record yet (sorted names)."""
    names = {
        GENERATORS[block.name].experiment.name
        for path in paths
        for block in find_blocks(path.read_text(encoding="utf-8").splitlines())
        if block.name in GENERATORS and GENERATORS[block.name].experiment is not None
    }
    experiments = {g.experiment.name: g.experiment for g in GENERATORS.values() if g.experiment}
    return sorted(name for name in names if not record_path(experiments[name]).exists())


def check(paths: Iterable[Path], render: Renderer | None = None) -> tuple[list[str], int]:
    """Problems with the generated blocks of these files, and the number of blocks checked."""
    render = render or Renderer()
    problems: list[str] = []
    checked = 0
    experiments: dict[str, Experiment] = {}
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()
        try:
            blocks = find_blocks(lines)
        except BuildError as error:
            problems.append(f"{relative(path)}: {error}")
            continue
        for block in blocks:
            checked += 1
            where = f"{relative(path)}:{block.start + 1}: block '{block.name}'"
            try:
                expected = render(block.name).splitlines()
            except BuildError as error:
                problems.append(f"{where}: {error}")
                continue
            experiment = GENERATORS[block.name].experiment
            if experiment is not None:
                experiments[experiment.name] = experiment
            difference = first_difference(expected, lines[block.start + 1 : block.end])
            if difference:
                index, want, have = difference
                problems.append(
                    f"{relative(path)}:{block.start + 2 + index}: block '{block.name}' is not "
                    f"what its generator writes; first difference:\n    expected: {want}\n"
                    f"    found:    {have}"
                )
    for experiment in experiments.values():
        problems += record_problems(experiment)
    return problems, checked


def rewrite(paths: Iterable[Path], names: set[str] | None, render: Renderer) -> list[str]:
    """Write each block (or only those named) as its generator writes it; the files changed."""
    changed = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        blocks = find_blocks(lines)
        for block in reversed(blocks):
            if names is None or block.name in names:
                lines[block.start + 1 : block.end] = render(block.name).splitlines()
        new = "\n".join(lines) + ("\n" if text.endswith("\n") else "")
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(relative(path))
    return changed


def used_in(paths: Iterable[Path]) -> dict[str, list[str]]:
    """Where each generator's blocks are: name -> files."""
    places: dict[str, list[str]] = {name: [] for name in GENERATORS}
    for path in paths:
        for block in find_blocks(path.read_text(encoding="utf-8").splitlines()):
            places.setdefault(block.name, []).append(relative(path))
    return places


def rebuild_time_text() -> str:
    """Say how long rerunning every experiment took, from their records (README).

    The time is the sum of the recorded runs' durations, on the machines named in the
    records (their core counts), with the load average at their starts; experiments
    without a record (or without a duration) are named, and the total says it leaves
    them out.
    """
    experiments = {g.experiment.name: g.experiment for g in GENERATORS.values() if g.experiment}
    records = {name: load_record(e) for name, e in experiments.items() if record_path(e).exists()}
    unrecorded = sorted(set(experiments) - set(records))
    untimed = sorted(name for name, r in records.items() if r.get("duration_s") is None)
    total = sum(r.get("duration_s") or 0.0 for r in records.values())
    if not records:
        return (
            f"A full rebuild reruns {len(experiments)} experiments; none has a record yet "
            "(`python -m docs.build` runs them all).\n"
        )
    machines = [r["machine"] for r in records.values() if isinstance(r.get("machine"), dict)]
    cores = sorted({m["cores"] for m in machines if m.get("cores")})
    where = (
        f"a {cores[0]}-core machine"
        if len(cores) == 1
        else f"machines of {', '.join(map(str, cores))} cores"
        if cores
        else "the machines in the records"
    )
    nodes = sorted({m.get("description", "") for m in machines} - {""})
    if len(nodes) == 1:
        where += f" ({nodes[0]})"
    loads = [
        r["load_average_at_start"][0] for r in records.values() if r.get("load_average_at_start")
    ]
    load = f", load average {min(loads):.1f}-{max(loads):.1f} at their starts" if loads else ""
    dates = sorted(r["date"][:10] for r in records.values())
    span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    left_out = unrecorded + untimed
    if left_out:
        head = (
            f"A full rebuild (`python -m docs.build`) reruns {len(experiments)} experiments; "
            f"{len(records) - len(untimed)} of them have a recorded time, "
            f"{total / 60:.0f} minutes in all on {where}"
        )
    else:
        head = (
            f"A full rebuild (`python -m docs.build`) reruns {len(experiments)} experiments; "
            f"their recorded runs took {total / 60:.0f} minutes in all on {where}"
        )
    return (
        head
        + f"{load} (recorded {span}; `python -m docs.build --list` gives each)."
        + (
            f" Not yet recorded, so not in that time: {', '.join(unrecorded)}."
            if unrecorded
            else ""
        )
        + (f" Recorded without a duration: {', '.join(untimed)}." if untimed else "")
        + "\n"
    )


def decision_timings_text() -> str:
    """README: how long the recorded runs of docs/decisions.md's optimize and decompose took."""
    parts, loads, dates = [], [], []
    for experiment, what in (
        (
            DECISIONS_OPTIMIZE,
            "`mtsim optimize experiments/optimize_payment_trust.yaml` (48 mixes x 3 runs of "
            "1,000 consumers x 52 weeks)",
        ),
        (
            DECISIONS_DECOMPOSE,
            "the decomposition of combined_package (9 scenarios x 10 runs x 2,000 consumers "
            "x 156 weeks)",
        ),
    ):
        if not record_path(experiment).exists():
            parts.append(f"{what}: not yet recorded")
            continue
        record = load_record(experiment)
        took = record.get("duration_s")
        parts.append(f"{what} {took:.0f} s" if took is not None else f"{what}: no duration")
        loads += record.get("load_average_at_start", [])[:1]
        dates.append(record["date"][:10])
    where = f", load average {min(loads):.1f}-{max(loads):.1f} at their starts" if loads else ""
    when = f", {min(dates)}" + (f" to {max(dates)}" if max(dates) != min(dates) else "")
    return (
        "Timings of the recorded runs of docs/decisions.md's examples (`python -m docs.build`: "
        "2 workers, the figure included): "
        + "; ".join(parts)
        + (f" ({when[2:]}{where})" if dates else "")
        + ".\n"
    )


def describe(paths: list[Path]) -> str:
    """List the generators, where each is used, and each experiment's record."""
    places = used_in(paths)
    out = ["generators:"]
    for name, generator in GENERATORS.items():
        where = f"in {', '.join(places[name])}" if places[name] else "in no document yet"
        source = f"experiment {generator.experiment.name}" if generator.experiment else "the code"
        out.append(f"  {name:<20} {generator.what}; from {source}; {where}")
    out.append("experiments:")
    total = 0.0
    for experiment in {
        g.experiment.name: g.experiment for g in GENERATORS.values() if g.experiment
    }.values():
        try:
            record = load_record(experiment)
        except BuildError as error:
            out.append(f"  {experiment.name:<20} {experiment.what}; {error}")
            continue
        duration = record.get("duration_s")
        total += duration or 0.0
        took = f"{duration:.0f} s" if duration else "duration not recorded"
        out.append(
            f"  {experiment.name:<20} {experiment.what}; recorded {record['date']} at "
            f"{record['commit'][:7]}, {took}"
        )
    out.append(f"recorded time of a full rebuild: {total:.0f} s (experiments with a duration)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m docs.build``; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m docs.build",
        description="Rewrite or check the generated blocks of README.md and docs/*.md.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="check every block against its generator and record (exit 1 if not)",
    )
    mode.add_argument(
        "--from-records",
        action="store_true",
        help="rewrite the blocks from the code and the recorded results only",
    )
    mode.add_argument("--list", action="store_true", help="list generators and records")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these generators")
    parser.add_argument(
        "files", nargs="*", type=Path, help="Markdown files (default: README.md and docs/**/*.md)"
    )
    args = parser.parse_args(argv)

    paths = [path.resolve() for path in args.files] or documents()
    missing = [str(path) for path in paths if not path.is_file()]
    unknown = sorted(set(args.only or ()) - set(GENERATORS))
    if missing or unknown:
        what = (
            f"no such file: {', '.join(missing)}"
            if missing
            else (
                f"no generator named {', '.join(unknown)} (known: {', '.join(sorted(GENERATORS))})"
            )
        )
        print(f"docs.build: error: {what}", file=sys.stderr)
        return 2
    try:
        if args.list:
            print(describe(paths))
            return 0
        render = Renderer()
        if args.check:
            problems, checked = check(paths, render)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print(
                    f"docs.build --check: {len(problems)} problem(s) in {checked} block(s); "
                    f"python -m docs.build --from-records rewrites the blocks",
                    file=sys.stderr,
                )
                return 1
            print(
                f"docs.build --check: {checked} generated block(s) in {len(paths)} file(s) "
                f"match their generators and records"
            )
            pending = unrecorded(paths)
            if pending:
                print(
                    f"docs.build --check: not yet recorded (their blocks say so): "
                    f"{', '.join(pending)}"
                )
            return 0
        names = set(args.only) if args.only else None
        if not args.from_records:
            experiments = {
                g.experiment.name: g.experiment
                for g in GENERATORS.values()
                if g.experiment and (names is None or g.name in names)
            }
            # the test runs first: they check the documents against the records, so
            # every block follows the records before the next experiment starts
            for experiment in sorted(experiments.values(), key=lambda e: not e.first):
                run_experiment(experiment)
                render = Renderer()  # texts rendered before this run read its old record
                if experiment.first:
                    rewrite(paths, None, render)
            if names is not None:  # every block of a rerun experiment follows its new results
                names |= {
                    g.name
                    for g in GENERATORS.values()
                    if g.experiment and g.experiment.name in experiments
                }
                if experiments:  # and the README's sum of the recorded run times
                    names.add("rebuild-time")
        changed = rewrite(paths, names, render)
    except BuildError as error:
        print(f"docs.build: error: {error}", file=sys.stderr)
        return 2
    print(
        f"docs.build: rewrote {', '.join(changed)}"
        if changed
        else "docs.build: every block was already up to date"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

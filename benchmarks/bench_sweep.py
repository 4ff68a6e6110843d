"""Sweep throughput and the runner + store overhead per run.

    python -m benchmarks.bench_sweep            # both measurements
    python -m benchmarks.bench_sweep --quick    # fewer runs (a smoke test of the script)

1. Throughput: a Latin hypercube of ``--runs`` runs of a small world (1,000
   consumers, 40 merchants, 5 KOLs, 52 weekly steps), swept with 1 worker (in
   process) and with 2 worker processes; runs per minute of wall time, pool start
   and store writes included.
2. Overhead: a 10,000-consumer, 100-step run. ``run_model`` timed directly, then
   the same runs through ``run_sweep`` (runner, Parquet part per run, manifest) in
   one process. The one-off start (reading the experiment, building the design
   table, manifests) is timed by resuming the finished sweep (nothing left to
   run). Overhead per run = (sweep wall - start - summed direct run times) / runs,
   which holds the runner, the scenario check in each task and the part write.
   The part alone (building it from the run table and writing it atomically, with
   fsync) and the scenario check each task does are timed separately: their sum is
   the steadiest overhead number on a busy machine.

Numbers depend on the machine and on what else runs on it; the JSON written to
``benchmarks/output/bench_sweep.json`` records the machine's core count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from model.experiment.spec import load_experiment
from model.experiment.store import PartBuilder, ResultStore
from model.experiment.sweep import build_design_table
from model.market import run_model
from model.scenario import scenario_from_dict
from model.workflows.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
OUTPUT = ROOT / "benchmarks" / "output" / "bench_sweep.json"

SMALL = {"population.consumers": 1000, "population.merchants": 40, "population.kols": 5}
LARGE = {"population.consumers": 10_000, "population.merchants": 400, "population.kols": 40}


def write_experiment(folder: Path, name: str, fixed: dict, steps: int, **more) -> Path:
    data = {
        "name": name,
        "base": str(BASELINE),
        "set": fixed,
        "parameters": [
            {"name": "risk", "path": "payment.perceived_risk", "range": [0.2, 0.6]},
            {"name": "transmission", "path": "word_of_mouth.transmission", "range": [0.002, 0.02]},
        ],
        "steps": steps,
        "seed": 1,
        "outcomes": "summary",
        **more,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def throughput(folder: Path, runs: int) -> dict[str, float]:
    """Runs per minute with 1 and 2 workers on the small world."""
    experiment = write_experiment(
        folder, "throughput", SMALL, steps=52, design={"kind": "lhs", "samples": runs}
    )
    out = {}
    for workers in (1, 2):
        start = time.perf_counter()
        summary = run_sweep(experiment, folder / f"w{workers}", workers=workers, progress=False)
        wall = time.perf_counter() - start
        assert summary.computed == runs, summary
        out[f"runs_per_minute_{workers}_worker"] = runs / wall * 60
        out[f"wall_seconds_{workers}_worker"] = wall
        out[f"mean_run_seconds_{workers}_worker"] = summary.run_seconds / runs
    return out


def overhead(folder: Path, runs: int) -> dict[str, float]:
    """Runner + store overhead per run, as a share of a 10,000-consumer, 100-step run."""
    experiment = write_experiment(
        folder,
        "overhead",
        LARGE,
        steps=100,
        design={"kind": "lhs", "samples": runs},
        outcomes="timeseries",
    )
    study = load_experiment(experiment)
    design, scenarios = build_design_table(study)
    direct = []
    tables = []
    for run in range(runs):
        scenario = scenario_from_dict(scenarios[run])
        start = time.perf_counter()
        tables.append(run_model(scenario, seed=int(design.at[run, "seed"]), steps=100))
        direct.append(time.perf_counter() - start)

    start = time.perf_counter()
    summary = run_sweep(experiment, folder / "sweep", workers=1, progress=False)
    sweep_wall = time.perf_counter() - start
    assert summary.computed == runs, summary
    # the one-off start: the same command with nothing left to run
    start = time.perf_counter()
    run_sweep(experiment, folder / "sweep", resume=True, workers=1, progress=False)
    start_cost = time.perf_counter() - start

    # the per-run part alone: build the part and write it atomically, many times
    store = ResultStore(folder / "parts-only")
    store.parts_dir.mkdir(parents=True)
    store.failures_dir.mkdir()
    builder = PartBuilder(design, "timeseries")
    part_times = []
    for i in range(30):
        run = i % runs
        start = time.perf_counter()
        store.write_part(run, builder.build(run, tables[run]))
        part_times.append(time.perf_counter() - start)

    # the runner's own work in each task besides the model: rebuild and check the scenario
    check_times = []
    for i in range(30):
        start = time.perf_counter()
        scenario_from_dict(scenarios[i % runs], source="bench")
        check_times.append(time.perf_counter() - start)

    mean_direct = statistics.fmean(direct)
    per_run = (sweep_wall - start_cost - sum(direct)) / runs
    return {
        "runs": runs,
        "direct_run_seconds_mean": mean_direct,
        "direct_run_seconds": direct,
        "sweep_wall_seconds": sweep_wall,
        "sweep_run_seconds_mean": summary.run_seconds / runs,
        "start_seconds": start_cost,
        "overhead_seconds_per_run": per_run,
        "overhead_percent_of_run": 100 * per_run / mean_direct,
        "overhead_with_start_percent_of_run": 100 * (per_run + start_cost / runs) / mean_direct,
        "part_write_seconds_median": statistics.median(part_times),
        "part_write_percent_of_run": 100 * statistics.median(part_times) / mean_direct,
        "scenario_check_seconds_median": statistics.median(check_times),
        "steady_overhead_percent_of_run": 100
        * (statistics.median(part_times) + statistics.median(check_times))
        / mean_direct,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=48, help="runs of the throughput sweep")
    parser.add_argument("--large-runs", type=int, default=4, help="runs of the overhead sweep")
    parser.add_argument("--quick", action="store_true", help="8 + 2 runs (a smoke test)")
    parser.add_argument(
        "--out", type=Path, default=OUTPUT, help=f"the JSON written (default {OUTPUT})"
    )
    args = parser.parse_args()
    runs, large = (8, 2) if args.quick else (args.runs, args.large_runs)
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        result = {
            "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
            "throughput": throughput(folder, runs),
            "overhead": overhead(folder, large),
        }
    output = args.out
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2))
    t, o = result["throughput"], result["overhead"]
    print(f"cores: {os.cpu_count()} (shared machine: other work may run at the same time)")
    print(f"small world (1,000 consumers, 52 steps), {runs} runs:")
    for workers in (1, 2):
        print(
            f"  {workers} worker(s): {t[f'runs_per_minute_{workers}_worker']:.0f} runs/min "
            f"(wall {t[f'wall_seconds_{workers}_worker']:.1f} s, "
            f"mean run {t[f'mean_run_seconds_{workers}_worker']:.3f} s)"
        )
    print(f"10,000 consumers, 100 steps, {large} runs:")
    print(f"  direct run_model: {o['direct_run_seconds_mean']:.2f} s per run")
    print(
        f"  run_sweep (1 worker): {o['sweep_wall_seconds']:.2f} s, of which the one-off start "
        f"{o['start_seconds']:.2f} s and runs {o['sweep_run_seconds_mean']:.2f} s each"
    )
    print(
        f"  overhead per run: {o['overhead_seconds_per_run'] * 1000:.0f} ms = "
        f"{o['overhead_percent_of_run']:.1f}% of a run "
        f"({o['overhead_with_start_percent_of_run']:.1f}% with the start spread over the runs)"
    )
    print(
        f"  part build + atomic write alone: {o['part_write_seconds_median'] * 1000:.1f} ms "
        f"= {o['part_write_percent_of_run']:.2f}% of a run"
    )
    print(
        f"  scenario check in each task: {o['scenario_check_seconds_median'] * 1000:.1f} ms; "
        f"part + check = {o['steady_overhead_percent_of_run']:.2f}% of a run"
    )
    print(f"written {output}")


if __name__ == "__main__":
    main()

"""The cost of the platform layer: a week's step with and without ``platforms:``.

    python experiments/platform_step_time.py [--steps 100] [--seeds 1,2,3]

Builds ``scenarios/baseline.yaml`` (no platform) and ``scenarios/platform_superapp.yaml``
(one super-app) at their own size, 2,000 consumers, and times ``MarketModel.step`` over
``--steps`` weeks for each seed, model construction excluded (one process, one core).
Writes experiments/measured/platform_step_time.csv: per scenario and seed, the
population, weeks, seconds and milliseconds per step, and the load average at the start
(timings on a shared machine are longer; docs/platform.md, "Performance", quotes the
medians). About 10 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

from model.market import MarketModel
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "measured" / "platform_step_time.csv"
SCENARIOS = ("baseline", "platform_superapp")


def main() -> None:
    """Time the steps of each scenario and seed and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    load = os.getloadavg()[0]
    rows = []
    for name in SCENARIOS:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        for seed in seeds:
            model = MarketModel(scenario, seed=seed)
            clock = time.perf_counter()
            for _ in range(args.steps):
                model.step()
            seconds = time.perf_counter() - clock
            rows.append(
                {
                    "scenario": name,
                    "seed": seed,
                    "consumers": scenario.population.consumers,
                    "merchants": scenario.population.merchants,
                    "kols": scenario.population.kols,
                    "steps": args.steps,
                    "seconds": f"{seconds:.4f}",
                    "ms_per_step": f"{1000 * seconds / args.steps:.3f}",
                    "load_average_1min": f"{load:.2f}",
                }
            )
            print(f"{name} seed {seed}: {1000 * seconds / args.steps:.2f} ms a step")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()

"""Memory over a long run: does anything grow with the number of steps?

    python -m benchmarks.bench_memory                  # 100,000 consumers, 1,000 steps
    python -m benchmarks.bench_memory --consumers 1000000 --steps 300

Runs the baseline scenario at the sizes of bench_scale (merchants = N / 25,
KOLs = N / 250; Mesa space not built) and samples, every ``--every`` steps, the
resident memory of the process and the Python heap traced by ``tracemalloc``
(current, and the peak within the step). The model keeps no per-agent history by
default, so the only thing that should grow is the run table (one row of metrics
per step). Writes ``bench_memory.csv`` to ``--out`` (default
``benchmarks/output/``) and prints the growth per step.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mib() -> float:
    """Current resident memory of this process [MiB] (Linux)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096 / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "output")
    args = parser.parse_args(argv)

    import pandas as pd

    from benchmarks.bench_scale import scale_scenario
    from model.market import MarketModel

    n = args.consumers
    scenario = scale_scenario(n, args.steps, {"simulation.space_max_consumers": 0})
    model = MarketModel(scenario, seed=args.seed)
    tracemalloc.start()
    rows = []
    start = time.perf_counter()
    print(f"{'step':>6} {'rss MiB':>8} {'heap MiB':>9} {'step peak MiB':>14} {'s':>7}")
    for t in range(1, args.steps + 1):
        tracemalloc.reset_peak()
        model.step()
        if t % args.every == 0 or t == args.steps:
            current, peak = tracemalloc.get_traced_memory()
            row = {
                "consumers": n,
                "step": t,
                "rss_mib": round(rss_mib(), 1),
                "heap_mib": round(current / 2**20, 3),
                "step_peak_mib": round(peak / 2**20, 2),
                "elapsed_s": round(time.perf_counter() - start, 2),
            }
            rows.append(row)
            print(
                f"{t:>6} {row['rss_mib']:>8.1f} {row['heap_mib']:>9.3f} "
                f"{row['step_peak_mib']:>14.2f} {row['elapsed_s']:>7.1f}",
                flush=True,
            )
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "bench_memory.csv", index=False)
    first, last = table.iloc[0], table.iloc[-1]
    span = max(1, int(last["step"] - first["step"]))
    print(
        f"\ngrowth from step {int(first['step'])} to {int(last['step'])}: "
        f"heap {1024 * (last['heap_mib'] - first['heap_mib']) / span:.2f} KiB/step, "
        f"rss {1024 * (last['rss_mib'] - first['rss_mib']) / span:.2f} KiB/step "
        f"(tracemalloc slows the run)\nwrote {args.out / 'bench_memory.csv'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

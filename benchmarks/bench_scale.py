"""Scale benchmark: mtsim's baseline scenario against a per-agent Mesa model.

One command measures, for each population size, the baseline scenario
(``scenarios/baseline.yaml`` with ``population.consumers = N``, ``merchants = N / 25``,
``kols = N / 250``, mean degree 10, default seed 1) and Mesa's own
``virus_on_network`` example at the same number of agents:

    python -m benchmarks.bench_scale                       # 1e3, 1e4, 1e5, 1e6; ~15 min, 2 cores
    python -m benchmarks.bench_scale --quick               # 1e3, 1e4; a smoke run
    python -m benchmarks.bench_scale --publish             # also copy CSV + plot to results/

Each measurement runs in a fresh subprocess (so peak memory is that run's own):
build time (constructing the model: graph, state, agents, Mesa space where built),
time per step (mean over the timed steps, data collection included), agent-steps
per second (agents x steps / stepping time; mtsim agents = consumers + merchants +
KOLs, Mesa agents = nodes) and peak resident memory (``ru_maxrss`` of the
subprocess, interpreter and imports included). Every size is repeated ``--reps``
times; the summary reports medians and the ratio of agent-steps per second.

The Mesa reference is ``mesa.examples.basic.virus_on_network`` unchanged except that
its graph is built with the linear-time ``nx.fast_gnp_random_graph(n, p, seed=...)``
instead of the quadratic ``nx.erdos_renyi_graph``, and its ``Network`` space gets
``layout=None`` instead of a spring layout (both would otherwise dominate its build,
not its stepping). Parameters: mean degree 10, 1% initially infected, Mesa's
defaults otherwise. Its step includes its own DataCollector, as ours does. Being a
Python loop over agents it is slow: its steps are capped (``--mesa-steps``, fewer at
1,000,000) and the cap is written into the table.

Outputs (``--out``, default ``benchmarks/output/``, git-ignored): ``bench_scale.csv``
(one row per run), ``bench_scale_summary.csv`` (medians and ratio) and
``bench_scale.png``. ``--publish`` copies them to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from model.commands.common import add_set_option

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
DEFAULT_OUT = ROOT / "benchmarks" / "output"
RESULTS = ROOT / "benchmarks" / "results"
SIZES = (1_000, 10_000, 100_000, 1_000_000)
MEAN_DEGREE = 10


def population(n: int) -> dict[str, int]:
    """Consumers, merchants (n / 25) and KOLs (n / 250) of a benchmark size."""
    return {"consumers": n, "merchants": n // 25, "kols": n // 250}


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux: ru_maxrss in KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


# --------------------------------------------------------------------------- workers


def scale_scenario(n: int, steps: int, overrides: dict | None = None):
    """The baseline scenario at a benchmark size (population(n)), run for ``steps``."""
    from model.scenario import load_scenario

    pop = population(n)
    return load_scenario(
        BASELINE,
        {
            "population.consumers": pop["consumers"],
            "population.merchants": pop["merchants"],
            "population.kols": pop["kols"],
            "simulation.steps": steps,
            **(overrides or {}),
        },
    )


def run_mtsim(n: int, steps: int, seed: int, overrides: dict | None = None) -> dict:
    """Build and step the baseline scenario at n consumers; timings and sizes."""
    from model.market import MarketModel

    pop = population(n)
    scenario = scale_scenario(n, steps, overrides)
    rss_before = peak_rss_mib()
    start = time.perf_counter()
    model = MarketModel(scenario, seed=seed)
    build = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    stepping = time.perf_counter() - start
    table = model.timeseries()
    agents = pop["consumers"] + pop["merchants"] + pop["kols"]
    return {
        "engine": "mtsim",
        "consumers": n,
        "merchants": pop["merchants"],
        "kols": pop["kols"],
        "agents": agents,
        "edges": model.graph.n_edges,
        "steps": steps,
        "build_s": build,
        "step_s": stepping / steps,
        "agent_steps_per_s": agents * steps / stepping,
        "peak_rss_mib": peak_rss_mib(),
        "rss_after_imports_mib": rss_before,
        "final_aware_share": float(table["aware_share"].iloc[-1]),
    }


def mesa_reference_class():
    """Mesa's VirusOnNetwork with a seeded linear-time graph and no layout."""
    from unittest import mock

    import networkx as nx
    from mesa.discrete_space import Network
    from mesa.examples.basic.virus_on_network import model as virus

    class _LinearTimeGraphs:
        """Stands in for ``networkx`` inside the example: G(n, p) in linear time, seeded."""

        def __init__(self, seed: int):
            self.seed = seed

        def erdos_renyi_graph(self, n: int, p: float):
            return nx.fast_gnp_random_graph(n, p, seed=self.seed)

    class FairVirusOnNetwork(virus.VirusOnNetwork):
        """Mesa's example, built with fast_gnp_random_graph(seed=...) and layout=None."""

        def __init__(self, *args, graph_seed: int = 0, **kwargs):
            def topological_network(*a, **k):
                k["layout"] = None
                return Network(*a, **k)

            with (
                mock.patch.object(virus, "nx", _LinearTimeGraphs(graph_seed)),
                mock.patch.object(virus, "Network", topological_network),
            ):
                super().__init__(*args, **kwargs)

    return FairVirusOnNetwork


def run_mesa(n: int, steps: int, seed: int) -> dict:
    """Build and step Mesa's virus_on_network at n agents; timings and sizes."""
    cls = mesa_reference_class()
    rss_before = peak_rss_mib()
    start = time.perf_counter()
    model = cls(
        num_nodes=n,
        avg_node_degree=MEAN_DEGREE,
        initial_outbreak_size=max(1, n // 100),
        rng=seed,
        graph_seed=seed,
    )
    build = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    stepping = time.perf_counter() - start
    return {
        "engine": "mesa_virus_on_network",
        "consumers": n,
        "merchants": 0,
        "kols": 0,
        "agents": n,
        "edges": model.grid.G.number_of_edges(),
        "steps": steps,
        "build_s": build,
        "step_s": stepping / steps,
        "agent_steps_per_s": n * steps / stepping,
        "peak_rss_mib": peak_rss_mib(),
        "rss_after_imports_mib": rss_before,
        "final_aware_share": float("nan"),
    }


def worker(engine: str, n: int, steps: int, seed: int, overrides: list[str]) -> None:
    """Run one measurement and print it as one JSON line (the parent reads the last line)."""
    if engine == "mtsim":
        from model.scenario import parse_override

        parsed = [parse_override(text) for text in overrides]
        result = run_mtsim(n, steps, seed, {".".join(keys): value for keys, value in parsed})
    else:
        result = run_mesa(n, steps, seed)
    print(json.dumps(result), flush=True)


# --------------------------------------------------------------------------- driver


def measure(
    engine: str, n: int, steps: int, seed: int, timeout: float, overrides: list[str] = ()
) -> dict:
    """One measurement in a fresh Python process."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench_scale",
        "--worker",
        engine,
        "--n",
        str(n),
        "--steps",
        str(steps),
        "--seed",
        str(seed),
    ]
    for override in overrides if engine == "mtsim" else ():
        command += ["--set", override]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"engine": engine, "consumers": n, "steps": steps, "error": f"timeout {timeout}s"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"engine": engine, "consumers": n, "steps": steps, "error": tail}
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(rows: list[dict]):
    """Medians per engine and size, and the mtsim / Mesa ratio of agent-steps per second."""
    import pandas as pd

    table = pd.DataFrame(rows)
    ok = table[table.get("error", pd.Series(index=table.index, dtype=object)).isna()]
    numeric = ["build_s", "step_s", "agent_steps_per_s", "peak_rss_mib"]
    summary = (
        ok.groupby(["engine", "consumers"], sort=True)
        .agg(
            agents=("agents", "first"),
            edges=("edges", "median"),
            steps=("steps", "first"),
            reps=("build_s", "size"),
            **{f"{c}_median": (c, "median") for c in numeric},
        )
        .reset_index()
    )
    summary["build_plus_100_steps_s"] = summary["build_s_median"] + 100 * summary["step_s_median"]
    ours = summary[summary["engine"] == "mtsim"].set_index("consumers")["agent_steps_per_s_median"]
    mesa = summary[summary["engine"] != "mtsim"].set_index("consumers")["agent_steps_per_s_median"]
    ratio = (ours / mesa).rename("ratio_vs_mesa")
    summary = summary.merge(ratio, left_on="consumers", right_index=True, how="left")
    summary.loc[summary["engine"] != "mtsim", "ratio_vs_mesa"] = float("nan")
    return table, summary


def plot(summary, path: Path) -> None:
    """Agent-steps per second, build + 100 steps, and peak memory against population size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    styles = {
        "mtsim": {"color": "tab:blue", "marker": "o", "label": "mtsim (vectorised, baseline)"},
        "mesa_virus_on_network": {
            "color": "tab:orange",
            "marker": "s",
            "label": "Mesa virus_on_network (per agent)",
        },
    }
    panels = (
        ("agent_steps_per_s_median", "agent-steps per second"),
        ("build_plus_100_steps_s", "build + 100 steps [s]"),
        ("peak_rss_mib_median", "peak memory [MiB]"),
    )
    for ax, (column, label) in zip(axes, panels, strict=True):
        for engine, part in summary.groupby("engine"):
            style = styles.get(engine, {"label": engine})
            ax.plot(part["consumers"], part[column], **style)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("consumers (agents on the social graph)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(loc="best", fontsize=8)
    mtsim = summary[summary["engine"] == "mtsim"]
    for _, row in mtsim.dropna(subset=["ratio_vs_mesa"]).iterrows():
        axes[0].annotate(
            f"{row['ratio_vs_mesa']:.0f}x",
            (row["consumers"], row["agent_steps_per_s_median"]),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=8,
        )
    axes[1].axhline(60, color="grey", ls=":", lw=1)
    axes[1].annotate("target at 1M: 60 s", (0.02, 60), xycoords=("axes fraction", "data"),
                     xytext=(0, 3), textcoords="offset points", fontsize=8, color="grey")
    axes[1].set_title("Mesa: build + 100 x its mean step (capped steps)", fontsize=8)
    axes[2].axhline(4096, color="grey", ls=":", lw=1)
    axes[2].annotate("target at 1M: 4 GiB", (0.02, 4096), xycoords=("axes fraction", "data"),
                     xytext=(0, -10), textcoords="offset points", fontsize=8, color="grey")
    fig.suptitle(
        f"mtsim scale benchmark (median of repetitions; {platform.node()}, "
        f"{os.cpu_count()} cores; peak memory includes the interpreter and imports)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def mesa_steps_for(n: int, args: argparse.Namespace) -> int:
    """Timed steps of the Mesa reference at size n (capped at the largest sizes)."""
    return args.mesa_steps_1m if n >= 1_000_000 else args.mesa_steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Scale benchmark: mtsim baseline vs Mesa's virus_on_network."
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--steps", type=int, default=100, help="timed mtsim steps (100)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per size (3)")
    parser.add_argument("--mesa-steps", type=int, default=10, help="timed Mesa steps (10)")
    parser.add_argument(
        "--mesa-steps-1m", type=int, default=5, help="timed Mesa steps at >= 1,000,000 (5)"
    )
    parser.add_argument(
        "--mesa-reps-1m", type=int, default=1, help="Mesa repetitions at >= 1,000,000 (1)"
    )
    parser.add_argument(
        "--mesa-max", type=int, default=1_000_000, help="largest size for the Mesa reference"
    )
    parser.add_argument("--seed", type=int, default=1)
    add_set_option(
        parser, "extra scenario override for mtsim, e.g. simulation.space_max_consumers=0"
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="per run [s]")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="sizes 1e3 and 1e4, 1 rep, 20 steps")
    parser.add_argument("--publish", action="store_true", help="copy outputs to results/")
    parser.add_argument(
        "--replot", action="store_true", help="redraw the plot from OUT/bench_scale_summary.csv"
    )
    parser.add_argument("--worker", choices=("mtsim", "mesa"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        worker(args.worker, args.n, args.steps, args.seed, args.overrides)
        return 0
    if args.replot:
        import pandas as pd

        summary_path = args.out / "bench_scale_summary.csv"
        if not summary_path.exists():
            print(f"bench_scale: --replot: {summary_path} not found", file=sys.stderr)
            return 2
        plot(pd.read_csv(summary_path), args.out / "bench_scale.png")
        print(f"wrote {args.out / 'bench_scale.png'}")
        return 0
    if args.quick:
        args.sizes, args.reps, args.steps, args.mesa_steps = [1_000, 10_000], 1, 20, 5

    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    print(
        f"{'engine':<22} {'consumers':>10} {'rep':>3} {'steps':>5} {'build s':>8} "
        f"{'step s':>9} {'agent-steps/s':>14} {'peak MiB':>9}",
        flush=True,
    )
    for n in sorted(args.sizes):
        plan = [("mtsim", args.steps, args.reps)]
        if n <= args.mesa_max:
            reps = args.mesa_reps_1m if n >= 1_000_000 else args.reps
            plan.append(("mesa", mesa_steps_for(n, args), reps))
        for engine, steps, reps in plan:
            for rep in range(reps):
                row = measure(engine, n, steps, args.seed, args.timeout, args.overrides)
                row["rep"] = rep
                rows.append(row)
                if "error" in row:
                    print(f"{engine:<22} {n:>10} {rep:>3} error: {row['error']}", flush=True)
                    continue
                print(
                    f"{row['engine']:<22} {n:>10} {rep:>3} {steps:>5} {row['build_s']:>8.2f} "
                    f"{row['step_s']:>9.4f} {row['agent_steps_per_s']:>14,.0f} "
                    f"{row['peak_rss_mib']:>9.0f}",
                    flush=True,
                )
    if all("error" in row for row in rows):
        print("bench_scale: every run failed; nothing to summarise", file=sys.stderr)
        return 1
    table, summary = summarise(rows)
    csv_path = args.out / "bench_scale.csv"
    summary_path = args.out / "bench_scale_summary.csv"
    png_path = args.out / "bench_scale.png"
    table.to_csv(csv_path, index=False)
    summary.to_csv(summary_path, index=False, float_format="%.6g")
    plot(summary, png_path)
    print()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    print(f"\nwrote {csv_path}, {summary_path}, {png_path}")
    if args.publish:
        RESULTS.mkdir(parents=True, exist_ok=True)
        for path in (csv_path, summary_path, png_path):
            shutil.copy2(path, RESULTS / path.name)
        print(f"copied to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Refit the calibration's point estimate after a model change, without a new ABC fit.

    python -m experiments.refit_point [--trials 48] [--reps 6] [--workers 2] [--write]

The model's mechanisms change between full fits (issue 27: binding payment acceptance,
the merchants' profit rule); the point estimate in scenarios/baseline.yaml and
scenarios/china_2013.yaml was fitted to the model before the change. This script runs the
calibration's own minimum-distance search (``model.validation.posterior.refine_point``:
Optuna TPE in the priors of experiments/calibrate_cnnic.yaml, the same ABC distance over
the in-sample window 2014-2020, common seeds) starting from the current point, and reports
the point nearest the data. With ``--write`` it writes that point into the two scenario
files, keeping each line's comment. It is an in-sample refit: it never looks at a
hold-out, and the hold-out (``mtsim calibrate --holdout``) is not rescored by it.

Writes results/calibration/refit/points.csv (every point tried, its mean distance) and
refit.json (the chosen point, the current point's distance, seeds, trials, commit).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time
from pathlib import Path

import pandas as pd

from model.validation.calibration import load_calibration
from model.validation.posterior import mean_distances, refine_point

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "calibrate_cnnic.yaml"
OUT = ROOT / "results" / "calibration" / "refit"


def current_point(calibration) -> dict[str, float]:
    """Return the point the scenario files hold now (each parameter's first path)."""
    data = calibration.base_data
    point = {}
    for name in calibration.parameter_names:
        path = calibration.config.parameters[name].paths[0]
        node = data
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        point[name] = float(node)
    return point


def narrow(calibration, point: dict[str, float], share: float) -> None:
    """Shrink each parameter's prior to ``share`` of its width around the current point."""
    parameters = calibration.config.parameters
    for name, spec in list(parameters.items()):
        low, high = spec.prior_bounds()  # on the prior's scale (log10 for log priors)
        centre = spec.to_prior_scale(point[name])
        half = share * (high - low) / 2
        new_low, new_high = max(low, centre - half), min(high, centre + half)
        parameters[name] = spec.model_copy(
            update={"low": spec.from_prior_scale(new_low), "high": spec.from_prior_scale(new_high)}
        )


def _set_line(text: str, key_path: str, value: float) -> str:
    """Replace the value of ``key: value  # comment`` for the last key of a path."""
    key = key_path.split(".")[-1]
    pattern = re.compile(rf"^(\s*{re.escape(key)}:\s*)([-+0-9.eE]+)(.*)$", re.MULTILINE)
    matches = list(pattern.finditer(text))
    if len(matches) != 1:
        raise SystemExit(f"refit_point: {key_path}: {len(matches)} lines match; edit by hand")
    m = matches[0]
    return text[: m.start()] + f"{m.group(1)}{value:.4g}{m.group(3)}" + text[m.end() :]


def _set_group(text: str, path: str, value: float) -> str:
    """Set a group's field, written inline (``g: {..., payment: 0.5, ...}``) or as a block."""
    group, field = path.split(".")[3], path.split(".")[-1]
    inline = re.compile(
        rf"^(\s*{re.escape(group)}:\s*\{{.*?{field}:\s*)([-+0-9.eE]+)", re.MULTILINE
    )
    found = list(inline.finditer(text))
    if len(found) == 1:
        m = found[0]
        return text[: m.start(2)] + f"{value:.4g}" + text[m.end(2) :]
    head = list(re.finditer(rf"^(\s*){re.escape(group)}:\s*(#.*)?$", text, re.MULTILINE))
    if len(head) != 1:
        raise SystemExit(f"refit_point: {path}: {len(head)} lines match; edit by hand")
    indent = len(head[0].group(1))
    start = head[0].end() + 1  # the line after the group's
    block_end = start
    for line in text[start:].split("\n"):
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block_end += len(line) + 1
    block = _set_line(text[start:block_end], field, value)
    return text[:start] + block + text[block_end:]


def write_point(point: dict[str, float], calibration) -> None:
    """Write the point into scenarios/baseline.yaml (world) and china_2013.yaml (events)."""
    baseline = ROOT / "scenarios" / "baseline.yaml"
    china = ROOT / "scenarios" / "china_2013.yaml"
    texts = {baseline: baseline.read_text(), china: china.read_text()}
    for name, value in point.items():
        for path in calibration.config.parameters[name].paths:
            if path.startswith("policies."):
                index = int(path.split(".")[1])
                text = texts[china]
                starts = [m.start() for m in re.finditer(r"^  - lever:", text, re.MULTILINE)]
                end = starts[index + 1] if index + 1 < len(starts) else len(text)
                block = _set_line(text[starts[index] : end], "strength", value)
                texts[china] = text[: starts[index]] + block + text[end:]
            elif path.startswith("regions."):
                region = path.split(".")[1]
                text = texts[baseline]
                start = re.search(rf"^  {re.escape(region)}:", text, re.MULTILINE).start()
                nxt = re.search(r"^  \S", text[start + 1 :], re.MULTILINE)
                end = start + 1 + nxt.start() if nxt else len(text)
                block = _set_line(text[start:end], path, value)
                texts[baseline] = text[:start] + block + text[end:]
            elif path.startswith("population.attributes."):
                texts[baseline] = _set_group(texts[baseline], path, value)
            else:
                texts[baseline] = _set_line(texts[baseline], path, value)
    for path, text in texts.items():
        path.write_text(text)


def main() -> None:
    """Run the search (or, with ``--write-recorded``, write the last recorded point)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=48)
    parser.add_argument("--reps", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--local",
        type=float,
        default=0.0,
        help="search only within this share of each prior's width (on the prior's scale) "
        "around the current point, e.g. 0.15 (default 0: the whole prior)",
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a second starting candidate: the current point with these parameters changed "
        "(repeatable), e.g. --also mobile_appeal=1.0; both are run and told to the search",
    )
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--write-recorded",
        action="store_true",
        help="write the point chosen by the last run (results/calibration/refit/refit.json) "
        "without searching again",
    )
    args = parser.parse_args()
    if args.write_recorded:
        record = json.loads((OUT / "refit.json").read_text())
        write_point(record["chosen"], load_calibration(CONFIG))
        print("written into scenarios/baseline.yaml and scenarios/china_2013.yaml")
        return
    started = time.time()
    calibration = load_calibration(CONFIG)
    point = current_point(calibration)
    if args.local > 0:
        narrow(calibration, point, args.local)
    seeds = [calibration.run_seed(point, salt=200_000 + i) for i in range(args.reps)]
    (score,) = mean_distances(calibration, [point], seeds, args.workers)
    print(f"current point: mean distance {score:.4f}", flush=True)
    rows = [{"candidate": "current", **point, "mean_distance": score}]
    candidates = [("current", point)]
    if args.also:
        other = dict(point)
        for text in args.also:
            name, _, value = text.partition("=")
            if name not in other:
                raise SystemExit(f"refit_point: --also {text}: {name!r} is not a fitted parameter")
            other[name] = float(value)
        (other_score,) = mean_distances(calibration, [other], seeds, args.workers)
        print(f"second candidate ({', '.join(args.also)}): mean distance {other_score:.4f}")
        rows.append({"candidate": "also", **other, "mean_distance": other_score})
        candidates.append(("also", other))
    rows += refine_point(calibration, candidates, rows, seeds, args.trials, args.workers, print)
    table = pd.DataFrame(rows)
    best = table.loc[table["mean_distance"].idxmin()]
    chosen = {n: float(best[n]) for n in calibration.parameter_names}
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / "points.csv", index=False)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    record = {
        "current": point,
        "current_distance": score,
        "chosen": chosen,
        "chosen_distance": float(best["mean_distance"]),
        "chosen_candidate": str(best["candidate"]),
        "also": args.also,
        "seeds": seeds,
        "trials": args.trials,
        "local": args.local,
        "commit": commit,
        "seconds": round(time.time() - started, 1),
    }
    (OUT / "refit.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    if args.write and best["candidate"] != "current":
        write_point(chosen, calibration)
        print("written into scenarios/baseline.yaml and scenarios/china_2013.yaml")


if __name__ == "__main__":
    main()

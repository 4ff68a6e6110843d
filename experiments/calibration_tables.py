"""The numbers docs/calibration.md and README.md quote from the shipped calibration results.

    python experiments/calibration_tables.py

Reads what ``mtsim calibrate`` and ``experiments/refit_point.py`` wrote, as shipped in
docs/calibration_results/ (the full fit's and the hold-out fit's posterior summaries,
generations, per-observation tables and out-of-sample scores; the in-sample refit of the
point estimate), and writes one tidy table per block under experiments/measured/:

- ``calibration_posterior.csv``: the full fit's posterior per parameter (prior, median,
  5%, 95%, width ratio) and the point estimate before and after the in-sample refit;
- ``calibration_in_sample.csv``: the full fit's point estimate against every observation
  (role, observed, the mean of its in-sample check runs, gap in points, inside the 90%
  predictive band);
- ``calibration_holdout.csv``: the hold-out fit's out-of-sample RMSE and 90% coverage per
  series and method, as ``mtsim calibrate --holdout`` scored them;
- ``calibration_fits.json``: per fit, runs, generations, epsilon and effective sample
  size of each generation; the commit and date that shipped each source file, and its
  SHA-256 (the generators refuse to render when a source changed after this ran).

It runs no model, fits nothing and scores no hold-out: it only copies and summarises
numbers already written. A new fit (``mtsim calibrate``; the recalibration is issue 28's,
and a hold-out score is looked at only under that issue's logged protocol) updates
docs/calibration_results/; rerunning this script through ``python -m docs.build`` then
updates the documents.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "docs" / "calibration_results"
# the local refit after KOL posts began to act only on the followers who see them (the
# earlier refits: refit_2026-12-06, refit_2026-12-06b, refit_2026-12-06c, the joint volume
# refit, refit_2026-12-07, after KOL followers began to come back, and refit_2026-12-07b,
# after mobile access became a logistic curve)
REFIT = SOURCE / "refit_2026-12-07d" / "refit.json"
MEASURED = ROOT / "experiments" / "measured"

SOURCES = {
    "full_posterior": SOURCE / "full_posterior_summary.csv",
    "full_generations": SOURCE / "full_generations.csv",
    "full_observations": SOURCE / "full_observations.csv",
    "holdout_generations": SOURCE / "holdout_generations.csv",
    "holdout_out_of_sample": SOURCE / "holdout_out_of_sample.csv",
    "refit": REFIT,
}
"""The shipped results every number is read from."""

POSTERIOR = MEASURED / "calibration_posterior.csv"
IN_SAMPLE = MEASURED / "calibration_in_sample.csv"
HOLDOUT = MEASURED / "calibration_holdout.csv"
FITS = MEASURED / "calibration_fits.json"


def read_csv(path: Path) -> list[dict[str, str]]:
    """Return a CSV file's rows."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    """Write rows as CSV (the first row's keys are the header)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shipped(path: Path) -> dict[str, str]:
    """Return the commit and date that last changed a shipped file (git; empty if unknown)."""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h %ad", "--date=short", "--", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
    return {"commit": out[0], "date": out[1]} if len(out) == 2 else {"commit": "", "date": ""}


def generations(path: Path) -> list[dict[str, float]]:
    """Return a fit's generations: epsilon, proposals, particles, effective sample size."""
    return [
        {
            "t": int(r["t"]),
            "epsilon": float(r["epsilon"]),
            "samples": int(r["samples"]),
            "particles": int(r["particles"]),
            "ess": float(r["ess"]),
        }
        for r in read_csv(path)
    ]


def _priors() -> dict[str, str]:
    """Each fitted parameter's prior as the posterior summary writes it (e.g. "uniform [0, 1]")."""
    from model.validation.calibration import load_calibration

    calibration = load_calibration(ROOT / "experiments" / "calibrate_cnnic.yaml")
    out = {}
    for name, spec in calibration.config.parameters.items():
        kind = "log-uniform" if spec.log else "uniform"
        out[name] = f"{kind} [{spec.low:g}, {spec.high:g}]"
    return out


def main() -> None:
    """Derive the tables from the shipped fits."""
    MEASURED.mkdir(parents=True, exist_ok=True)
    refit = json.loads(REFIT.read_text(encoding="utf-8"))
    posterior = [
        {
            "parameter": r["parameter"],
            "prior": r["prior"],
            "median": r["median"],
            "q05": r["q05"],
            "q95": r["q95"],
            "width_ratio": r["width_ratio"],
            "point_before_refit": refit["current"][r["parameter"]],
            "point_after_refit": refit["chosen"][r["parameter"]],
        }
        for r in read_csv(SOURCES["full_posterior"])
    ]
    # parameters the refit fits that the shipped ABC fit did not (added later): their prior
    # from the calibration file, no posterior
    in_fit = {r["parameter"] for r in posterior}
    priors = _priors()
    for name in refit["chosen"]:
        if name not in in_fit:
            posterior.append(
                {
                    "parameter": name,
                    "prior": priors.get(name, ""),
                    "median": "",
                    "q05": "",
                    "q95": "",
                    "width_ratio": "",
                    "point_before_refit": refit["current"][name],
                    "point_after_refit": refit["chosen"][name],
                }
            )
    write_csv(POSTERIOR, posterior)
    write_csv(
        IN_SAMPLE,
        [
            {
                "series": r["series"],
                "date": r["date"],
                "role": r["role"],
                "observed": r["observed"],
                "point_mean": r["point_mean"],
                "gap_points": r["point_error_points"],
                "inside_90": r["inside_90"],
            }
            for r in read_csv(SOURCES["full_observations"])
        ],
    )
    write_csv(
        HOLDOUT,
        [
            {k: r[k] for k in ("series", "method", "observations", "rmse_points", "coverage_90")}
            for r in read_csv(SOURCES["holdout_out_of_sample"])
        ],
    )
    fits = {
        "full": {"generations": generations(SOURCES["full_generations"])},
        "holdout": {"generations": generations(SOURCES["holdout_generations"])},
        "refit": {
            key: refit[key]
            for key in ("current_distance", "chosen_distance", "chosen_candidate", "trials")
        }
        | {"local": refit.get("local"), "commit": refit.get("commit")},
        "sources": {
            name: {"path": str(path.relative_to(ROOT)), "sha256": sha256(path), **shipped(path)}
            for name, path in SOURCES.items()
        },
    }
    FITS.write_text(json.dumps(fits, indent=2) + "\n", encoding="utf-8")
    written = ", ".join(p.name for p in (POSTERIOR, IN_SAMPLE, HOLDOUT, FITS))
    print(f"calibration_tables: wrote {written}")


if __name__ == "__main__":
    main()

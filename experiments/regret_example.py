"""The regret example of docs/decisions.md (section 3), rerun on the current model.

    python experiments/regret_example.py

Runs ``mtsim compare scenarios/payment_security.yaml scenarios/integrity.yaml
scenarios/combined_package.yaml --uncertain experiments/uncertain_worlds.yaml --workers 2``
(12 worlds x 2 replications x 3 packages, 1,000 consumers, 52 weeks) into a temporary
folder, and keeps ``regret_summary.csv`` as
``experiments/measured/regret_example_summary.csv`` and the report's regret sentences,
the number of runs and the wall time as ``experiments/measured/regret_example.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "measured"
PACKAGES = ("payment_security", "integrity", "combined_package")


def main() -> None:
    """Run the regret comparison and keep its summary."""
    from model.decision.robustness import regret_sentences

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "regret"
        args = [
            *(f"scenarios/{p}.yaml" for p in PACKAGES),
            "--uncertain", "experiments/uncertain_worlds.yaml",
            "--workers", "2", "--out", str(out), "--quiet",
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "model.cli", "compare", *args], cwd=ROOT, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        summary = pd.read_csv(out / "regret_summary.csv")
    OUT.mkdir(parents=True, exist_ok=True)
    summary.to_csv(OUT / "regret_example_summary.csv", index=False, float_format="%.6g")
    worlds = int(summary["worlds"].max())
    (OUT / "regret_example.json").write_text(
        json.dumps(
            {
                "command": "mtsim compare " + " ".join(args[:-4]) + " --workers 2",
                "packages": len(PACKAGES),
                "worlds": worlds,
                "runs": len(PACKAGES) * worlds * 2,
                "seconds": round(seconds, 1),
                "sentences": regret_sentences(summary),
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()

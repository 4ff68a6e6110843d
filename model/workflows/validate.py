"""``mtsim validate``: run the docking checks, draw their figures, write the verdict.

The checks are :mod:`model.validation.checks` and the verdict's tables
:mod:`model.validation.verdict`; this module runs the named checks (over a local
process pool with more than one worker) and writes into the output folder one figure
per check (``<check>.png``), ``validation.json`` (every row, the settings, a
manifest) and ``validation.md`` (the table).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from model.validation.checks import FULL, QUICK, CheckOutcome, Settings, plot_outcome, run_checks
from model.validation.verdict import criterion, format_markdown


@dataclass
class ValidationResult:
    """What a validation produced.

    Attributes:
        outcomes: one per check, in the order run.
        files: validation.json and validation.md by role.
        seconds: wall time of the checks.
    """

    outcomes: list[CheckOutcome]
    files: dict[str, Path]
    seconds: float

    @property
    def failed(self) -> list[str]:
        """Names of the checks that failed."""
        return [o.name for o in self.outcomes if not o.passed]


def run_validation(
    names: Sequence[str],
    out_dir: Path,
    *,
    quick: bool = False,
    seed: int | None = None,
    workers: int = 1,
    command: str = "",
    log: Callable[[str], None] | None = None,
) -> ValidationResult:
    """Run the named checks and write their figures, validation.json and validation.md.

    Args:
        names: checks to run, in order (``model.validation.checks.CHECKS``).
        out_dir: output folder (created).
        quick: the smaller settings (``checks.QUICK``) instead of the full ones.
        seed: base seed of all runs (default: the settings' own).
        workers: local processes for the runs.
        command: the command line, for the manifest.
        log: called with one line per finished check.
    """
    from concurrent.futures import Executor, ProcessPoolExecutor

    from model.atomic_files import write_bytes_atomic, write_json_atomic
    from model.experiment.manifest import build_manifest, now_iso

    settings: Settings = QUICK if quick else FULL
    if seed is not None:
        settings = Settings(**{**asdict(settings), "seed": seed})
    out_dir.mkdir(parents=True, exist_ok=True)
    started = now_iso()
    t0 = time.perf_counter()

    def done(outcome: CheckOutcome) -> None:
        plot_outcome(outcome, out_dir / f"{outcome.name}.png")
        verdict = "skipped" if outcome.skipped else ("pass" if outcome.passed else "FAIL")
        if log is not None:
            log(f"  {outcome.name}: {verdict} ({outcome.seconds:.1f} s)")

    executor: Executor | None = None
    if workers > 1:
        executor = ProcessPoolExecutor(max_workers=workers)
    try:
        outcomes = run_checks(settings, names, executor, on_done=done)
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    result = ValidationResult(
        outcomes,
        {"json": out_dir / "validation.json", "markdown": out_dir / "validation.md"},
        time.perf_counter() - t0,
    )
    payload = {
        "passed": not result.failed,
        "failed_checks": result.failed,
        "mode": "quick" if quick else "full",
        "seconds": result.seconds,
        "settings": asdict(settings),
        "checks": [
            {
                "name": o.name,
                "title": o.title,
                "passed": o.passed,
                "skipped": o.skipped,
                "seconds": o.seconds,
                "figure": o.figure.name if o.figure else None,
                "rows": [{**r.as_dict(), "criterion": criterion(r)} for r in o.rows],
            }
            for o in outcomes
        ],
        "manifest": build_manifest(
            {}, [settings.seed], started=started, finished=now_iso(), command=command
        ),
    }
    write_json_atomic(result.files["json"], payload)
    write_bytes_atomic(result.files["markdown"], format_markdown(outcomes).encode())
    return result

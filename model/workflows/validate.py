"""``mtsim validate``: run the docking checks, draw their figures, write the verdict.

The checks are :mod:`model.validation.checks` and the verdict's tables
:mod:`model.validation.verdict`; this module runs the named checks (over a local
process pool with more than one worker, whose workers end with this process) and
writes into the output folder one figure per check (``<check>.png``),
``validation.json`` (every row, the settings, a manifest) and ``validation.md`` (the
table).

The folder is written as a whole (``model.workflows.folders.staged_folder``, shared
with ``mtsim calibrate`` and ``mtsim discover``): every file goes to a hidden staging
folder first and is moved in at the end, so a full disk, an error or an interrupt
leaves the earlier results as they were, and a read-only or unwritable folder is
refused in one line before anything runs (``model.workflows.folders.check_out_folder``,
which the commands call before their heavy imports). Only light modules are imported at the top.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from model.workflows.folders import staged_folder

if TYPE_CHECKING:  # pragma: no cover
    from model.validation.checks import CheckOutcome, Settings
    from model.validation.patterns import PatternReport
    from model.validation.patterns import Settings as PatternSettings


# --------------------------------------------------------------------------- the checks


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
        out_dir: output folder (created; written as a whole, see :func:`staged_folder`).
        quick: the smaller settings (``checks.QUICK``) instead of the full ones.
        seed: base seed of all runs (default: the settings' own).
        workers: local processes for the runs (capped at what the machine allows).
        command: the command line, for the manifest.
        log: called with one line per finished check.

    Raises:
        UserError: the folder cannot be written (one line; earlier results unchanged).
    """
    with staged_folder(out_dir) as stage:
        outcomes, settings, started, seconds = _run_checks(
            names, stage, quick=quick, seed=seed, workers=workers, log=log
        )
        result = ValidationResult(
            outcomes,
            {"json": out_dir / "validation.json", "markdown": out_dir / "validation.md"},
            seconds,
        )
        _write_verdict(result, stage, settings, quick=quick, started=started, command=command)
    for outcome in outcomes:  # the figures were moved in with the rest
        if outcome.figure is not None:
            outcome.figure = out_dir / outcome.figure.name
    return result


def _run_checks(
    names: Sequence[str],
    stage: Path,
    *,
    quick: bool,
    seed: int | None,
    workers: int,
    log: Callable[[str], None] | None,
) -> tuple[list[CheckOutcome], Settings, str, float]:
    """Run the checks (drawing each figure into ``stage``); the pool ends with them."""
    from model.experiment.manifest import now_iso
    from model.experiment.runner import new_process_pool, stop_process_pool
    from model.validation.checks import FULL, QUICK, Settings, plot_outcome, run_checks

    settings: Settings = QUICK if quick else FULL
    if seed is not None:
        settings = Settings(**{**asdict(settings), "seed": seed})
    started = now_iso()
    t0 = time.perf_counter()

    def done(outcome: CheckOutcome) -> None:
        plot_outcome(outcome, stage / f"{outcome.name}.png")
        verdict = "skipped" if outcome.skipped else ("pass" if outcome.passed else "FAIL")
        if log is not None:
            log(f"  {outcome.name}: {verdict} ({outcome.seconds:.1f} s)")

    pool = new_process_pool(workers) if workers > 1 else None
    finished = False
    try:
        outcomes = run_checks(settings, names, pool, on_done=done)
        finished = True
    finally:
        if pool is not None:
            stop_process_pool(pool, now=not finished)
    return outcomes, settings, started, time.perf_counter() - t0


def _write_verdict(
    result: ValidationResult,
    stage: Path,
    settings: Settings,
    *,
    quick: bool,
    started: str,
    command: str,
) -> None:
    """Write validation.json and validation.md into ``stage``."""
    from model.atomic_files import write_bytes_atomic, write_json_atomic
    from model.experiment.manifest import build_manifest, now_iso
    from model.validation.verdict import criterion, format_markdown

    outcomes = result.outcomes
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
    write_json_atomic(stage / result.files["json"].name, payload)
    write_bytes_atomic(stage / result.files["markdown"].name, format_markdown(outcomes).encode())


# --------------------------------------------------------------------------- the pattern suite


@dataclass
class PatternResult:
    """What ``mtsim validate --patterns`` produced.

    Attributes:
        report: the facts' outcomes (``model.validation.patterns.PatternReport``).
        files: patterns.csv, patterns.md and patterns.json by role.
        seconds: wall time of the runs.
    """

    report: PatternReport
    files: dict[str, Path]
    seconds: float

    @property
    def failed(self) -> list[str]:
        """Names of the facts whose criterion does not hold."""
        return self.report.failed


def run_pattern_suite(
    names: Sequence[str] | None,
    out_dir: Path,
    *,
    quick: bool = False,
    seeds: Sequence[int] | None = None,
    workers: int = 1,
    command: str = "",
    log: Callable[[str], None] | None = None,
    settings: PatternSettings | None = None,
) -> PatternResult:
    """Check the stylised facts (model/validation/patterns.py) and write their table.

    Writes ``patterns.csv`` (one row per fact: claim, source, measurement, criterion,
    measured value, spread over seeds, seeds passing, verdict), ``patterns.md`` (the
    table) and ``patterns.json`` (the same with every seed's statistic, the settings and
    a manifest) into ``out_dir``, as a whole (:func:`staged_folder`).

    Args:
        names: facts to check (None: all).
        out_dir: output folder.
        quick: the smaller settings (``patterns.QUICK``: 4 seeds of 600 consumers).
        seeds: the seeds (default: the settings' own, the held-back set).
        workers: local processes (one seed per task).
        command: the command line, for the manifest.
        log: called with one line per finished seed.
        settings: sizes and seeds instead of those ``quick`` chooses (for tests).
    """
    from model.experiment.manifest import now_iso
    from model.experiment.runner import new_process_pool, stop_process_pool
    from model.validation import patterns

    if settings is None:
        settings = patterns.QUICK if quick else patterns.FULL
    if seeds is not None:
        settings = replace(settings, seeds=tuple(int(s) for s in seeds))
    started = now_iso()
    t0 = time.perf_counter()
    done = 0

    def on_seed(seed: int) -> None:
        nonlocal done
        done += 1
        if log is not None:
            seconds = time.perf_counter() - t0
            log(f"  seed {seed} done ({done}/{len(settings.seeds)}, {seconds:.0f} s)")

    with staged_folder(out_dir) as stage:
        pool = new_process_pool(workers) if workers > 1 else None
        finished = False
        try:
            report = patterns.run_patterns(settings, names, pool, on_seed=on_seed)
            finished = True
        finally:
            if pool is not None:
                stop_process_pool(pool, now=not finished)
        seconds = time.perf_counter() - t0
        result = PatternResult(
            report,
            {
                "csv": out_dir / "patterns.csv",
                "markdown": out_dir / "patterns.md",
                "json": out_dir / "patterns.json",
            },
            seconds,
        )
        _write_patterns(result, stage, quick=quick, started=started, command=command)
    return result


def _write_patterns(
    result: PatternResult, stage: Path, *, quick: bool, started: str, command: str
) -> None:
    """Write patterns.csv, patterns.md and patterns.json into ``stage``."""
    from model.atomic_files import write_bytes_atomic, write_json_atomic
    from model.experiment.manifest import build_manifest, now_iso
    from model.validation import patterns

    report = result.report
    s = report.settings
    table = patterns.rows(report)
    passed = sum(1 for r in report.results if r.passed)
    heading = (
        f"# Stylised facts ({'quick' if quick else 'full'})\n\n"
        f"{passed} of {len(report.results)} facts pass; seeds {patterns.seed_text(s.seeds)} "
        f"({len(s.seeds)}), {s.consumers:,} consumers, {s.weeks} weeks "
        f"({s.curve_weeks} for the adoption curves, {s.seeding_weeks} for seeding).\n\n"
    )
    write_bytes_atomic(stage / "patterns.csv", patterns.csv_text(report).encode())
    write_bytes_atomic(stage / "patterns.md", (heading + patterns.markdown_table(table)).encode())
    payload = {
        "mode": "quick" if quick else "full",
        "passed": not report.failed,
        "seconds": result.seconds,
        **patterns.report_payload(report),
        "manifest": build_manifest(
            {}, s.seeds, started=started, finished=now_iso(), command=command
        ),
    }
    write_json_atomic(stage / "patterns.json", payload)

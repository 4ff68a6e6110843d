"""``mtsim validate``: run the docking checks, draw their figures, write the verdict.

The checks are :mod:`model.validation.checks` and the verdict's tables
:mod:`model.validation.verdict`; this module runs the named checks (over a local
process pool with more than one worker, whose workers end with this process) and
writes into the output folder one figure per check (``<check>.png``),
``validation.json`` (every row, the settings, a manifest) and ``validation.md`` (the
table).

The folder is written as a whole (:func:`staged_folder`, shared with ``mtsim
calibrate``): every file goes to a hidden staging folder first and is moved in at
the end, so a full disk, an error or an interrupt leaves the earlier results as they
were, and a read-only or unwritable folder is refused in one line before anything
runs (:func:`check_out_folder`, which the commands call before their heavy imports).
Only light modules are imported at the top.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from model.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from model.validation.checks import CheckOutcome, Settings


# --------------------------------------------------------------------------- the folder


def write_error(out: Path, exc: OSError) -> UserError:
    """Return the one line for results that cannot be written into ``out`` (earlier kept)."""
    shown = str(out) if len(str(out)) <= 120 else f"{str(out)[:117]}..."
    try:
        earlier = f"; earlier results in {shown}/ are unchanged" if out.is_dir() else ""
    except OSError:  # a name too long to look up
        earlier = ""
    return UserError(f"--out: {shown}: cannot write results ({exc.strerror or exc}){earlier}")


def check_out_folder(out: Path) -> None:
    """Check that results can be written into ``out``, or into the folder that will hold it.

    Light (no heavy import), so a command refuses a read-only, unwritable or misnamed
    folder in a moment. Nothing is made or changed: a nameless probe file is made and
    removed at once in ``out``, or in its nearest existing parent when ``out`` is new.

    Raises:
        UserError: one line naming the folder and the OS error.
    """
    try:
        if out.exists() and not out.is_dir():
            raise UserError(f"--out: {out}: is a file, not a folder; choose a folder")
        existing = next(folder for folder in (out, *out.absolute().parents) if folder.exists())
        if not existing.is_dir():
            raise UserError(f"--out: {out}: {existing} is a file, not a folder")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise write_error(out, exc) from None


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield a hidden staging folder for ``out``'s files; move them into ``out`` at the end.

    When the block ends normally, ``out`` is made if it is missing and each file of
    the staging folder replaces the file of that name in ``out`` (other files of
    ``out`` stay); when it raises (a full disk, an error, an interrupt), the staging
    folder is removed and ``out`` is as it was (not made, if it was missing). The
    staging folder is made as ``mtsim run`` makes its own (beside ``out``, with a file
    naming this process), so the next run into ``out`` removes one that a killed
    process left (``model.workflows.run.remove_stale_staging``).

    Raises:
        UserError: the staging folder or a file cannot be written (one line; an
            ``OSError`` in the block, such as a full disk, becomes this too).
    """
    from model.workflows.run import STAGING_OWNER, _staging_folder, remove_stale_staging

    target = out.absolute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(target)
        stage = _staging_folder(target)
    except OSError as exc:
        raise write_error(out, exc) from None
    try:
        yield stage
        target.mkdir(exist_ok=True)
        for name in sorted(os.listdir(stage)):
            if name != STAGING_OWNER:
                os.replace(stage / name, target / name)
    except OSError as exc:
        raise write_error(out, exc) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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

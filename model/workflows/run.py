"""Run one scenario with replications and write its results folder (``mtsim run``).

::

    from model import load_scenario
    from model.workflows.run import run_replications

    outcome = run_replications(load_scenario("scenarios/baseline.yaml"), reps=4, workers=2)
    outcome.table      # every replication's run table, stacked
    outcome.out        # the folder, with outcome.outputs in it

The folder (default ``results/<scenario>/<run id>/``) gets ``timeseries.csv`` (one
row per replication and step), ``groups.csv`` (the group table, docs/population.md),
``manifest.json`` and ``summary.png``. Replication r uses seed ``seed + r``, so
replication 0 is the plain ``seed`` run. When the scenario asks for per-consumer
history (``simulation.record_consumers_every``), each replication's records go to
``consumers/replication-RRR.parquet`` (read them all with
``pandas.read_parquet(folder / "consumers")``); with ``platforms.record_merchants_every``
each replication's merchant channel table goes to ``merchants/replication-RRR.parquet``.

Robustness (docs/robustness.md):

- results are written into a hidden staging folder next to ``out`` and moved in
  only at the end: a run that fails, is interrupted or finds a full disk leaves
  the earlier results in ``out`` as they were, and never an empty new folder;
  the staging folder holds a file naming its process (pid, host, start time), so
  a later run into the same ``out`` removes staging folders that a killed run
  left (:func:`remove_stale_staging`), and never one whose process still runs;
- moving in replaces mtsim's own files of an earlier run (``timeseries.csv``,
  ``summary.png``, ``manifest.json`` and every file its manifest lists under
  ``outputs``) and nothing else of the folder, so one folder never mixes two runs.
  Whatever the manifest says, only names mtsim writes (:func:`is_output_name`) are
  removed, and only inside ``out``: never through a symbolic link, and never a
  folder. A ``consumers`` or ``merchants`` entry of ``out`` that is a symbolic link
  (or not a folder) is refused before anything runs, so nothing is written outside;
- an interrupt (Ctrl-C; ``mtsim run`` turns SIGTERM into one) while replications run
  stops them: the replications that had finished are written and the outcome says
  so (:attr:`RunOutcome.interrupted`); when none had finished, nothing is written.
  While results are written, SIGINT and SIGTERM are held off (in the main thread),
  so a second interrupt cannot lose finished results.

Only light modules are imported at the top: ``mtsim run`` checks its options with
:func:`check_run_options` before NumPy, pandas and the model are imported.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from model.experiment.runner import RunTask
    from model.market import MarketModel
    from model.scenario import Scenario

MAX_STEPS = 100_000
"""Upper bound of ``--steps`` (the scenario schema's bound of ``simulation.steps``)."""

MAX_REPS = 100_000
"""Upper bound of ``--reps``."""

OWN_FILES = ("timeseries.csv", "summary.png", "manifest.json")
"""Files of a results folder that belong to mtsim (replaced by the next run into it)."""

RECORD_FOLDERS = ("consumers", "merchants")
"""Folders of a results folder for per-replication records (``replication-RRR.parquet``)."""

RECORD_NAME = re.compile(r"replication-\d{3,}\.parquet")
"""The name of one replication's records in a folder of :data:`RECORD_FOLDERS`."""

STATE_NAME = re.compile(r"state-week-\d{3,}\.npz")
"""The name of a state saved into the results folder (``mtsim run --save-state WEEK``)."""


def state_file_name(week: int) -> str:
    """Return the name of the state saved at ``week`` in a results folder."""
    return f"state-week-{int(week):03d}.npz"

STAGING_OWNER = ".mtsim-owner"
"""File in a staging folder: the pid, host and start time of the process that made it."""


@dataclass
class RunOutcome:
    """What :func:`run_replications` ran and wrote.

    Attributes:
        out: the results folder.
        scenario: the scenario's name.
        steps: weeks simulated.
        seeds: the seed of each replication (replication r uses ``seeds[r]``).
        finished: the replications that finished, in order.
        failures: replication -> one-line error, for each replication that failed.
        table: the finished replications' run tables stacked (columns ``scenario``,
            ``replication``, ``seed``, then the run table's), None when none finished.
        outputs: the files written into ``out`` (names relative to it); empty when
            nothing was written.
        replaced: True when earlier mtsim results in ``out`` were replaced.
        interrupted: the interrupt that stopped the replications (a
            ``KeyboardInterrupt``, or a subclass of it), None when they all ran.
        stale_staging: staging folders of killed runs into ``out`` that were removed.
    """

    out: Path
    scenario: str
    steps: int
    seeds: list[int]
    finished: list[int] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)
    table: pd.DataFrame | None = None
    outputs: list[str] = field(default_factory=list)
    replaced: bool = False
    interrupted: KeyboardInterrupt | None = None
    stale_staging: list[Path] = field(default_factory=list)

    def averaged_over(self) -> str:
        """Say over which replications a summary value is taken, the same wherever it is shown.

        ``""`` for a single replication asked and run, ``mean of 20 replications``
        when all ran, ``mean of the 2 finished replications of 20`` when some did not.
        """
        done, asked = len(self.finished), len(self.seeds)
        if done == asked:
            return f"mean of {asked} replications" if asked > 1 else ""
        if done == 1:
            return f"the 1 finished replication of {asked}"
        return f"mean of the {done} finished replications of {asked}"


def check_run_options(
    steps: int | None, reps: int, workers: int, seed: int | None, out: str | Path | None
) -> None:
    """Check the options of a run (light: no heavy imports).

    Raises:
        UserError: an option out of range, or an ``out`` that is a file.
    """
    if steps is not None and not 1 <= steps <= MAX_STEPS:
        raise UserError(f"--steps: {steps}: must be from 1 to {MAX_STEPS:,}")
    if not 1 <= reps <= MAX_REPS:
        raise UserError(f"--reps: {reps}: must be from 1 to {MAX_REPS:,}")
    if workers < 1:
        raise UserError(f"--workers: {workers}: must be at least 1")
    if seed is not None and not 0 <= seed < 2**32 - MAX_REPS:
        raise UserError(f"--seed: {seed}: must be from 0 to {2**32 - MAX_REPS - 1:,}")
    if not out:
        return
    try:
        if Path(out).exists() and not Path(out).is_dir():
            raise UserError(f"--out: {out}: is a file, not a folder; choose a folder")
        check_record_folders(Path(out))
    except OSError as exc:  # a name too long, a folder that cannot be read, ...
        raise UserError(f"--out: {str(out)[:200]!r}: cannot be used ({exc.strerror})") from None


SHOWN_TARGETS = 3
"""Unknown target names listed in the one line that refuses them."""


def check_targets(scenario: Scenario, source: str) -> None:
    """Refuse ``targets`` that name no column of the run table (with a close match).

    ``mtsim compare`` reports the first week each target is reached; a misspelled
    metric would be left out without a word.

    Raises:
        UserError: one line naming the file, the first unknown names and how many.
    """
    if not scenario.targets:
        return
    from model.errors import close_match
    from model.metrics import METRIC_NAMES, find_metric
    from model.yamlio import short_key

    unknown = [name for name in scenario.targets if find_metric(name) is None]
    if not unknown:
        return
    shown = ", ".join(repr(short_key(name)) for name in unknown[:SHOWN_TARGETS])
    more = f" and {len(unknown) - SHOWN_TARGETS:,} more" if len(unknown) > SHOWN_TARGETS else ""
    raise UserError(
        f"{source}: targets: {shown}{more}: not {'a metric' if len(unknown) == 1 else 'metrics'} "
        f"of the run table{close_match(unknown[0], METRIC_NAMES)} (the metrics: README, "
        "Metrics)"
    )


def check_state_options(steps: int, reps: int, save_state: int | None, saved: Any) -> None:
    """Check ``--save-state`` and ``--from-state`` against the run's weeks and replications.

    Raises:
        UserError: one line: a week outside the run, several replications with
            ``--save-state``, or a last week before the saved state's week.
    """
    first = saved.week if saved is not None else 0
    if saved is not None and steps < first:
        raise UserError(
            f"--steps: {steps}: {saved.path} was saved at week {first}; the run must end at "
            f"week {first} or later"
        )
    if save_state is None:
        return
    if reps != 1:
        raise UserError(f"--save-state: saves one run's state; give --reps 1 (not {reps})")
    if not first <= save_state <= steps:
        raise UserError(
            f"--save-state: {save_state}: must be a week of the run, from {first} to {steps}"
        )


class PolicyNeverActs(UserWarning):
    """A policy of the scenario starts after the run's last week: it never acts, costs nothing."""


def policy_notes(scenario: Scenario, steps: int) -> list[str]:
    """Say which policies start after the run's last week (``steps``): they never act."""
    notes = []
    for number, policy in enumerate(scenario.policies):
        if policy.start > steps:
            label = f" ({policy.label})" if policy.label else ""
            notes.append(
                f"{scenario.name}: policies.{number}{label}: lever {policy.lever} starts at "
                f"week {policy.start}, after the run's last week ({steps}): it never acts and "
                "costs nothing"
            )
    return notes


def warn_policies_never_act(scenario: Scenario, steps: int) -> None:
    """Warn (:class:`PolicyNeverActs`, one line each) about policies that start after the run."""
    import warnings

    for note in policy_notes(scenario, steps):
        warnings.warn(note, PolicyNeverActs, stacklevel=2)


def check_record_folders(out: Path) -> None:
    """Refuse an ``out`` whose ``consumers`` or ``merchants`` entry leads elsewhere.

    Raises:
        UserError: the entry is a symbolic link or not a folder (writing through it
            would put records outside ``out``).
    """
    for name in RECORD_FOLDERS:
        entry = out / name
        if entry.is_symlink() or (entry.exists() and not entry.is_dir()):
            raise UserError(
                f"--out: {entry}: is a symbolic link or not a folder, and mtsim writes only "
                "inside --out; move it away or choose another --out"
            )


# --------------------------------------------------------------------------- one replication


def consumer_file(out: Path, replication: int) -> Path:
    """Where replication r's per-consumer records go."""
    return Path(out) / "consumers" / f"replication-{replication:03d}.parquet"


def write_consumer_history(model: MarketModel, path: Path, replication: int) -> None:
    """Write the model's per-consumer records (if any were kept) as one Parquet file."""
    import numpy as np

    if not model.scenario.simulation.record_consumers_every:
        return
    history = model.consumer_history()
    history.insert(0, "seed", np.int64(model.seed))
    history.insert(0, "replication", np.int32(replication))
    _write_parquet(history, path)


def merchant_file(out: Path, replication: int) -> Path:
    """Where replication r's per-merchant channel table goes (with platforms only)."""
    return Path(out) / "merchants" / f"replication-{replication:03d}.parquet"


def write_merchant_table(model: MarketModel, path: Path, replication: int) -> None:
    """Write each merchant's orders by channel and platform share, one file per replication.

    Only with ``platforms:`` and ``platforms.record_merchants_every`` > 0.
    """
    import numpy as np

    from model.mechanisms.attribution import merchant_table

    spec = model.scenario.platforms
    if spec is None or not spec.record_merchants_every:
        return
    table = merchant_table(model)
    table.insert(0, "seed", np.int64(model.seed))
    table.insert(0, "replication", np.int32(replication))
    _write_parquet(table, path)


def _write_parquet(table: pd.DataFrame, path: Path) -> None:
    """Write a table as one Parquet file, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from model.atomic_files import write_bytes_atomic

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink)
    write_bytes_atomic(path, sink.getvalue().to_pybytes())


def replication_group_file(out: Path, replication: int) -> Path:
    """Where one replication's group table is staged before :func:`gather_group_tables`."""
    return Path(out) / "groups" / f"replication-{replication:03d}.csv"


def write_replication_groups(model: MarketModel, out: Path, replication: int) -> None:
    """Stage a model's group table (``model.group_table()``) for one replication."""
    path = replication_group_file(out, replication)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.group_table().to_csv(path, index=False, lineterminator="\n")


def gather_group_tables(
    stage: Path, replications: Sequence[int], seeds: Sequence[int], scenario: str
) -> list[str]:
    """Join the staged replications' group tables into ``groups.csv`` in ``stage``.

    Adds the columns ``scenario``, ``replication`` and ``seed`` in front (as the run
    table) and removes the staged per-replication files.

    Returns:
        ``["groups.csv"]``, or ``[]`` when no replication staged a table.
    """
    import pandas as pd

    from model.analysis.group_effects import GROUP_FILE

    parts = []
    for rep in replications:
        path = replication_group_file(stage, rep)
        if path.is_file():
            part = pd.read_csv(path, keep_default_na=False)
            part.insert(0, "seed", seeds[rep])
            part.insert(0, "replication", rep)
            part.insert(0, "scenario", scenario)
            parts.append(part)
    shutil.rmtree(Path(stage) / "groups", ignore_errors=True)
    if not parts:
        return []
    table = pd.concat(parts, ignore_index=True)
    tmp = Path(stage) / f".{GROUP_FILE}.tmp"
    table.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(Path(stage) / GROUP_FILE)
    return [GROUP_FILE]


def simulate(
    scenario: Scenario,
    seed: int,
    steps: int,
    out: Path,
    replication: int,
    progress: bool = False,
    start: str | Path | None = None,
    save_state: tuple[int, str | Path] | None = None,
) -> pd.DataFrame:
    """Run one replication, stage its group table and records (if asked for), return its table.

    ``start``: a state file to start from (model/state_io.py); ``save_state``: (week,
    path) to save the full state at the end of that week.
    """
    from model.experiment.runner import model_with_groups

    model = model_with_groups(
        scenario, seed=seed, steps=steps, progress=progress, start=start, save_state=save_state
    )
    write_consumer_history(model, consumer_file(out, replication), replication)
    write_merchant_table(model, merchant_file(out, replication), replication)
    write_replication_groups(model, out, replication)
    return model.timeseries()


def simulate_and_record(task: RunTask) -> pd.DataFrame:
    """Runner work for one replication (picklable): :func:`simulate` of a RunTask."""
    from model.scenario import scenario_from_dict

    scenario = scenario_from_dict(task.scenario, source=f"run {task.key}")
    steps = task.steps if task.steps is not None else scenario.simulation.steps
    return simulate(
        scenario,
        int(task.seed),
        steps,
        Path(task.meta["out"]),
        int(task.meta["replication"]),
        start=task.meta.get("start"),
    )


# --------------------------------------------------------------------------- the folder


def folder_name(name: str) -> str:
    """Make a scenario name safe as one folder name (no separators, no '..', at most 80 chars)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-")[:80]
    return safe or "scenario"


def _write_error(out: Path, exc: OSError) -> UserError:
    """Return the one-line error for results that cannot be written (earlier results kept)."""
    earlier = f"; earlier results in {out}/ are unchanged" if out.is_dir() else ""
    return UserError(f"--out: {out}: cannot write results ({exc.strerror or exc}){earlier}")


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder``'s missing parents; return those created (deepest last)."""
    missing = []
    for parent in reversed(folder.parents):
        if not parent.exists():
            missing.append(parent)
    for parent in missing:
        parent.mkdir()
    return missing


def _staging_patterns(out: Path) -> tuple[tuple[Path, re.Pattern[str]], ...]:
    """Where the staging folders of runs into ``out`` are made, and their names there."""
    return (
        (out.parent, re.compile(re.escape(f".{out.name}.mtsim-") + r"[a-z0-9_]{8}")),
        (out, re.compile(r"\.mtsim-staging-[a-z0-9_]{8}")),
    )


def staging_folder(out: Path) -> Path:
    """Make a hidden folder beside ``out`` (or inside it, if its parent cannot be written).

    The folder gets a :data:`STAGING_OWNER` file naming this process.
    """
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.mtsim-", dir=out.parent))
    except OSError:
        if not out.is_dir():
            raise
        stage = Path(tempfile.mkdtemp(prefix=".mtsim-staging-", dir=out))
    owner = f"{os.getpid()} {socket.gethostname()} {_process_started(os.getpid())}\n"
    (stage / STAGING_OWNER).write_text(owner, encoding="utf-8")
    return stage


def _process_started(pid: int) -> str:
    """Return when process ``pid`` started (clock ticks after boot), "-" where /proc is absent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "-"


def _owner_running(stage: Path) -> bool:
    """Tell whether the process that made a staging folder may still run (True when unsure)."""
    try:
        pid_text, host, started = (stage / STAGING_OWNER).read_text(encoding="utf-8").split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return True  # no owner recorded (or unreadable): not ours to remove
    if host != socket.gethostname() or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process has the pid now, or the owner runs
        pass
    except OverflowError:
        return True
    return started == "-" or _process_started(pid) == started


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove the staging folders that killed runs into ``out`` left behind; return them.

    Only real folders with the names a run into ``out`` gives its staging folder, and
    only when the process named in their owner file no longer runs (on this host).
    """
    removed = []
    for where, pattern in _staging_patterns(out):
        try:
            names = os.listdir(where)
        except OSError:
            continue
        for name in names:
            stage = where / name
            if not pattern.fullmatch(name) or stage.is_symlink() or not stage.is_dir():
                continue
            if _owner_running(stage):
                continue
            shutil.rmtree(stage, ignore_errors=True)
            if not stage.exists():
                removed.append(stage)
    return removed


def is_output_name(name: str) -> bool:
    """Tell whether ``name`` (relative to a results folder) is a file ``mtsim run`` writes."""
    from model.analysis.group_effects import GROUP_FILE

    parts = name.split("/")
    if len(parts) == 1:
        return name in (*OWN_FILES, GROUP_FILE) or bool(STATE_NAME.fullmatch(name))
    return len(parts) == 2 and parts[0] in RECORD_FOLDERS and bool(RECORD_NAME.fullmatch(parts[1]))


def _removable(out: Path, name: str) -> bool:
    """Tell whether the earlier output ``name`` may be removed from ``out``.

    It must be a name mtsim writes, reached without a symbolic link, and not a folder.
    """
    if not is_output_name(name):
        return False
    path = out / name
    if "/" in name and (out / name.split("/")[0]).is_symlink():
        return False
    return path.is_symlink() or path.is_file()


def _old_outputs(out: Path) -> list[str]:
    """List the files of an earlier run into ``out`` that the next run replaces.

    mtsim's own files and what the earlier manifest lists under ``outputs``, kept
    only where :func:`_removable` allows.
    """
    import json

    names: list[str] = list(OWN_FILES)
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        manifest = None
    if isinstance(manifest, dict) and manifest.get("tool") == "mtsim":
        listed = manifest.get("outputs")
        if isinstance(listed, list):
            names += [n for n in listed if isinstance(n, str)]
        else:  # manifests written before the outputs list: the usual names
            names += [f"consumers/{p}" for p in _listing(out / "consumers")]
    return [name for name in dict.fromkeys(names) if _removable(out, name)]


def _listing(folder: Path) -> list[str]:
    """List a folder's entries (none when it is missing, unreadable or a symbolic link)."""
    if folder.is_symlink():
        return []
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _commit(stage: Path, out: Path, outputs: list[str]) -> bool:
    """Move the staged outputs into ``out``, replacing mtsim's files of an earlier run.

    Returns:
        True when earlier mtsim results in ``out`` were replaced.
    """
    out.mkdir(exist_ok=True)
    check_record_folders(out)
    replaced = False
    emptied: set[Path] = set()
    for name in _old_outputs(out):
        old = out / name
        old.unlink()
        emptied.add(old.parent)
        replaced = True
    for name in outputs:
        target = out / name
        target.parent.mkdir(exist_ok=True)
        os.replace(stage / name, target)
    for folder in emptied:  # a folder only the earlier run's files were in
        if folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return replaced


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM while finished results are written (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)


# --------------------------------------------------------------------------- the workflow


def run_replications(
    scenario: Scenario,
    *,
    steps: int | None = None,
    seed: int | None = None,
    reps: int = 1,
    out: str | Path | None = None,
    workers: int = 1,
    progress: bool = True,
    command: str = "",
    scenario_file: str | Path | None = None,
    overrides: Sequence[str] = (),
    start: str | Path | None = None,
    save_state: int | None = None,
    state_out: str | Path | None = None,
) -> RunOutcome:
    """Run a scenario ``reps`` times (seeds ``seed`` .. ``seed + reps - 1``) and write its folder.

    Args:
        scenario: the validated scenario (``model.load_scenario``).
        steps: weeks to simulate (None: the scenario's ``simulation.steps``).
        seed: seed of replication 0 (None: the scenario's ``simulation.seed``).
        reps: replications.
        out: the results folder (None: ``results/<scenario>/<run id>``; the run id
            hashes the resolved scenario, seeds and weeks).
        workers: processes for the replications (1: in this process).
        progress: show a progress bar on stderr.
        command: the command line, for the manifest.
        scenario_file: the scenario's file, for the manifest.
        overrides: the ``--set`` overrides it was loaded with, for the manifest.
        start: a state file (``--from-state``, model/state_io.py): every replication
            starts from it, at its week, and runs to week ``steps``; replication r uses
            seed ``seed + r`` from that week on (``seed`` None: the saved run's seed, so
            replication 0 is the saved run's continuation, byte for byte).
        save_state: a week (``--save-state``): replication 0 saves its full state at
            the end of that week, into ``state_out`` or the results folder
            (``state-week-WWW.npz``).
        state_out: where to save the state (None: in the results folder).

    Returns:
        The RunOutcome: the folder, the stacked run table and the files written.

    Raises:
        UserError: an option out of range, a network file that cannot be read, or a
            folder that cannot be made or written (earlier results in it are kept).
    """
    import hashlib
    import json

    from model.experiment.manifest import now_iso  # pandas: loaded before the staging folder
    from model.yamlio import short_key

    check_run_options(steps, reps, workers, seed, out)
    steps = steps if steps is not None else scenario.simulation.steps
    saved = None
    if start is not None:
        from model.state_io import read_state

        saved = read_state(start)
    check_state_options(steps, reps, save_state, saved)
    if saved is not None and seed is None:
        seed = saved.seed
    base_seed = scenario.simulation.seed if seed is None else seed
    seeds = [base_seed + r for r in range(reps)]
    resolved = scenario.resolved()
    identity: dict[str, Any] = {"scenario": resolved, "seeds": seeds, "steps": steps}
    if saved is not None:
        identity["start"] = {"scenario": saved.scenario_hash, "week": saved.week}
    ident = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    folder = Path(out) if out else Path("results") / folder_name(scenario.name) / ident
    if scenario.network.kind == "file":  # a bad graph file stops here, before any folder
        from model.network import load_graph_file

        load_graph_file(scenario.network, scenario.population.consumers)
    try:
        created = _make_parents(folder.absolute())
        stale = remove_stale_staging(folder.absolute())
        stage = staging_folder(folder.absolute())
    except OSError as exc:
        raise UserError(
            f"--out: {short_key(str(folder), 200)!r}: cannot create folder ({exc.strerror})"
        ) from None
    outcome = RunOutcome(
        out=folder, scenario=scenario.name, steps=steps, seeds=seeds, stale_staging=stale
    )
    provenance = {
        "started": now_iso(),
        "command": command,
        "scenario_file": str(Path(scenario_file)) if scenario_file is not None else None,
        "overrides": list(overrides),
        "run_id": ident,
    }
    if saved is not None:
        provenance["start"] = {
            "file": str(start),
            "week": saved.week,
            "seed": saved.seed,
            "scenario_hash": saved.scenario_hash,
        }
    state_plan = None
    if save_state is not None:
        target = Path(state_out) if state_out else stage / state_file_name(save_state)
        state_plan = (int(save_state), target)
        provenance["saved_state"] = {
            "week": int(save_state),
            "file": str(state_out) if state_out else state_file_name(save_state),
        }
    committed = False
    try:
        tables = _run_all(
            scenario, outcome, resolved, stage, workers, progress, start=start,
            save_state=state_plan,
        )
        if outcome.interrupted is not None and not tables:
            return outcome
        with _interrupts_held():  # finish writing what is kept
            try:
                _write_stage(stage, outcome, tables, resolved, provenance)
                outcome.replaced = _commit(stage, folder, outcome.outputs)
                committed = True
            except OSError as exc:
                raise _write_error(folder, exc) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not committed:
            for parent in reversed(created):
                try:
                    parent.rmdir()
                except OSError:
                    break
    return outcome


def _run_all(
    scenario: Scenario,
    outcome: RunOutcome,
    resolved: dict[str, Any],
    stage: Path,
    workers: int,
    progress: bool,
    start: str | Path | None = None,
    save_state: tuple[int, Path] | None = None,
) -> dict[int, pd.DataFrame]:
    """Run every replication into ``stage``; return the finished ones' run tables.

    Failures and an interrupt are recorded in ``outcome``.
    """
    tables: dict[int, pd.DataFrame] = {}
    seeds, steps = outcome.seeds, outcome.steps
    try:
        from model.experiment.runner import RunTask, run_tasks

        if len(seeds) == 1:
            tables[0] = simulate(
                scenario, seeds[0], steps, stage, 0, progress, start=start, save_state=save_state
            )
        else:
            tasks = [
                RunTask(
                    key=f"rep{r}",
                    scenario=resolved,
                    seed=s,
                    steps=steps,
                    meta={"replication": r, "out": str(stage), "start": start},
                )
                for r, s in enumerate(seeds)
            ]
            for result in run_tasks(
                tasks,
                workers=min(workers, len(seeds)),
                progress=progress,
                desc=scenario.name[:40],
                work=simulate_and_record,
            ):
                rep = int(result.meta["replication"])
                if result.ok:
                    tables[rep] = result.table
                else:
                    outcome.failures[rep] = result.error or "failed"
    except KeyboardInterrupt as exc:
        outcome.interrupted = exc
    except OSError as exc:  # a replication's own files (groups, records) in the stage
        raise _write_error(outcome.out, exc) from None
    outcome.finished = sorted(tables)
    return tables


def _write_stage(
    stage: Path,
    outcome: RunOutcome,
    tables: dict[int, pd.DataFrame],
    resolved: dict[str, Any],
    provenance: dict[str, Any],
) -> None:
    """Write the run table, figure, group table and manifest into ``stage``.

    Sets ``outcome.table`` and ``outcome.outputs`` (every file staged, manifest last).
    ``provenance`` holds the manifest's ``started``, ``command``, ``scenario_file``,
    ``overrides`` and ``run_id``.
    """
    import pandas as pd

    from model.analysis.run_summary import plot_run_summary
    from model.atomic_files import write_csv_atomic, write_json_atomic
    from model.experiment.manifest import build_manifest, now_iso

    seeds, name = outcome.seeds, outcome.scenario
    parts = []
    for rep in outcome.finished:
        t = tables[rep].copy()
        t.insert(0, "seed", seeds[rep])
        t.insert(0, "replication", rep)
        t.insert(0, "scenario", name)
        parts.append(t)
    outputs: list[str] = []
    outcome.outputs = outputs
    if parts:
        outcome.table = pd.concat(parts, ignore_index=True)
        write_csv_atomic(stage / "timeseries.csv", outcome.table)
        outputs.append("timeseries.csv")
        done = len(outcome.finished)
        title = f"mtsim: {name[:80]}" + (
            f", {done} of {len(seeds)} replications finished" if done < len(seeds) else ""
        )
        plot_run_summary(outcome.table, stage / "summary.png", title)
        outputs.append("summary.png")
        outputs += gather_group_tables(stage, outcome.finished, seeds, name)
    outputs += sorted(p.name for p in stage.iterdir() if STATE_NAME.fullmatch(p.name))
    for rep in outcome.finished:
        for folder, where in (("consumers", consumer_file), ("merchants", merchant_file)):
            staged = f"{folder}/{where(stage, rep).name}"
            if (stage / staged).is_file():
                outputs.append(staged)
    missing = [
        r for r in range(len(seeds)) if r not in outcome.finished and r not in outcome.failures
    ]
    manifest = build_manifest(
        {name: resolved},
        seeds,
        provenance["started"],
        now_iso(),
        command=provenance["command"],
        scenario_file=provenance["scenario_file"],
        overrides=provenance["overrides"],
        steps=outcome.steps,
        replications=len(seeds),
        run_id=provenance["run_id"],
        **{k: provenance[k] for k in ("start", "saved_state") if k in provenance},
        status="interrupted" if outcome.interrupted is not None else "complete",
        replications_written=outcome.finished,
        failed_runs={str(r): msg for r, msg in outcome.failures.items()},
        not_run=missing,
        outputs=[*outputs, "manifest.json"],
    )
    write_json_atomic(stage / "manifest.json", manifest)
    outputs.append("manifest.json")

"""The result store of a sweep: a folder that survives crashes and resumes.

Layout of a store folder::

    DIR/
      experiment.yaml        the experiment file as given (copied at the first start)
      study.json             the resolved study: spec, parameters, design kind, SALib problem
      design.parquet         one row per run: run, point, replication, seed, run_id, parameters
      design.csv             the same, for spreadsheets
      design_sample.parquet  sobol / morris only: the raw SALib sample, one row per design point
      parts/run-0000042.parquet   one file per finished run (identity + parameter columns, outcomes)
      failures/run-0000007.json   one file per failed run: error, traceback, seconds
      damaged/run-0000013.parquet a part ``--resume`` found unusable, set aside (and run again)
      manifest.json          versions, git commit, base scenario, seeds, sessions, counts, status

Every file is written atomically: to a temporary name in the same folder, then
``os.replace``; a crash loses at most the runs in flight. A run is *finished*
when its part exists and is usable; ``--resume`` runs everything else again
(failed and missing runs) and leaves finished parts untouched.

A part is *usable* when its Parquet footer can be read, it has rows and the
design's columns, its run is in the design, and the two keys of its schema
metadata (written with it) match the store: ``mtsim.layout``, the fingerprint of
what shapes a part (outcomes, kept metrics, parameter names: :func:`part_layout`),
and ``mtsim.run_id``, the run's id in the design. Anything else (a truncated or
empty file, a part of another study copied in) is *damaged*: ``--resume`` moves it
to ``damaged/`` and runs that run again; :func:`load_results` leaves it out and
says so.

Outcomes: ``timeseries`` parts hold every step of the run (columns ``step`` and
one per metric); ``summary`` parts hold one row with ``<metric>_final`` (the
value at the last step) and ``<metric>_mean`` (the mean over steps 1..T, step 0
being the common initial state; NaN values left out), the definitions of
``model.analysis.stats``. Metric columns are float64 in every part, so the
parts form one table in pandas, pyarrow or DuckDB
(``SELECT * FROM 'DIR/parts/*.parquet'``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.atomic_files import write_bytes_atomic, write_csv_atomic, write_json_atomic
from model.experiment.study import StoreError
from model.experiment.study import read_study as _read_study

ID_COLUMNS: tuple[str, ...] = ("run", "point", "replication", "seed", "run_id")
"""Identity columns of every design row and every result row, in order."""

PART_PATTERN = re.compile(r"^run-(\d{7}|[1-9]\d{7,})\.parquet$")
"""The names :func:`part_name` gives (and no other spelling of the same run)."""

FAILURE_PATTERN = re.compile(r"^run-(\d{7}|[1-9]\d{7,})\.json$")
"""The names :func:`failure_name` gives."""

LAYOUT_KEY = b"mtsim.layout"
"""Schema metadata key of a part: the :func:`part_layout` fingerprint of its study."""

RUN_ID_KEY = b"mtsim.run_id"
"""Schema metadata key of a part: the ``run_id`` of its run."""


def part_name(run: int) -> str:
    """File name of run ``run``'s part."""
    return f"run-{run:07d}.parquet"


def failure_name(run: int) -> str:
    """File name of run ``run``'s failure record."""
    return f"run-{run:07d}.json"


def part_layout(study: Mapping[str, Any]) -> str:
    """Fingerprint what shapes a study's parts: outcomes, kept metrics and parameter names.

    Args:
        study: the study description (``Experiment.describe()``, as in ``study.json``).
    """
    shape = {
        "outcomes": study.get("outcomes"),
        "metrics": study.get("metrics"),
        "parameters": [p.get("name") for p in study.get("parameters") or ()],
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def part_problem(
    metadata: pq.FileMetaData, run: int, design: pd.DataFrame, layout: str | None
) -> str | None:
    """Say why a part (by its Parquet footer) is not a usable part of run ``run``; None if it is.

    Args:
        metadata: the part's footer (``pq.read_metadata``).
        run: the run its file name gives.
        design: the store's design table.
        layout: the store's :func:`part_layout` (None: not checked).
    """
    if run >= len(design):
        return f"not a run of the design (it has {len(design)} runs)"
    if metadata.num_rows == 0:
        return "holds no rows"
    tags = metadata.metadata or {}
    if layout is not None and tags.get(LAYOUT_KEY, layout.encode()) != layout.encode():
        return "written for another study (other outcomes, metrics or parameter names)"
    run_id = str(design["run_id"].iat[run])
    if tags.get(RUN_ID_KEY, run_id.encode()) != run_id.encode():
        return "holds another run"
    missing = [c for c in design.columns if c not in metadata.schema.names]
    if missing:
        return f"lacks the column(s) {', '.join(missing[:3])}"
    return None


def summarize_table(table: pd.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    """Compute the final value and run mean (steps 1..T) of each metric of one run table."""
    steps = table["step"].to_numpy()
    order = np.argsort(steps, kind="stable")
    columns = [table[m].to_numpy(dtype=np.float64) for m in metrics]
    values = (np.column_stack(columns) if columns else np.empty((len(steps), 0)))[order]
    steps = steps[order]
    simulated = values[steps >= 1] if (steps >= 1).any() else values
    finite = ~np.isnan(simulated)
    counts = finite.sum(axis=0)
    sums = np.where(finite, simulated, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    out: dict[str, float] = {}
    for i, metric in enumerate(metrics):
        out[f"{metric}_final"] = float(values[-1, i])
        out[f"{metric}_mean"] = float(means[i])
    return out


def metric_columns(table: pd.DataFrame, wanted: Sequence[str] | None = None) -> list[str]:
    """List the metric columns of a run table to keep (every column but ``step`` by default)."""
    if wanted is not None:
        missing = [m for m in wanted if m not in table.columns]
        if missing:
            raise KeyError(f"the run table has no column(s) {', '.join(missing)}")
        return list(wanted)
    return [c for c in table.columns if c != "step"]


class PartBuilder:
    """Turns run tables into parts: the run's design row, then its outcomes, as Arrow.

    Built once per sweep from the design table, so each part costs a few column
    copies and no pandas round trip.

    Attributes:
        design: the design table as Arrow (row r is run r).
        outcomes: ``timeseries``, ``summary`` or ``by_group`` (the run table must carry its
            group table in ``table.attrs["groups"]``, as
            ``model.experiment.runner.simulate_task_with_groups`` returns it).
        metrics: metrics to keep (None: every column of the run table but ``step``).
        layout: the study's :func:`part_layout`, written into every part's schema
            metadata with the run's ``run_id`` (None: no metadata).
    """

    def __init__(
        self,
        design: pd.DataFrame,
        outcomes: str,
        metrics: Sequence[str] | None = None,
        layout: str | None = None,
    ):
        if outcomes not in ("timeseries", "summary", "by_group"):
            raise ValueError(
                f"outcomes must be 'summary', 'timeseries' or 'by_group', got {outcomes!r}"
            )
        if not (design["run"].to_numpy() == np.arange(len(design))).all():
            raise ValueError("design table rows must be in run order 0..n-1")
        self.design = pa.Table.from_pandas(design, preserve_index=False).replace_schema_metadata(
            None
        )
        self.outcomes = outcomes
        self.metrics = list(metrics) if metrics is not None else None
        self.layout = layout

    def build(self, run: int, table: pd.DataFrame) -> pa.Table:
        """Build the part of run ``run`` from its run table.

        Raises:
            KeyError: a metric to keep is not in the run table.
        """
        part = self._rows(run, table)
        if self.layout is None:
            return part
        run_id = str(self.design.column("run_id")[run].as_py())
        return part.replace_schema_metadata(
            {LAYOUT_KEY: self.layout.encode(), RUN_ID_KEY: run_id.encode()}
        )

    def _rows(self, run: int, table: pd.DataFrame) -> pa.Table:
        if self.outcomes == "by_group":
            from model.analysis.group_effects import summarize_groups

            groups = summarize_groups(table.attrs.pop("groups"))
            rows = len(groups)
            identity = self.design.take(pa.array(np.full(rows, run, dtype=np.int64)))
            for name in ("by", "group"):
                identity = identity.append_column(name, pa.array(groups[name].astype(str)))
            identity = identity.append_column(
                "consumers", pa.array(groups["consumers"].to_numpy(dtype=np.int64))
            )
            for name in groups.columns:
                if name not in ("by", "group", "consumers"):
                    values = groups[name].to_numpy(dtype=np.float64)
                    identity = identity.append_column(name, pa.array(values))
            return identity
        keep = metric_columns(table, self.metrics)
        if self.outcomes == "summary":
            summary = summarize_table(table, keep)
            names = list(summary)
            arrays = [pa.array([v], type=pa.float64()) for v in summary.values()]
            rows = 1
        else:
            rows = len(table)
            names = ["step", *keep]
            arrays = [pa.array(table["step"].to_numpy(dtype=np.int64))]
            arrays += [pa.array(table[m].to_numpy(dtype=np.float64)) for m in keep]
        identity = self.design.take(pa.array(np.full(rows, run, dtype=np.int64)))
        for name, array in zip(names, arrays, strict=True):
            identity = identity.append_column(name, array)
        return identity


def _parquet_bytes(data: pd.DataFrame | pa.Table) -> bytes:
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


class ResultStore:
    """A sweep's result folder.

    Attributes:
        root: the folder.
        parts_dir: where finished runs' parts go.
        failures_dir: where failed runs' records go.
        damaged_dir: where ``--resume`` sets damaged parts aside.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.parts_dir = self.root / "parts"
        self.failures_dir = self.root / "failures"
        self.damaged_dir = self.root / "damaged"

    # ---- paths
    @property
    def design_path(self) -> Path:
        """The design table (Parquet)."""
        return self.root / "design.parquet"

    @property
    def manifest_path(self) -> Path:
        """The manifest."""
        return self.root / "manifest.json"

    @property
    def study_path(self) -> Path:
        """The resolved study description."""
        return self.root / "study.json"

    @property
    def sample_path(self) -> Path:
        """The raw SALib sample (sobol and morris designs)."""
        return self.root / "design_sample.parquet"

    def exists(self) -> bool:
        """Tell whether the folder already holds a sweep (its design table)."""
        return self.design_path.exists()

    # ---- setting up
    def initialise(
        self,
        design: pd.DataFrame,
        study: Mapping[str, Any],
        experiment_text: bytes | None = None,
        sample: pd.DataFrame | None = None,
    ) -> None:
        """Write the design table, study description and experiment copy of a new sweep."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.parts_dir.mkdir(exist_ok=True)
        self.failures_dir.mkdir(exist_ok=True)
        if experiment_text is not None:
            write_bytes_atomic(self.root / "experiment.yaml", experiment_text)
        write_json_atomic(self.study_path, dict(study))
        if sample is not None:
            write_bytes_atomic(self.sample_path, _parquet_bytes(sample))
        write_csv_atomic(self.root / "design.csv", design)
        # the design table last: its presence marks the folder as a sweep
        write_bytes_atomic(self.design_path, _parquet_bytes(design))

    def check_same_design(self, design: pd.DataFrame, source: str) -> None:
        """Refuse to resume a folder that holds a different study."""
        stored = self.load_design()
        same = len(stored) == len(design) and (
            stored["run_id"].astype(str).tolist() == design["run_id"].astype(str).tolist()
        )
        if not same:
            raise StoreError(
                f"{self.root}: holds a different study than {source} "
                f"({len(stored)} runs stored, {len(design)} in the file, "
                "or other scenarios or seeds); "
                "use a new --out folder, or the experiment file this folder was made with"
            )

    def check_own_folders(self) -> None:
        """Refuse a store whose own folders lead elsewhere, so nothing is written outside it.

        Raises:
            StoreError: ``parts``, ``failures`` or ``damaged`` is a symbolic link or not a folder.
        """
        for folder in (self.parts_dir, self.failures_dir, self.damaged_dir):
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise StoreError(
                    f"{folder}: is a symbolic link or not a folder; mtsim writes only inside "
                    "the result folder: put a real folder there, or use a new --out folder"
                )

    def clean_temporary(self) -> int:
        """Remove temporary files a killed sweep left behind; return how many."""
        removed = 0
        for folder in (self.root, self.parts_dir, self.failures_dir):
            if not folder.is_dir():
                continue
            for tmp in folder.glob(".*.tmp"):
                if tmp.is_symlink() or tmp.is_file():
                    tmp.unlink(missing_ok=True)
                    removed += 1
        return removed

    # ---- reading state
    def load_design(self) -> pd.DataFrame:
        """Read the design table.

        Raises:
            StoreError: no design table, or one that cannot be read.
        """
        if not self.design_path.exists():
            raise StoreError(f"{self.root}: not a sweep result folder (no design.parquet)")
        try:
            design = pq.read_table(self.design_path).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{self.design_path}: cannot be read ({_first_line(exc)})") from None
        if not set(ID_COLUMNS) <= set(design.columns):
            raise StoreError(f"{self.design_path}: not a design table (no {', '.join(ID_COLUMNS)})")
        return design

    def read_study(self) -> dict[str, Any]:
        """Read the study description (``study.json``).

        Raises:
            StoreError: it is missing, cannot be read or is not a study description.
        """
        return _read_study(self.root)

    def check_parts(self, design: pd.DataFrame, layout: str | None) -> dict[int, str]:
        """Read every part's footer; return run -> why, for each part that is not usable.

        See :func:`part_problem`; a footer that cannot be read is a damaged part.
        """
        problems = {}
        for run in sorted(self.finished_runs()):
            try:
                metadata = pq.read_metadata(self.parts_dir / part_name(run))
            except (OSError, pa.ArrowException) as exc:
                problems[run] = f"cannot be read ({_first_line(exc)})"
                continue
            problem = part_problem(metadata, run, design, layout)
            if problem is not None:
                problems[run] = problem
        return problems

    def set_aside(self, runs: Iterable[int]) -> None:
        """Move the parts of ``runs`` into ``damaged/`` (so the runs count as missing)."""
        self.check_own_folders()
        self.damaged_dir.mkdir(exist_ok=True)
        for run in runs:
            name = part_name(run)
            os.replace(self.parts_dir / name, self.damaged_dir / name)

    def finished_runs(self) -> set[int]:
        """List the runs whose part exists."""
        if not self.parts_dir.is_dir():
            return set()
        return {
            int(m.group(1))
            for name in os.listdir(self.parts_dir)
            if (m := PART_PATTERN.match(name))
        }

    def failed_runs(self) -> set[int]:
        """List the runs with a failure record and no part."""
        if not self.failures_dir.is_dir():
            return set()
        failed = {
            int(m.group(1))
            for name in os.listdir(self.failures_dir)
            if (m := FAILURE_PATTERN.match(name))
        }
        return failed - self.finished_runs()

    # ---- writing runs
    def write_part(self, run: int, part: pd.DataFrame | pa.Table) -> Path:
        """Write one finished run's rows atomically and drop any older failure record."""
        path = self.parts_dir / part_name(run)
        write_bytes_atomic(path, _parquet_bytes(part))
        (self.failures_dir / failure_name(run)).unlink(missing_ok=True)
        return path

    def write_failure(self, run: int, record: Mapping[str, Any]) -> Path:
        """Record a failed run (its identity, parameters, error and traceback)."""
        path = self.failures_dir / failure_name(run)
        write_json_atomic(path, dict(record))
        return path

    # ---- manifest
    def read_manifest(self) -> dict[str, Any]:
        """Read the manifest (empty before the first one is written, or when it is unreadable)."""
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return manifest if isinstance(manifest, dict) else {}

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Write the manifest atomically."""
        write_json_atomic(self.manifest_path, dict(manifest))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _store(directory: str | Path) -> ResultStore:
    store = ResultStore(directory)
    if not store.root.is_dir():
        raise StoreError(f"{directory}: no such folder")
    if not store.exists():
        raise StoreError(f"{directory}: not a sweep result folder (no design.parquet)")
    return store


def load_design(directory: str | Path) -> pd.DataFrame:
    """Read the design table of a store: one row per run (ID_COLUMNS, then the parameters)."""
    return _store(directory).load_design()


def load_study(directory: str | Path) -> dict[str, Any]:
    """Read the study description of a store (spec, parameters, design kind, SALib problem)."""
    return _store(directory).read_study()


def load_sample(directory: str | Path) -> pd.DataFrame | None:
    """Read the raw SALib sample of a sobol or morris store (None for grid and lhs)."""
    store = _store(directory)
    if not store.sample_path.exists():
        return None
    try:
        return pq.read_table(store.sample_path).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{store.sample_path}: cannot be read ({_first_line(exc)})") from None


def _store_layout(store: ResultStore) -> str | None:
    """Return the store's part layout, None when its study description cannot be read."""
    try:
        return part_layout(store.read_study())
    except StoreError:
        return None


def read_results(
    directory: str | Path, columns: Iterable[str] | None = None
) -> tuple[pd.DataFrame, dict[int, str]]:
    """Read every usable part of a store as one table; say why each other part is left out.

    Returns:
        The table, as :func:`load_results` gives it (which warns about the parts left
        out), and run -> why for each part left out (``mtsim analyze`` names them in
        its analysis.md).
    """
    store = _store(directory)
    design = store.load_design()
    layout = _store_layout(store)
    wanted = list(columns) if columns is not None else None
    tables, left_out = [], {}
    # one ParquetFile read per part is several times faster than a dataset scan of
    # many small files; usable parts of one sweep share one schema
    for run in sorted(store.finished_runs()):
        try:
            part = pq.ParquetFile(store.parts_dir / part_name(run))
            problem = part_problem(part.metadata, run, design, layout)
            if problem is None:
                tables.append(part.read(columns=wanted))
        except (OSError, pa.ArrowException) as exc:
            problem = f"cannot be read ({_first_line(exc)})"
        if problem is not None:
            left_out[run] = problem
    if not tables:
        return design.iloc[0:0], left_out
    frame = pa.concat_tables(tables, promote_options="default").to_pandas()
    keys = [c for c in ("run", "step") if c in frame.columns]
    if keys:
        frame = frame.sort_values(keys, kind="stable")
    return frame.reset_index(drop=True), left_out


def describe_left_out(left_out: Mapping[int, str], limit: int = 5) -> str:
    """Describe the parts left out in one line: ``run 7 (holds no rows); run 9 (...)``."""
    shown = [f"run {run} ({why})" for run, why in sorted(left_out.items())[:limit]]
    more = len(left_out) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def load_results(directory: str | Path, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Every finished run of a store as one tidy DataFrame.

    One row per run (``summary`` outcomes) or per run and step (``timeseries``),
    with the columns run, point, replication, seed, run_id, the parameters, then
    ``step`` and one column per metric, or ``<metric>_final`` and ``<metric>_mean``.
    Rows are sorted by run (and step). Failed and missing runs are absent; see
    :func:`load_failures` and :func:`store_status`. A damaged part (see the module's
    docstring) is left out with a warning that names it (``--resume`` runs it again).

    Args:
        directory: the store folder (``mtsim sweep --out``).
        columns: read only these columns (default: all).
    """
    frame, left_out = read_results(directory, columns)
    if left_out:
        warnings.warn(
            f"{directory}: {len(left_out)} damaged part(s) left out: "
            f"{describe_left_out(left_out)}; --resume runs them again",
            stacklevel=2,
        )
    return frame


def load_failures(directory: str | Path) -> pd.DataFrame:
    """Failed runs (without a part): identity, parameters, error, traceback, seconds."""
    store = _store(directory)
    records = []
    for run in sorted(store.failed_runs()):
        path = store.failures_dir / failure_name(run)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(record, dict):
            records.append(record)
    columns = [*ID_COLUMNS, "error", "traceback", "seconds"]
    if not records:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame.from_records(records)


def store_status(directory: str | Path) -> dict[str, Any]:
    """Count the runs of a store: runs in the design, finished, failed, missing.

    Finished counts usable parts only (a damaged part's run is missing).
    """
    store = _store(directory)
    design = store.load_design()
    total = len(design)
    damaged = store.check_parts(design, _store_layout(store))
    finished = store.finished_runs() - set(damaged)
    failed = {run for run in store.failed_runs() if run < total} - finished
    return {
        "runs": total,
        "finished": len(finished),
        "failed": len(failed),
        "missing": total - len(finished) - len(failed),
    }

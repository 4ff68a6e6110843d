"""A result folder is mtsim's alone: reruns touch nothing else, damaged parts are found.

Issue 32 (items 1, 2, 3, 9e, 9f) and issue 30 (item 8):

- a rerun of ``mtsim run`` removes only the files mtsim writes, inside ``--out``, whatever
  the earlier manifest lists (symbolic links included), and refuses record folders that
  lead elsewhere before it runs;
- the next run into an ``--out`` removes the staging folders killed runs left beside it,
  and only those (their process is gone);
- ``sweep --resume`` refuses a store whose folders are links, recomputes damaged parts and
  says so, and refuses a changed experiment file naming what changed;
- ``analyze`` leaves damaged or foreign parts out and its counts are those it computed on;
- the summary of an interrupted ``mtsim run`` names the replications it averages.

Each refusal is one line, without a traceback, in under 2 s, and leaves every file as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

from model.cli import main
from model.experiment.runner import RunTask
from model.experiment.store import StoreError, load_results, store_status
from model.workflows.run import STAGING_OWNER, RunOutcome, run_replications
from model.workflows.sweep import run_sweep
from tests.conftest import BASELINE, ROOT, small_scenario

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

TINY_RUN = [
    "--steps",
    "2",
    "--set",
    "population.consumers=300",
    "--set",
    "population.merchants=20",
    "--set",
    "population.kols=3",
    "--quiet",
]


def mtsim(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run the command line in a new process; return it and its wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "model.cli", *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, time.perf_counter() - started


def one_line_error(done: subprocess.CompletedProcess, seconds: float) -> str:
    """Check a refusal: exit 2, one line on stderr, no traceback, under 2 s; return the line."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1, done.stderr
    assert seconds < 2.0, f"{seconds:.2f} s"
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder`` (not following links): file bytes, or where a link points."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[name] = path.read_bytes()
        else:
            found[name] = "folder"
    return found


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside every ``--out`` with a file the user cares about."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    (folder / "replication-000.parquet").write_bytes(b"the user's own file")
    return folder


# --------------------------------------------------------------------------- mtsim run


def test_rerun_removes_only_mtsims_files_inside_out_whatever_the_manifest_says(
    tmp_path, outside, capsys
):
    out = tmp_path / "out"
    records = ["--set", "simulation.record_consumers_every=1"]
    assert main(["run", str(BASELINE), *TINY_RUN, *records, "--reps", "2", "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    (out / "lnk").symlink_to(outside, target_is_directory=True)
    # a link with one of mtsim's names: the link is mtsim's to replace, its target is not
    (out / "consumers" / "replication-007.parquet").symlink_to(outside / "replication-000.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["outputs"] += [
        "notes.txt",
        "lnk/precious.txt",
        "lnk/replication-000.parquet",
        "../outside/precious.txt",
        str(outside / "precious.txt"),
        "consumers/../notes.txt",
        "consumers/replication-007.parquet",
        "lnk",
        "",
    ]
    (out / "manifest.json").write_text(json.dumps(manifest))
    before_outside = snapshot(outside)
    capsys.readouterr()

    assert main(["run", str(BASELINE), *TINY_RUN, "--out", str(out)]) == 0
    assert "replaced the earlier results" in capsys.readouterr().out
    assert snapshot(outside) == before_outside
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "lnk").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == [
        "groups.csv",
        "lnk",
        "manifest.json",
        "notes.txt",
        "summary.png",
        "timeseries.csv",
    ]


@pytest.mark.subprocess
@pytest.mark.parametrize("entry", ["consumers", "merchants"])
@pytest.mark.parametrize("kind", ["link", "file"])
def test_a_record_folder_that_leads_elsewhere_is_refused_before_the_run(
    tmp_path, outside, entry, kind
):
    out = tmp_path / "out"
    out.mkdir()
    if kind == "link":
        (out / entry).symlink_to(outside, target_is_directory=True)
    else:
        (out / entry).write_text("not a folder")
    before = snapshot(tmp_path)
    done, seconds = mtsim(
        "run", str(BASELINE), *TINY_RUN, "--set", "simulation.record_consumers_every=1",
        "--out", str(out),
    )  # fmt: skip
    line = one_line_error(done, seconds)
    assert f"{out / entry}: is a symbolic link or not a folder" in line
    assert snapshot(tmp_path) == before


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _staging(where: Path, name: str, owner: str | None) -> Path:
    folder = where / name
    folder.mkdir()
    (folder / "timeseries.csv").write_text("half written")
    if owner is not None:
        (folder / STAGING_OWNER).write_text(owner)
    return folder


def test_next_run_removes_only_the_staging_folders_of_killed_runs_into_its_out(tmp_path, capsys):
    out = tmp_path / "out"
    host = socket.gethostname()
    dead = f"{_dead_pid()} {host} -\n"
    killed = _staging(tmp_path, ".out.mtsim-k1lled00", dead)
    reused = _staging(tmp_path, ".out.mtsim-reused00", f"{os.getpid()} {host} 1\n")
    kept = [
        _staging(tmp_path, ".out.mtsim-running0", f"{os.getpid()} {host} -\n"),  # alive
        _staging(tmp_path, ".out.mtsim-n0owner0", None),  # owner unknown
        _staging(tmp_path, ".out.mtsim-elsewher", f"{_dead_pid()} other-host -\n"),
        _staging(tmp_path, ".other.mtsim-k1lled00", dead),  # another --out's
        _staging(tmp_path, ".out.mtsim-k1lled00-x", dead),  # not the pattern
    ]
    target = _staging(tmp_path, "target", dead)
    (tmp_path / ".out.mtsim-l1nked00").symlink_to(target, target_is_directory=True)
    kept += [tmp_path / ".out.mtsim-l1nked00", target]

    outcome = run_replications(small_scenario(), steps=2, out=out, progress=False)
    assert sorted(outcome.stale_staging) == sorted([killed, reused])
    assert not killed.exists() and not reused.exists()
    assert all(folder.exists() for folder in kept)
    assert (target / "timeseries.csv").read_text() == "half written"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.mtsim-") and p not in kept]


# --------------------------------------------------------------------------- sweep stores


def _table(task: RunTask) -> pd.DataFrame:
    return pd.DataFrame({"step": [0, 1, 2], "value": [0.0, 1.0, float(task.seed % 97)]})


FRAUD = {"name": "fraud", "path": "payment.fraud_rate", "range": [0.001, 0.01]}


def experiment_file(folder: Path, name: str = "safe", runs: int = 10, **changes) -> Path:
    data = {
        "name": name,
        "base": str(BASELINE),
        "set": {"population.consumers": 300, "population.merchants": 20, "population.kols": 3},
        "parameters": [FRAUD],
        "design": {"kind": "lhs", "samples": runs},
        "replications": 1,
        "steps": 2,
        "seed": 5,
        "outcomes": "summary",
    }
    data.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def store(tmp_path) -> tuple[Path, Path]:
    """A finished 10-run sweep of a cheap work function: (experiment file, folder)."""
    experiment = experiment_file(tmp_path)
    out = tmp_path / "store"
    run_sweep(experiment, out, workers=1, progress=False, work=_table)
    return experiment, out


@pytest.mark.parametrize("folder", ["parts", "failures", "damaged"])
def test_resume_refuses_store_folders_that_are_links(store, outside, folder):
    experiment, out = store
    if (out / folder).exists():
        for part in (out / folder).iterdir():
            shutil.move(part, outside / part.name)
        (out / folder).rmdir()
    (out / folder).symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    with pytest.raises(StoreError, match="is a symbolic link or not a folder") as caught:
        run_sweep(experiment, out, resume=True, workers=1, progress=False, work=_table)
    assert len(str(caught.value).splitlines()) == 1
    assert snapshot(outside) == before


def test_resume_ignores_what_an_edited_manifest_lists(store, outside):
    experiment, out = store
    (out / "parts" / "run-0000004.parquet").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["outputs"] = [str(outside / "precious.txt"), "../outside/precious.txt"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(outside)
    summary = run_sweep(experiment, out, resume=True, workers=1, progress=False, work=_table)
    assert (summary.computed, summary.skipped) == (1, 9)
    assert snapshot(outside) == before


@pytest.mark.long
def test_resume_recomputes_damaged_parts_and_says_so(tmp_path, capsys):
    experiment = experiment_file(tmp_path, runs=4)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    sweep = ["sweep", str(experiment), "--workers", "1", "--no-progress"]
    assert main([*sweep, "--out", str(out)]) == 0
    assert main([*sweep, "--out", str(fresh)]) == 0
    parts = out / "parts"
    (parts / "run-0000001.parquet").write_bytes(b"")
    whole = (parts / "run-0000002.parquet").read_bytes()
    (parts / "run-0000002.parquet").write_bytes(whole[: len(whole) // 2])
    assert store_status(out) == {"runs": 4, "finished": 2, "failed": 0, "missing": 2}
    with pytest.warns(UserWarning, match="2 damaged part"):
        assert sorted(load_results(out)["run"]) == [0, 3]
    capsys.readouterr()

    assert main([*sweep, "--out", str(out), "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "2 runs finished now, 2 finished earlier, 0 failed, of 4" in printed
    assert "2 damaged parts recomputed" in printed and len(printed.splitlines()) == 1
    assert (out / "damaged" / "run-0000001.parquet").read_bytes() == b""
    assert (out / "damaged" / "run-0000002.parquet").read_bytes() == whole[: len(whole) // 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(load_results(out), load_results(fresh))
    session = json.loads((out / "manifest.json").read_text())["sessions"][-1]
    assert sorted(session["damaged"]) == ["1", "2"]


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"outcomes": "timeseries"}, 'outcomes "summary" -> "timeseries"'),
        ({"metrics": ["gmv", "orders"]}, "metrics null -> "),
        (
            {"parameters": [{**FRAUD, "name": "fraud_rate"}]},
            'parameters.0.name "fraud" -> "fraud_rate"',
        ),
    ],
    ids=["outcomes", "metrics", "renamed"],
)
def test_resume_after_a_changed_experiment_file_is_refused_naming_the_change(store, changes, named):
    experiment, out = store
    experiment_file(experiment.parent, **changes)
    (out / "parts" / "run-0000004.parquet").unlink()
    before = snapshot(out)
    done, seconds = mtsim("sweep", str(experiment), "--resume", "--out", str(out))
    line = one_line_error(done, seconds)
    assert f"{out}: holds a different study than {experiment}" in line
    assert named in line
    assert snapshot(out) == before


def test_analyze_leaves_out_foreign_and_damaged_parts_and_counts_what_it_computed(tmp_path, store):
    experiment, out = store
    other = tmp_path / "other"
    run_sweep(
        experiment_file(tmp_path, name="other", outcomes="timeseries"),
        other,
        workers=1,
        progress=False,
        work=_table,
    )
    parts = out / "parts"
    shutil.copy(other / "parts" / "run-0000003.parquet", parts / "run-0000003.parquet")
    shutil.copy(parts / "run-0000000.parquet", parts / "run-0000005.parquet")
    shutil.copy(parts / "run-0000000.parquet", parts / "run-0000099.parquet")
    (parts / "run-0000007.parquet").write_bytes(b"PAR1")

    assert main(["analyze", str(out)]) == 0
    text = (out / "analysis" / "analysis.md").read_text()
    assert "Runs: 10 in the design, 7 finished and analysed, 0 failed, 3 missing." in text
    for said in (
        "run 3 (written for another study",
        "run 5 (holds another run)",
        "run 7 (cannot be read",
        "run 99 (not a run of the design (it has 10 runs))",
    ):
        assert said in text
    points = pd.read_csv(out / "analysis" / "scatter_points.csv")
    assert sorted(points["run"]) == [0, 1, 2, 4, 6, 8, 9]
    correlations = pd.read_csv(out / "analysis" / "rank_correlations.csv")
    assert (correlations["n"] == 7).all()


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("design.parquet", "design.parquet: cannot be read"),
        ("study.json", "study.json: cannot be read (not valid JSON)"),
        ("deep study.json", "study.json: cannot be read (not valid JSON)"),
    ],
)
@pytest.mark.parametrize("command", ["analyze", "resume"])
def test_damaged_store_files_are_one_line(store, capsys, damage, said, command):
    experiment, out = store
    name = damage.split()[-1]
    deep = "[" * 200_000 + "]" * 200_000
    (out / name).write_text(deep if damage.startswith("deep") else "PAR1 broken")
    args = (
        ["analyze", str(out)]
        if command == "analyze"
        else ["sweep", str(experiment), "--resume", "--out", str(out), "--no-progress"]
    )
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], lines


# --------------------------------------------------------------------------- run summaries


def test_interrupted_run_summary_names_the_replications_it_averages(tmp_path, capsys):
    from model.commands.run import _report

    outcome = run_replications(
        small_scenario(), steps=2, reps=2, out=tmp_path / "out", progress=False
    )
    # as if 2 of 5 had finished when Ctrl-C came
    interrupted = RunOutcome(
        out=outcome.out,
        scenario=outcome.scenario,
        steps=2,
        seeds=[*outcome.seeds, 7, 8, 9],
        finished=outcome.finished,
        table=outcome.table,
        outputs=outcome.outputs,
        interrupted=KeyboardInterrupt(),
    )
    assert _report(interrupted, 5, 600) == 130
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert lines[0].startswith("mtsim run: baseline, 2 of 5 replications finished x 2 weeks")
    metric_lines = [line for line in lines[1:] if line.startswith("  ")]
    assert metric_lines and all(
        line.endswith("(week 2, mean of the 2 finished replications of 5)") for line in metric_lines
    )
    assert "2 of 5 replications had finished" in printed.err
    assert "mean of reps" not in printed.out

    assert _report(outcome, 2, 600) == 0
    assert "(week 2, mean of 2 replications)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("finished", "asked", "said"),
    [
        (1, 1, ""),
        (3, 3, "mean of 3 replications"),
        (1, 20, "the 1 finished replication of 20"),
        (2, 20, "mean of the 2 finished replications of 20"),
    ],
)
def test_the_replications_a_summary_covers(finished, asked, said):
    outcome = RunOutcome(
        out=Path("x"),
        scenario="s",
        steps=1,
        seeds=list(range(asked)),
        finished=list(range(finished)),
    )
    assert outcome.averaged_over() == said


@pytest.mark.parametrize("command", ["run", "sweep", "resume", "analyze", "analyze --out"])
def test_a_folder_name_too_long_is_one_line(store, capsys, command):
    experiment, out = store
    long = str(out.parent / ("a" * 5000))
    args = {
        "run": ["run", str(BASELINE), "--out", long],
        "sweep": ["sweep", str(experiment), "--out", long],
        "resume": ["sweep", str(experiment), "--resume", "--out", long],
        "analyze": ["analyze", long],
        "analyze --out": ["analyze", str(out), "--out", long],
    }[command]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "cannot be used (File name too long)" in lines[0], lines

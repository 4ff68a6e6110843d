"""Faults: killed sweeps, dead workers, full disks, read-only folders, interrupted runs.

Each test checks what the user is told and what is left on disk: no orphan
processes, no lost finished work, no stale or mixed results, one line per error.
The disk tests mount a small tmpfs (root only); where that is not possible they
are skipped with the reason.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from model.errors import UserError
from model.experiment.runner import RunTask, run_tasks
from model.experiment.store import load_results, store_status
from model.workflows.sweep import run_sweep
from tests.conftest import BASELINE, ROOT

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def mtsim_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "model.cli", *args]


def experiment_file(folder: Path, runs: int = 40, steps: int = 40, name: str = "faulty") -> Path:
    data = {
        "name": name,
        "base": str(BASELINE),
        "set": {"population.consumers": 300, "population.merchants": 20, "population.kols": 3},
        "parameters": [{"path": "payment.fraud_rate", "range": [0.001, 0.01]}],
        "design": {"kind": "lhs", "samples": runs},
        "replications": 1,
        "steps": steps,
        "seed": 5,
        "outcomes": "summary",
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for a reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for_parts(out: Path, count: int, proc: subprocess.Popen, seconds: float = 120) -> None:
    parts = out / "parts"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if parts.is_dir() and len(list(parts.glob("run-*.parquet"))) >= count:
            return
        assert proc.poll() is None, "the sweep ended before it could be stopped"
        time.sleep(0.02)
    raise AssertionError("the sweep wrote no parts in time")


# --------------------------------------------------------------------------- killed sweeps


KILLED_RUNS = 20
"""Runs of the killed sweep (two at a time, stopped once 3 are written): enough left over
to show that the signal, not the end of the work, stopped it."""


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_sweep_leaves_no_orphans_and_resume_rebuilds_the_manifest(tmp_path, how):
    experiment = experiment_file(tmp_path, runs=KILLED_RUNS)
    out = tmp_path / "out"
    cmd = mtsim_cmd("sweep", str(experiment), "--workers", "2", "--out", str(out), "--no-progress")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_parts(out, 3, proc)
        workers = children(proc.pid)
        assert len(workers) >= 2, "expected pool workers"
        os.kill(proc.pid, how)
        # a safety net, not a time limit: a sweep that ignored the signal would finish all
        # its runs, which `finished < KILLED_RUNS` below catches. Exceeded twice in CI (30 s, then
        # 120 s, 2026-12-07) by a sweep that printed its message and then hung at exit:
        # the interrupt had been raised inside the pool's machinery; the runner now acts on
        # signals between results only (test_ctrl_c_while_a_result_is_handled_... below)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 5
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(w) for w in workers), "pool workers outlived the sweep by 5 s"
    if how == signal.SIGTERM:
        assert proc.returncode == 143
        assert "Traceback" not in stderr.decode()
        assert "sweep terminated (SIGTERM); finished runs are kept" in stderr.decode()
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["status"] == "interrupted"
        assert manifest["sessions"][-1]["status"] == "interrupted"
    finished = store_status(out)["finished"]
    assert 3 <= finished < KILLED_RUNS
    parts = out / "parts"
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in parts.glob("run-*.parquet")}
    assert len(before) == finished

    done = subprocess.run(
        [*cmd, "--resume"], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in parts.glob("run-*.parquet")}
    assert all(after[name] == stamp for name, stamp in before.items()), "a part was recomputed"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"] == {
        "runs": KILLED_RUNS,
        "finished": KILLED_RUNS,
        "failed": 0,
        "missing": 0,
    }
    first, last = manifest["sessions"]
    assert first["status"] == ("killed" if how == signal.SIGKILL else "interrupted")
    assert last["status"] == "complete" and last["skipped"] >= finished
    assert sorted(load_results(out)["run"]) == list(range(KILLED_RUNS))


# --------------------------------------------------------------------------- dead workers


def _table(task: RunTask) -> pd.DataFrame:
    return pd.DataFrame({"step": [0, 1], "value": [0.0, float(task.seed % 97)]})


def _kill_own_worker_once(task: RunTask) -> pd.DataFrame:
    """Kill this worker process the first time run 5 runs (as an out-of-memory kill would)."""
    marker = Path(task.meta["marker"])
    if task.meta["run"] == 5 and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return _table(task)


def _always_kill_worker_on_run_5(task: RunTask) -> pd.DataFrame:
    if task.meta["run"] == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return _table(task)


def tasks(count: int, marker: Path) -> list[RunTask]:
    return [
        RunTask(key=f"run {i}", scenario={}, seed=i, meta={"run": i, "marker": str(marker)})
        for i in range(count)
    ]


def test_one_killed_worker_does_not_fail_the_other_runs(tmp_path):
    results = list(
        run_tasks(
            tasks(16, tmp_path / "killed"), workers=2, progress=False, work=_kill_own_worker_once
        )
    )
    assert (tmp_path / "killed").exists()  # the worker really was killed once
    assert sorted(r.meta["run"] for r in results) == list(range(16))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]


def test_a_run_that_always_kills_its_worker_is_the_only_failure(tmp_path):
    results = list(
        run_tasks(
            tasks(12, tmp_path / "unused"),
            workers=2,
            progress=False,
            work=_always_kill_worker_on_run_5,
            retries=2,
        )
    )
    assert sorted(r.meta["run"] for r in results) == list(range(12))
    failed = [r for r in results if not r.ok]
    assert [r.meta["run"] for r in failed] == [5]
    assert "process died 3 times" in failed[0].error


def _kill_worker_once_at(task: RunTask, marker: str) -> pd.DataFrame:
    return _kill_own_worker_once(
        RunTask(task.key, task.scenario, task.seed, task.steps, {**task.meta, "marker": marker})
    )


def test_sweep_with_a_killed_worker_completes(tmp_path):
    experiment = experiment_file(tmp_path, runs=12, steps=2)
    marker = tmp_path / "killed"
    work = functools.partial(_kill_worker_once_at, marker=str(marker))
    summary = run_sweep(experiment, tmp_path / "out", workers=2, progress=False, work=work)
    assert marker.exists()
    assert (summary.computed, summary.failed, summary.status) == (12, 0, "complete")


def _slow_table(task: RunTask) -> pd.DataFrame:
    time.sleep(0.01)
    return _table(task)


def test_ctrl_c_while_a_result_is_handled_acts_between_results_and_leaves_no_pool_thread():
    """A signal is held off while a pool runs and acted on where no lock is held.

    Raised at any point of the main thread (the old way), it could land inside
    ``concurrent.futures.wait`` holding a future's lock: the pool's manager thread then
    blocked for good and the interpreter waited for it at exit (a sweep that printed
    "terminated" and never ended). Here Ctrl-C comes while the caller handles a result:
    that handling finishes, the interrupt comes out of the runner at the next result,
    the pool's workers and its manager thread are gone, and Ctrl-C works as before after.
    """
    from concurrent.futures.process import _ExecutorManagerThread

    handled = []
    # Python's own Ctrl-C handler, also when the tests were started in the background
    # (`nohup pytest ... &`: SIGINT ignored, inherited by the test workers)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            for result in run_tasks(
                tasks(400, Path("/nonexistent")), workers=2, progress=False, work=_slow_table
            ):
                if len(handled) == 3:
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.3)  # the old runner was interrupted here, in the caller's code
                handled.append(result.meta["run"])
        assert len(handled) == 4, "the result being handled when Ctrl-C came was finished"
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    for thread in threading.enumerate():
        if isinstance(thread, _ExecutorManagerThread):
            thread.join(timeout=10)
            assert not thread.is_alive(), "a pool thread that exit would wait for"


def _square_slowly(x: int) -> int:
    time.sleep(0.04)
    return x * x


def test_map_in_order_is_executor_map_and_ctrl_c_acts_between_waits():
    """The pools of validate, the pattern suite and calibration wait through map_in_order."""
    from model.experiment.runner import map_in_order, new_process_pool, stop_process_pool

    pool = new_process_pool(2)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in the test above
    try:
        assert map_in_order(pool, _square_slowly, range(23), chunksize=4) == [
            x * x for x in range(23)
        ]
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            map_in_order(pool, _square_slowly, range(500))  # 10 s of work on 2 workers
        assert time.monotonic() - started < 5.0, "the interrupt waited for the work"
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
        stop_process_pool(pool, now=True)


SIGNAL_INSIDE_WAIT = """
import os, signal, sys
import concurrent.futures._base as base
from model.commands.common import interrupt_exit, sigterm_as_interrupt
from model.experiment.runner import run_tasks
from tests.test_faults import _slow_table, tasks

original = base._AcquireFutures.__enter__
calls = 0
sent = False


def enter(self):  # SIGTERM comes after the first future's lock is taken, before the next
    global calls, sent
    calls += 1
    if sent or calls < 5 or len(self.futures) < 2:
        return original(self)
    sent = True  # the only SIGTERM: without it the runs finish and the exit code is 0
    self.futures[0]._condition.acquire()
    os.kill(os.getpid(), signal.SIGTERM)  # the handler runs inside os.kill
    for future in self.futures[1:]:
        future._condition.acquire()


base._AcquireFutures.__enter__ = enter
try:
    with sigterm_as_interrupt():
        for _ in run_tasks(tasks(400, "/nonexistent"), workers=2, progress=False,
                           work=_slow_table):
            pass
except KeyboardInterrupt as exc:
    print("stopped:", interrupt_exit(exc)[0], file=sys.stderr, flush=True)
    sys.exit(143)
"""


def test_sigterm_that_lands_inside_the_pool_wait_does_not_hang_the_exit(tmp_path):
    """The CI failure, made certain: SIGTERM arrives while ``wait`` takes its futures' locks.

    A handler that raised there left one future's lock held; the pool's manager thread
    blocked on it and the interpreter waited for that thread at exit, for good (the old
    runner hangs here until the timeout). The runner only notes the signal there and
    stops at its next check: the process ends at once with 143.
    """
    script = tmp_path / "signal_inside_wait.py"
    script.write_text(SIGNAL_INSIDE_WAIT)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 143, done.stderr
    assert done.stderr.strip().splitlines() == ["stopped: terminated (SIGTERM)"], done.stderr


def test_sigterm_under_sigterm_as_interrupt_stops_the_runner_once():
    """SIGTERM while the pool runs: Terminated from the runner before the work is done."""
    from model.commands.common import Terminated, sigterm_as_interrupt

    seen = 0
    with pytest.raises(Terminated), sigterm_as_interrupt():
        for _ in run_tasks(
            tasks(400, Path("/nonexistent")), workers=2, progress=False, work=_slow_table
        ):
            seen += 1
            if seen == 3:
                threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)).start()
    assert 3 <= seen < 400
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # sigterm_as_interrupt put back


# --------------------------------------------------------------------------- disks


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs at tmp_path/disk (skipped where mounting is not allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; disk-full behaviour not tested here")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk: Path, leave: int) -> None:
    """Fill the disk up to ``leave`` free bytes."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with (disk / "ballast").open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def _big_table(task: RunTask) -> pd.DataFrame:
    noise = np.random.default_rng(task.seed).random((400, 4))
    table = pd.DataFrame(noise, columns=["a", "b", "c", "d"])
    table.insert(0, "step", np.arange(400))
    return table


def test_full_disk_stops_a_sweep_in_one_line_and_keeps_finished_runs(tmp_path, small_disk):
    experiment = experiment_file(tmp_path, runs=200, steps=2, name="full")
    spec = yaml.safe_load(experiment.read_text())
    spec["outcomes"] = "timeseries"
    experiment.write_text(yaml.safe_dump(spec))
    out = small_disk / "out"
    with pytest.raises(UserError) as caught:
        run_sweep(experiment, out, workers=1, progress=False, work=_big_table)
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    assert "No space left on device" in message and "--resume" in message
    kept = load_results(out)  # every finished part is whole and readable
    assert 0 < kept["run"].nunique() < 200
    assert not list(out.rglob(".*.tmp"))


def test_full_disk_in_run_keeps_the_earlier_results(tmp_path, small_disk):
    out = small_disk / "out"
    args = [
        "run",
        str(BASELINE),
        "--steps",
        "3",
        "--set",
        "population.consumers=300",
        "--out",
        str(out),
        "--quiet",
    ]
    first = subprocess.run(mtsim_cmd(*args), cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fill(small_disk, leave=4096)
    again = subprocess.run(
        mtsim_cmd(*args[:-1], "--seed", "9", "--quiet"),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2 and "Traceback" not in again.stderr
    # one error line (the --set note on the population's scaling is not an error)
    lines = [n for n in again.stderr.strip().splitlines() if not n.startswith("mtsim: note:")]
    assert len(lines) == 1 and "No space left on device" in lines[0], again.stderr
    assert "earlier results" in lines[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast", "out"]  # no staging left


def test_read_only_out_is_one_line_and_results_stay(tmp_path, small_disk):
    experiment = experiment_file(tmp_path, runs=4, steps=2, name="ro")
    out = small_disk / "study"
    run_sweep(experiment, out, workers=1, progress=False, work=_table)
    (out / "parts" / "run-0000003.parquet").unlink()  # one run to redo
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True)
    if remount.returncode != 0:
        pytest.skip(f"cannot remount read-only ({remount.stderr.decode().strip()})")
    for args in (
        ["sweep", str(experiment), "--resume", "--workers", "1", "--out", str(out)],
        ["sweep", str(experiment), "--workers", "1", "--out", str(small_disk / "new")],
        ["run", str(BASELINE), "--steps", "2", "--out", str(small_disk / "run")],
        # compare, optimize and analyze check --out before any run or heavy import
        [
            "compare",
            str(BASELINE),
            str(ROOT / "scenarios" / "payment_security.yaml"),
            "--steps",
            "2",
            "--reps",
            "1",
            "--out",
            str(small_disk / "cmp"),
        ],
        [
            "optimize",
            str(ROOT / "experiments" / "optimize_payment_trust.yaml"),
            "--trials",
            "1",
            "--out",
            str(small_disk / "opt"),
        ],
        ["analyze", str(out), "--out", str(small_disk / "an")],
    ):
        done = subprocess.run(mtsim_cmd(*args), cwd=ROOT, env=ENV, capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Read-only file system" in lines[0], done.stderr
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_out_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "taken"
    target.write_text("mine")
    experiment = experiment_file(tmp_path, runs=2, steps=2)
    for args in (
        ["sweep", str(experiment), "--out", str(target)],
        ["run", str(BASELINE), "--steps", "2", "--out", str(target)],
    ):
        done = subprocess.run(mtsim_cmd(*args), cwd=ROOT, env=ENV, capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines() == [
            f"mtsim: error: --out: {target}: is a file, not a folder; choose a folder"
        ]
    assert target.read_text() == "mine"


# --------------------------------------------------------------------------- interrupted runs


def test_interrupted_run_writes_the_finished_replications(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        mtsim_cmd(
            "run",
            str(BASELINE),
            "--reps",
            "8",
            "--workers",
            "2",
            "--steps",
            "300",
            "--set",
            "population.consumers=4000",
            "--set",
            "simulation.record_consumers_every=300",
            "--out",
            str(out),
            "--quiet",
        ),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Ctrl-C must reach the run even when the test runner was started with SIGINT
        # ignored (a background job of a script, nohup): children inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # 8 replications on 2 workers: the interrupt lands while most are still running,
    # however fast the machine (with 4 a fast run could finish before it)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:  # finished replications appear in the staging folder
            staged = list(tmp_path.glob(".out.mtsim-*/consumers/*.parquet"))
            if staged or proc.poll() is not None:
                break
            time.sleep(0.02)
        time.sleep(1.0)  # the replication's table reaches the main process after its file
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.kill(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = stderr.decode()
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    manifest = json.loads((out / "manifest.json").read_text())
    kept = manifest["replications_written"]
    assert 1 <= len(kept) < 8 and manifest["status"] == "interrupted"
    assert f"interrupted; {len(kept)} of 8 replications had finished and were written" in stderr
    # every line of the summary names the replications it covers, the same way
    printed = stdout.decode().splitlines()
    assert f"{len(kept)} of 8 replications finished x 300 weeks" in printed[0]
    over = (
        f"mean of the {len(kept)} finished replications of 8"
        if len(kept) > 1
        else "the 1 finished replication of 8"
    )
    metric_lines = [line for line in printed if line.startswith("  ")]
    assert metric_lines and all(line.endswith(f"(week 300, {over})") for line in metric_lines)
    table = pd.read_csv(out / "timeseries.csv")
    assert sorted(table["replication"].unique()) == kept
    assert sorted(p.name for p in (out / "consumers").iterdir()) == [
        f"replication-{r:03d}.parquet" for r in kept
    ]
    assert not list(tmp_path.glob(".out.mtsim-*"))


def test_run_interrupted_before_any_replication_says_nothing_was_written(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        mtsim_cmd(
            "run",
            str(BASELINE),
            "--reps",
            "2",
            "--workers",
            "2",
            "--steps",
            "500",
            "--out",
            str(out),
            "--quiet",
        ),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.mtsim-*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = stderr.decode()
    assert proc.returncode == 143 and "Traceback" not in stderr, stderr
    assert "before any replication finished; nothing was written" in stderr
    assert not out.exists() and not list(tmp_path.glob(".out.mtsim-*"))


@pytest.mark.subprocess
def test_next_run_removes_the_staging_folder_of_a_killed_run(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        mtsim_cmd("run", str(BASELINE), "--steps", "500", "--out", str(out), "--quiet"),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.mtsim-*/.mtsim-owner")):
            assert proc.poll() is None and time.monotonic() < deadline, "no staging folder"
            time.sleep(0.02)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    (left,) = tmp_path.glob(".out.mtsim-*")  # kill -9 leaves it: nothing can clean up
    beside = tmp_path / ".outer.mtsim-k1lled00"  # another --out's: not this run's to remove
    beside.mkdir()
    done = subprocess.run(
        mtsim_cmd(
            "run", str(BASELINE), "--steps", "2", "--set", "population.consumers=300",
            "--out", str(out), "--quiet",
        ),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "removed 1 staging folder left by a killed run" in done.stdout.splitlines()[-1]
    assert not left.exists() and beside.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".outer.mtsim-k1lled00", "out"]


def test_rerun_into_the_same_folder_replaces_only_mtsims_files(tmp_path):
    out = tmp_path / "out"
    base = [
        "run",
        str(BASELINE),
        "--steps",
        "3",
        "--set",
        "population.consumers=300",
        "--out",
        str(out),
        "--quiet",
    ]
    first = subprocess.run(
        mtsim_cmd(*base, "--reps", "2", "--set", "simulation.record_consumers_every=1"),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    (out / "notes.txt").write_text("mine")
    (out / "consumers" / "my_own.parquet").write_bytes(b"not mtsim's")
    # every replication fails now (the graph cannot be built): a manifest only, and no
    # time series or figure of the earlier run left beside it
    failing = subprocess.run(
        mtsim_cmd(
            *base,
            "--reps",
            "2",
            "--set",
            "network.kind=barabasi_albert",
            "--set",
            "network.mean_degree=1000",
        ),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert failing.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == ["consumers", "manifest.json", "notes.txt"]
    assert sorted(p.name for p in (out / "consumers").iterdir()) == ["my_own.parquet"]
    assert "results: " in failing.stdout and "(manifest.json)" in failing.stdout
    assert "replaced the earlier results" in failing.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications_written"] == [] and len(manifest["failed_runs"]) == 2


@pytest.mark.subprocess
def test_sigterm_stops_compare_in_one_line_and_keeps_finished_runs(tmp_path):
    """compare handles SIGTERM as Ctrl-C: exit 143, one line, a manifest saying interrupted."""
    out = tmp_path / "cmp"
    proc = subprocess.Popen(
        mtsim_cmd(
            "compare",
            str(BASELINE),
            str(ROOT / "scenarios" / "payment_security.yaml"),
            "--reps",
            "8",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "manifest.json").exists() or list(tmp_path.glob("**/*.csv")):
            break
        time.sleep(0.05)
    time.sleep(1.0)
    assert proc.poll() is None, "compare ended before it could be stopped"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    lines = [n for n in stderr.strip().splitlines() if not n.startswith("mtsim: note:")]
    assert len(lines) == 1 and "terminated (SIGTERM)" in lines[0], stderr
    assert "Traceback" not in stderr

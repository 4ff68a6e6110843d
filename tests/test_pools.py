"""Worker pools end with mtsim however it ends; interrupts and unwritable folders are one line.

Issue 32, items 8 (Ctrl-C to the process group of ``calibrate --workers 2``), 9
(SIGKILL or SIGTERM of ``validate --workers 2`` and ``calibrate --workers 2`` leave no
worker behind: every pool's workers, pyabc's too, watch their parent) and 9b (``--out``
read-only, a file, or on a full disk, for calibrate, validate and discover: one line
naming the folder and the OS error, earlier results untouched). The disk tests mount a
small tmpfs (root only, as tests/test_faults.py does) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from model.cli import main
from tests import test_faults
from tests.conftest import ROOT
from tests.test_calibration import TRUTH, _config, _write_config, _write_synthetic
from tests.test_decision import _synthetic_sweep
from tests.test_faults import ENV, alive, children, fill, mtsim_cmd

small_disk = test_faults.small_disk  # the fixture: a 3 MB tmpfs (root only)
LIMIT_SECONDS = 2.0  # the requirement for a refusal
EARLIER = {
    "validation": "validation.json",
    "calibration": "posterior.csv",
    "discovery": "boxes.csv",
}


def tiny_calibration(folder: Path, workers: int = 2, long: bool = False) -> Path:
    """A calibration of the twin world small enough to fit in a few seconds (``long``: a
    budget it cannot finish before a test stops it, so that the stop never races the
    fit's end)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_synthetic(folder, TRUTH)
    config = _config(folder)
    budget = (
        {"max_generations": 30, "max_simulations": 100_000}
        if long
        else {
            "max_generations": 2,
            "max_simulations": 100,
        }
    )
    config["abc"].update(population_size=10, workers=workers, **budget)
    return _write_config(folder, config)


def start(*args: str) -> subprocess.Popen:
    """Start ``mtsim ARGS`` as the leader of its own process group, with Ctrl-C as a
    terminal gives it.

    A shell starts a background job (``.ci/run &``, ``nohup ... &``) with SIGINT
    ignored, every child inherits that, and Python then leaves it ignored: Ctrl-C would
    never reach mtsim (the cause of this test's failures in background CI runs, where
    the fit went on and sometimes finished with exit 0). The child gets SIGINT's default
    back, as a command typed in a terminal has it.
    """
    return subprocess.Popen(
        mtsim_cmd(*args),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_workers(proc: subprocess.Popen, count: int = 2, seconds: float = 60) -> set[int]:
    """Wait until ``proc`` has ``count`` child processes; return them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = children(proc.pid)
        if len(found) >= count:
            time.sleep(0.5)  # let them start working
            return children(proc.pid)
        assert proc.poll() is None, proc.communicate()[1].decode()
        time.sleep(0.05)
    raise AssertionError("the workers did not start in time")


def assert_gone(workers: set[int], seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(w) for w in workers), f"workers outlived mtsim by {seconds} s"


def stop(proc: subprocess.Popen, how: signal.Signals, group: bool = False) -> str:
    """Send ``how`` to mtsim (or its whole process group); return its stderr."""
    try:
        if group:
            os.killpg(proc.pid, how)
        else:
            os.kill(proc.pid, how)
        return proc.communicate(timeout=60)[1].decode()
    finally:
        if proc.poll() is None:
            proc.kill()


def leftovers(folder: Path) -> list[str]:
    """Hidden staging folders next to ``folder`` or in it."""
    near = [p.name for p in folder.parent.glob(f".{folder.name}.mtsim-*")]
    return near + [p.name for p in folder.glob(".mtsim-staging-*")]


def earlier_results(out: Path, kind: str) -> dict[str, bytes]:
    """Put an earlier result file into ``out``; return the folder's contents."""
    out.mkdir(parents=True, exist_ok=True)
    (out / EARLIER[kind]).write_text(f"earlier {kind}\n")
    return contents(out)


def contents(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir()}


# --------------------------------------------------------------------------- orphans (item 9)


@pytest.mark.subprocess
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_validate_leaves_no_workers_and_no_partial_folder(tmp_path, how):
    out = tmp_path / "val"
    before = earlier_results(out, "validation")
    args = ("validate", "--quick", "--only", "ic_percolation", "--workers", "2", "--out", str(out))
    proc = start(*args)
    workers = wait_for_workers(proc)
    stderr = stop(proc, how)
    assert_gone(workers)
    assert contents(out) == before
    if how == signal.SIGTERM:
        assert proc.returncode == 143 and "Traceback" not in stderr
        assert stderr.strip().splitlines()[-1] == (
            f"mtsim: validate terminated (SIGTERM); nothing written, {out}/ is as it was"
        )
        assert leftovers(out) == []
    else:  # the staging folder of the killed run is removed by the next run into out
        assert len(leftovers(out)) == 1
        done = subprocess.run(
            mtsim_cmd("validate", "--quick", "--only", "bass", "--out", str(out)),
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert leftovers(out) == []
        assert {"bass.png", "validation.json", "validation.md"} <= set(contents(out))


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("how", "group", "code"),
    [
        (signal.SIGKILL, False, -9),
        (signal.SIGTERM, False, 143),
        (signal.SIGINT, True, 130),
    ],
    ids=["SIGKILL", "SIGTERM", "Ctrl-C-to-the-group"],
)
def test_stopped_calibrate_leaves_no_workers_and_says_so_in_one_line(tmp_path, how, group, code):
    config = tiny_calibration(tmp_path, long=True)
    out = tmp_path / "fit"
    before = earlier_results(out, "calibration")
    proc = start("calibrate", str(config), "--out", str(out), "--quiet")
    workers = wait_for_workers(proc)  # pyabc's workers (and multiprocessing's tracker)
    stderr = stop(proc, how, group=group)
    assert_gone(workers)
    assert proc.returncode == code
    assert contents(out) == before
    if how != signal.SIGKILL:
        how_said = "interrupted" if how == signal.SIGINT else "terminated (SIGTERM)"
        assert stderr.strip().splitlines() == [
            f"mtsim: calibrate {how_said}; nothing written, {out}/ is as it was"
        ]
        assert leftovers(out) == []


# --------------------------------------------------------------------------- folders (item 9b)


def refused(args: list[str], capsys) -> str:
    """Run ``mtsim ARGS`` here: exit 2, one line, no traceback, under 2 s; return the line."""
    start_time = time.perf_counter()
    code = main(args)
    seconds = time.perf_counter() - start_time
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert seconds < LIMIT_SECONDS, f"{seconds:.1f} s"
    return lines[-1]


def commands(root: Path, config: Path, sweep: Path) -> dict[str, list[str]]:
    """Each command with its output folder under ``root``, by the kind of result it writes."""
    return {
        "calibration": ["calibrate", str(config), "--out", str(root / "calibration")],
        "validation": ["validate", "--quick", "--only", "bass", "--out", str(root / "validation")],
        "discovery": [
            "discover",
            str(sweep),
            "--outcome",
            "payment_adoption_final < 0.5",
            "--out",
            str(root / "discovery"),
        ],
    }


@pytest.fixture
def inputs(tmp_path) -> tuple[Path, Path]:
    """A tiny calibration file and a synthetic sweep."""
    config = tiny_calibration(tmp_path / "input", workers=1)
    sweep = tmp_path / "sweep"
    _synthetic_sweep(sweep)
    return config, sweep


def test_read_only_out_is_one_line_and_earlier_results_stay(small_disk, inputs, capsys):
    runs = commands(small_disk, *inputs)
    before = {kind: earlier_results(small_disk / kind, kind) for kind in runs}
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True)
    if remount.returncode != 0:
        pytest.skip(f"cannot remount read-only ({remount.stderr.decode().strip()})")
    for kind, args in runs.items():
        line = refused(args, capsys)
        assert line == (
            f"mtsim: error: --out: {small_disk / kind}: cannot write results "
            f"(Read-only file system); earlier results in {small_disk / kind}/ are unchanged"
        )
        assert contents(small_disk / kind) == before[kind]
    new = refused([*runs["validation"][:-1], str(small_disk / "new" / "val")], capsys)
    assert "cannot write results (Read-only file system)" in new


def test_unwritable_out_is_one_line(tmp_path, inputs, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("permissions do not hold for this user (root)")
        for kind, args in commands(locked, *inputs).items():
            line = refused(args, capsys)
            assert f"--out: {locked / kind}: cannot write results (Permission denied)" in line
    finally:
        locked.chmod(0o755)


def test_out_that_is_a_file_is_one_line(tmp_path, inputs, capsys):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    for args in commands(tmp_path, *inputs).values():
        line = refused([*args[:-1], str(taken)], capsys)
        assert line == f"mtsim: error: --out: {taken}: is a file, not a folder; choose a folder"
        line = refused([*args[:-1], str(taken / "sub")], capsys)
        assert line == f"mtsim: error: --out: {taken / 'sub'}: {taken} is a file, not a folder"
    assert taken.read_text() == "mine"


@pytest.mark.parametrize("kind", ["validation", "discovery", "calibration"])
def test_full_disk_is_one_line_and_earlier_results_stay(small_disk, inputs, capsys, kind):
    args = commands(small_disk, *inputs)[kind]
    out = small_disk / kind
    before = earlier_results(out, kind)
    fill(small_disk, leave=4096)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"mtsim: error: --out: {out}: cannot write results (No space left on device); "
        f"earlier results in {out}/ are unchanged"
    )
    assert contents(out) == before
    assert leftovers(out) == []

"""``mtsim viz [SCENARIO.yaml] [--port P]``: serve the student page on this computer.

Checks the input first (the files and the port, then the scenario's contents) and
only then imports the heavy parts, so a mistake is reported within a second. Then it
makes sure the page's browser files are installed for offline use
(model/viz/assets.py), runs the server (``python -m model.viz.server``: Solara bound
to 127.0.0.1, loopback Host headers only, websockets from the page's own origin only)
as a child process and prints the address once the server answers. Ctrl+C or SIGTERM
stops the server: it gets SIGTERM and, if it has not ended within :data:`STOP_GRACE`
seconds (open browser sessions make Solara wait), SIGKILL.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from model.errors import UserError

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
STARTUP_TIMEOUT = 90.0
STOP_GRACE = 1.0
"""Seconds the server may take to end after SIGTERM before it is killed."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``viz`` subcommand to the ``mtsim`` parser."""
    parser = subparsers.add_parser(
        "viz",
        help="watch the market in a browser (network, charts, policy sliders)",
        description=(
            "Start the student visualization (Mesa SolaraViz) on http://127.0.0.1:PORT/ "
            "and print its address. The scenario picker lists the scenarios folder; "
            "SCENARIO is shown first."
        ),
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO.yaml",
        help="scenario shown first (default: scenarios/baseline.yaml)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--scenario-dir",
        metavar="DIR",
        help="folder the scenario picker lists (default: the project's scenarios/)",
    )
    parser.set_defaults(func=handle)


def check_port(port: int) -> int:
    """Return the port to use: ``port`` if free, any free one for 0; else UserError."""
    if port == 0:
        from model.viz.server import free_port  # commands import viz lazily (the layers)

        return free_port()
    if not 0 < port < 65536:
        raise UserError(f"--port {port}: not a port number (1 to 65535, or 0 for any free port)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            raise UserError(
                f"--port {port}: already in use on {HOST} (choose another, or --port 0)"
            ) from None
    return port


def server_command(port: int) -> list[str]:
    """Return the command line that runs the page's server (model/viz/server.py)."""
    return [
        sys.executable,
        "-m",
        "model.viz.server",
        "--port",
        str(port),
        "--parent",
        str(os.getpid()),
    ]


def server_environment(scenario: Path | None, scenario_dir: Path | None) -> dict[str, str]:
    """Return the server's environment: the first scenario and the picker's folder."""
    from model.viz.paths import ENV_SCENARIO, ENV_SCENARIO_DIR

    env = dict(os.environ)
    if scenario is not None:
        env[ENV_SCENARIO] = str(scenario.resolve())
    if scenario_dir is not None:
        env[ENV_SCENARIO_DIR] = str(scenario_dir.resolve())
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    return env


def _answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _ensure_assets() -> None:
    from model.viz.assets import AssetError, install_packages

    try:
        done = install_packages()
    except AssetError as exc:
        print(
            f"mtsim viz: warning: {exc}; without them the page needs Internet access",
            file=sys.stderr,
        )
        return
    if done:
        names = ", ".join(f"{n}@{v}" for n, v in done)
        print(f"mtsim viz: installed the page's browser files ({names})", file=sys.stderr)


def check_input(args: argparse.Namespace) -> tuple[Path | None, Path | None, int]:
    """Check the command's input without heavy imports; return (scenario, folder, port).

    Raises:
        UserError: a missing folder or file, a bad or busy port, a scenario that does
            not validate, or Solara not installed.
    """
    from model.viz.paths import DEFAULT_SCENARIO, scenario_dir

    folder = Path(args.scenario_dir) if args.scenario_dir else None
    if folder is not None and not folder.is_dir():
        raise UserError(f"--scenario-dir {folder}: not a folder")
    scenario = Path(args.scenario) if args.scenario else None
    if scenario is None:
        base = folder or scenario_dir()
        if not (base / DEFAULT_SCENARIO).is_file():
            raise UserError(
                f"{base / DEFAULT_SCENARIO}: no such file; name a scenario: mtsim viz SCENARIO.yaml"
            )
    elif not scenario.is_file():
        raise UserError(f"{scenario}: no such scenario file")
    port = check_port(args.port)
    if importlib.util.find_spec("solara") is None:
        raise UserError("mtsim viz needs Solara: install the viz extra (pip install -e '.[viz]')")
    if scenario is not None:
        from model.scenario import load_scenario

        load_scenario(scenario)  # a bad file stops here with its one-line errors
    return scenario, folder, port


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server; SIGKILL it if it is still there after :data:`STOP_GRACE` s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def handle(args: argparse.Namespace) -> int:
    """Run ``mtsim viz``: check the input, start the server, wait until it stops."""
    from model.viz.paths import DEFAULT_SCENARIO, scenario_dir

    scenario, folder, port = check_input(args)
    _ensure_assets()

    process = subprocess.Popen(server_command(port), env=server_environment(scenario, folder))
    stopping = False

    def on_sigterm(signum, frame):
        # only set a flag: the main loop below polls it and stops the server
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        announced = False
        while not stopping:
            if process.poll() is not None:
                if not announced:
                    raise UserError(
                        f"the Solara server stopped while starting (exit code {process.returncode})"
                    )
                return int(process.returncode or 0)
            if not announced:
                if _answers(port):
                    shown = scenario or (folder or scenario_dir()) / DEFAULT_SCENARIO
                    print(
                        f"mtsim viz: {shown} at http://{HOST}:{port}/  (Ctrl+C stops)",
                        flush=True,
                    )
                    announced = True
                elif time.monotonic() > deadline:
                    _stop(process)
                    raise UserError(f"the Solara server did not answer on port {port} in time")
            time.sleep(0.1)
        _stop(process)
        return 0
    except KeyboardInterrupt:
        _stop(process)
        print("mtsim viz: stopped", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)

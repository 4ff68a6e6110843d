"""``mtsim viz [SCENARIO.yaml] [--port P]``: serve the student page on this computer.

Checks the scenario, makes sure the page's browser files are installed for offline
use (model/viz/assets.py), then runs ``solara run model.viz.app`` bound to
127.0.0.1 as a child process and prints the address once the server answers.
Ctrl+C (or SIGTERM) stops the server.
"""

from __future__ import annotations

import argparse
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
    parser.set_defaults(func=handler)


def free_port() -> int:
    """Find a port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def check_port(port: int) -> int:
    """Return the port to use: ``port`` if free, any free one for 0; else UserError."""
    if port == 0:
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
    """Return the command line that runs the Solara server for the page."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "model.viz.app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]


def server_environment(scenario: Path | None, scenario_dir: Path | None) -> dict[str, str]:
    """Return the server's environment: the first scenario and the picker's folder."""
    from model.viz.app import ENV_SCENARIO, ENV_SCENARIO_DIR

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


def handler(args: argparse.Namespace) -> int:
    """Run ``mtsim viz``: check the input, start the server, wait until it stops."""
    try:
        import solara  # noqa: F401
    except ImportError:
        raise UserError(
            "mtsim viz needs Solara: install the viz extra (pip install -e '.[viz]')"
        ) from None
    from model.scenario import load_scenario
    from model.viz.app import DEFAULT_SCENARIO, scenario_dir

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
    if scenario is not None:
        load_scenario(scenario)  # a bad file stops here with its one-line errors
    port = check_port(args.port)
    _ensure_assets()

    process = subprocess.Popen(server_command(port), env=server_environment(scenario, folder))
    stopping = False

    def stop(signum, frame):
        # only pass the signal on: the main thread may be inside process.wait(), which
        # holds the wait lock, so waiting here again would stall until a timeout
        nonlocal stopping
        stopping = True
        process.send_signal(signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(port):
            if process.poll() is not None:
                if stopping:
                    return 0
                raise UserError(
                    f"the Solara server stopped while starting (exit code {process.returncode})"
                )
            if time.monotonic() > deadline:
                process.terminate()
                raise UserError(f"the Solara server did not answer on port {port} in time")
            time.sleep(0.2)
        shown = scenario or (folder or scenario_dir()) / DEFAULT_SCENARIO
        print(f"mtsim viz: {shown} at http://{HOST}:{port}/  (Ctrl+C stops)", flush=True)
        code = process.wait()
        return 0 if stopping else int(code or 0)
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        print("mtsim viz: stopped", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)

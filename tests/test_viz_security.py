"""The page's server refuses cross-site websockets and the page refuses lever values off its range.

Websockets: the server (``python -m model.viz.server``, what ``mtsim viz`` runs) is
started on a free port of 127.0.0.1 in its own process group and stopped at the end;
a real websocket client (websocket-client) opens the page's kernel channel with
several ``Origin`` headers. Only the page's own origin gets a kernel that answers.

Lever values: the public API (``build_scenario``, ``StudentMarket``) refuses -1, NaN
and values above a lever's maximum with one line; the page itself keeps the last
valid value and shows that line under the slider (rendered with ``solara.render``,
the slider widget set as a forged websocket message would set it).
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from model.errors import UserError
from model.levers import LEVER_MAX
from model.viz.app import LEVER_CONTROLS, StudentMarket, build_scenario
from tests.conftest import stop_process_group

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"

websocket = pytest.importorskip("websocket", reason="needs websocket-client (test extra)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The page's server on a free port of 127.0.0.1; yields (port, log file)."""
    from model.viz.server import free_port

    port = free_port()
    log_path = tmp_path_factory.mktemp("viz-security") / "server.log"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "model.viz.server", "--port", str(port)],
        cwd=ROOT,
        env=dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)
        yield port, log_path
    finally:
        stop_process_group(process)
        log.close()


def kernel_url(port: int) -> str:
    """The address of a fresh kernel channel, as the page's JavaScript opens it."""
    return (
        f"ws://127.0.0.1:{port}/jupyter/api/kernels/{uuid.uuid4()}/channels"
        f"?session_id={uuid.uuid4()}"
    )


def open_channel(port: int, origin: str | None):
    """Open the kernel channel with this Origin header (None: no Origin header at all)."""
    options = {"suppress_origin": True} if origin is None else {"origin": origin}
    return websocket.create_connection(kernel_url(port), timeout=60, **options)


def handshake_status(port: int, origin: str | None) -> int:
    """The HTTP status of the websocket handshake: 101 (opened) or the refusal's."""
    try:
        channel = open_channel(port, origin)
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    status = channel.getstatus()
    channel.close()
    return status


def kernel_info_reply(channel) -> dict:
    """Send a ``kernel_info_request`` on the shell channel and return the reply."""
    msg_id = uuid.uuid4().hex
    channel.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "kernel_info_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "date": "2026-01-01T00:00:00Z",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        message = channel.recv()
        if isinstance(message, str):
            reply = json.loads(message)
            if reply.get("parent_header", {}).get("msg_id") == msg_id and (
                reply["header"]["msg_type"] == "kernel_info_reply"
            ):
                return reply
    pytest.fail("no kernel_info_reply within 60 s")


@pytest.mark.subprocess
def test_the_pages_own_origin_gets_a_kernel(server):
    port, _ = server
    channel = open_channel(port, f"http://127.0.0.1:{port}")
    try:
        assert channel.getstatus() == 101
        assert kernel_info_reply(channel)["content"]["status"] == "ok"
    finally:
        channel.close()


@pytest.mark.subprocess
def test_a_foreign_null_or_missing_origin_is_refused(server):
    port, log_path = server
    refused = {
        "http://evil.example": 403,
        f"http://evil.example:{port}": 403,
        "null": 403,
        f"https://127.0.0.1:{port}": 403,
        f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}": 403,
        f"http://localhost:{port}": 403,  # the page at 127.0.0.1 is another origin
        None: 403,
    }
    assert {origin: handshake_status(port, origin) for origin in refused} == refused
    log = log_path.read_text(encoding="utf-8")
    assert "refused a websocket from origin 'http://evil.example'" in log
    assert "refused a websocket from origin 'null'" in log
    assert "Traceback" not in log
    # ... and the page's own origin still opens
    assert handshake_status(port, f"http://127.0.0.1:{port}") == 101


def test_origin_check_compares_scheme_host_and_port():
    from model.viz.server import origin_allowed

    for origin, host in (
        ("http://127.0.0.1:8765", "127.0.0.1:8765"),
        ("http://localhost:8765", "LOCALHOST:8765"),
        ("http://[::1]:8765", "[::1]:8765"),
        ("http://localhost", "localhost:80"),
    ):
        assert origin_allowed(origin, host), (origin, host)
    for origin, host in (
        ("http://evil.example", "127.0.0.1:8765"),
        ("null", "127.0.0.1:8765"),
        ("", "127.0.0.1:8765"),
        (None, "127.0.0.1:8765"),
        ("http://127.0.0.1:8766", "127.0.0.1:8765"),
        ("https://127.0.0.1:8765", "127.0.0.1:8765"),
        ("http://localhost:8765", "127.0.0.1:8765"),
        ("http://127.0.0.1:8765/page", "127.0.0.1:8765"),
        ("http://evil.example:8765", "evil.example:8765"),  # a foreign Host is refused too
        ("http://127.0.0.1:8765", None),
    ):
        assert not origin_allowed(origin, host), (origin, host)


# --------------------------------------------------------------------------- lever values


@pytest.mark.parametrize("level", [-1.0, math.nan, math.inf, 1.5, "0.5", True])
def test_the_scenario_builder_refuses_a_lever_value_off_its_range(level):
    with pytest.raises(UserError) as refused:
        build_scenario(str(BASELINE), 300, {"payment_security": level})
    message = str(refused.value)
    assert message.startswith("viz: Payment security: ") and "from 0 to 1" in message
    assert len(message.splitlines()) == 1
    with pytest.raises(UserError):
        StudentMarket(consumers=300, payment_security=level)


def test_the_scenario_builder_accepts_each_levers_whole_range():
    for lever in LEVER_CONTROLS:
        for level in (0.0, LEVER_MAX[lever]):
            build_scenario(str(BASELINE), 300, {lever: level})
    for consumers in (-1, 0, 2, 49, 2001, math.nan, 300.5):
        with pytest.raises(UserError, match="viz: Consumers: .* from 50 to 2,000"):
            build_scenario(str(BASELINE), consumers, {})


def test_the_page_keeps_the_last_valid_value_and_says_why():
    """A forged slider value (what a websocket message can set) is refused on the page."""
    import solara
    import solara.widgets
    from ipyvuetify import Slider

    from model.viz import MtsimPage

    box, rc = solara.render(MtsimPage(scenario=BASELINE, consumers=300), handle_error=False)
    try:

        def slider(label: str) -> Slider:
            return next(w for w in rc.find(Slider).widgets if w.label.startswith(label))

        def shown() -> str:
            return " ".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)

        security = slider("Payment security")
        security.v_model = 0.5
        rc.find(Slider, label="Payment security: 0.50").assert_single()
        for forged in (-1, float("nan"), 7):
            slider("Payment security").v_model = forged
            assert "Payment security: " in shown() and "is not a level from 0 to 1" in shown()
            rc.find(Slider, label="Payment security: 0.50").assert_single()  # kept
            assert slider("Payment security").v_model == 0.5  # redrawn at the kept value
            assert "Payment security 0.50" in shown()  # the waiting change is the valid one
        slider("Payment security").v_model = 0.25
        rc.find(Slider, label="Payment security: 0.25").assert_single()
        assert "is not a level" not in shown()
    finally:
        rc.close()

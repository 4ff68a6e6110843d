"""The student visualization in a real headless browser (Debian's chromium + Playwright).

The module starts ``mtsim viz`` (the real command) on a free port of 127.0.0.1 in its
own process group, drives the page like a student would, saves a screenshot per test
in test-artifacts/, and stops the server's whole process group at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.viz.app import DEFAULT_CONSUMERS
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip, stop_process_group

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT_MS = 30_000

playwright_api = playwright_or_skip()


@pytest.fixture(scope="module")
def scenario_folder(tmp_path_factory) -> Path:
    """The picker's folder: the baseline and a three-region variant of it."""
    folder = tmp_path_factory.mktemp("viz-scenarios")
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", folder / "baseline.yaml")
    (folder / "three_regions.yaml").write_text(
        "extends: baseline.yaml\n"
        "name: three_regions\n"
        "description: The baseline with a third region.\n"
        "regions:  # adding a region: list every region\n"
        "  domestic: {population_share: 0.6, merchant_share: 0.6}\n"
        "  foreign: {population_share: 0.2, merchant_share: 0.2}\n"
        "  overseas: {population_share: 0.2, merchant_share: 0.2}\n",
        encoding="utf-8",
    )
    return folder


SERVER_LOG: list[Path] = []


@pytest.fixture(scope="module")
def server(scenario_folder, tmp_path_factory):
    """``mtsim viz`` on a free port; yields its address and stops its process group."""
    from model.viz.assets import AssetError, install_packages
    from model.viz.server import free_port

    try:
        install_packages()
    except AssetError as exc:
        pytest.skip(f"the page's browser files are missing and cannot be installed: {exc}")
    port = free_port()
    log_path = tmp_path_factory.mktemp("viz-server") / "server.log"
    SERVER_LOG.append(log_path)
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "model.cli",
            "viz",
            str(scenario_folder / "baseline.yaml"),
            "--port",
            str(port),
            "--scenario-dir",
            str(scenario_folder),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    address = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while address not in log_path.read_text(encoding="utf-8"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "mtsim viz did not start:\n" + log_path.read_text(encoding="utf-8")[-3000:]
                )
            time.sleep(0.25)
        yield address
    finally:
        stop_process_group(process)
        log.close()


@pytest.fixture(scope="module")
def browser_context():
    """One headless chromium for the module, one context (its cache keeps page loads short)."""
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = chromium.new_context(viewport={"width": 1400, "height": 1800})
        yield context
        context.close()
        chromium.close()


@pytest.fixture()
def page(server, browser_context, request):
    """A fresh page (its own session and model); a screenshot is saved after the test."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(TIMEOUT_MS)
    tab.goto(server)
    tab.wait_for_selector("#mtsim-network")
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"viz-{request.node.name}.png"), full_page=True)
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def week(tab) -> str:
    return tab.inner_text("#mtsim-week")


def click_button(tab, name: str) -> None:
    tab.get_by_role("button", name=name, exact=True).click()


def slider(tab, label: str):
    return tab.locator(".v-slider", has_text=label).get_by_role("slider")


def test_page_loads(page):
    assert week(page) == "Week 0"
    assert page.inner_text("#mtsim-scenario") == "baseline"
    for name in ("Reset", "Step"):
        assert page.get_by_role("button", name=name, exact=True).is_visible()
    assert page.get_by_text("What is this?").is_visible()
    assert page.locator("#mtsim-chart-adoption").is_visible()
    assert page.locator(".mtsim-network-background .mtsim-ties").count() == 1


def test_network_view_shows_every_consumer(page):
    n = DEFAULT_CONSUMERS
    assert page.inner_text("#mtsim-consumer-count") == f"{n:,} consumers shown"
    assert page.locator("#mtsim-network .consumer").count() == n
    from model.viz.app import build_scenario, scaled_population

    expected = scaled_population(
        build_scenario(str(ROOT / "scenarios" / "baseline.yaml"), n, {}), n
    )
    assert page.locator("#mtsim-network .mtsim-merchant").count() == expected["merchants"]
    assert page.locator("#mtsim-network .mtsim-kol").count() == expected["kols"]
    counts = page.locator(".mtsim-stage-count").all_inner_texts()
    assert sum(int(c) for c in counts) == n


def test_step_changes_the_counter_and_the_charts(page):
    chart = page.locator("#mtsim-chart-adoption")
    assert chart.get_attribute("data-points") == "1"
    line_before = page.locator('#mtsim-chart-adoption [data-metric="aware_share"]').get_attribute(
        "d"
    )
    click_button(page, "Step")
    page.wait_for_function("document.querySelector('#mtsim-week').textContent === 'Week 1'")
    click_button(page, "Step")
    page.wait_for_function("document.querySelector('#mtsim-week').textContent === 'Week 2'")
    # each part of the page is its own widget update: wait for the chart's, do not race it
    page.wait_for_selector('#mtsim-chart-adoption[data-points="3"]')
    line_after = page.locator('#mtsim-chart-adoption [data-metric="aware_share"]').get_attribute(
        "d"
    )
    assert line_after != line_before and line_after.count("L") == 2
    page.wait_for_selector('#mtsim-chart-orders[data-points="3"]')
    page.wait_for_selector('#mtsim-network[data-step="2"]')
    assert page.inner_text("#mtsim-value-week") == "2 of 156"


def test_play_and_pause(page):
    click_button(page, "▶")
    page.wait_for_function(
        "parseInt(document.querySelector('#mtsim-week').textContent.split(' ')[1]) >= 3"
    )
    click_button(page, "❚❚")
    page.wait_for_function("!document.querySelector('button[disabled]')")  # Step usable again
    time.sleep(1.0)  # a step already under way when pausing may still land
    stopped = week(page)
    time.sleep(1.5)
    assert week(page) == stopped


def test_slider_and_reset_rebuild_the_model(page):
    click_button(page, "Step")
    page.wait_for_function("document.querySelector('#mtsim-week').textContent === 'Week 1'")
    consumers = slider(page, "Consumers")
    consumers.focus()
    page.keyboard.press("ArrowLeft")  # one step of 50
    fewer = DEFAULT_CONSUMERS - 50
    page.wait_for_function(
        f"document.querySelectorAll('.v-slider [aria-valuenow=\"{fewer}\"]').length === 1"
    )
    infrastructure = slider(page, "Infrastructure")
    infrastructure.focus()
    page.keyboard.press("End")  # to its maximum, 1
    assert infrastructure.get_attribute("aria-valuenow") == "1"
    time.sleep(0.5)  # the browser sends slider values to the server a moment later
    click_button(page, "Reset")
    page.wait_for_function(
        "document.querySelector('#mtsim-consumer-count').textContent === "
        f"'{fewer:,} consumers shown'"
    )
    page.wait_for_function(
        f"document.querySelectorAll('#mtsim-network .consumer').length === {fewer}"
    )
    page.wait_for_function(
        "document.querySelector('#mtsim-settings').textContent.includes('Infrastructure 1.00')"
    )
    assert week(page) == "Week 0"
    assert f"{fewer:,} consumers" in page.inner_text("#mtsim-settings")
    click_button(page, "Step")
    page.wait_for_function(
        "document.querySelector('#mtsim-value-policies').textContent === 'infrastructure 1.00'"
    )


def pick_scenario(tab, name: str) -> None:
    tab.locator(".v-select", has_text="Scenario").locator(".v-field__input").click()
    tab.get_by_role("option", name=name).click()


def test_scenario_switch_shows_the_pending_change_until_reset(page):
    pick_scenario(page, "three_regions.yaml")
    # the running market is still the baseline, and the header says a change is waiting
    page.wait_for_selector("#mtsim-pending")
    assert "three_regions.yaml" in page.inner_text("#mtsim-pending")
    assert page.inner_text("#mtsim-scenario") == "baseline"
    assert page.locator(".mtsim-region-label").count() == 2
    click_button(page, "Reset")
    page.wait_for_function(
        "document.querySelector('#mtsim-scenario').textContent === 'three_regions'"
    )
    page.wait_for_selector("#mtsim-pending", state="detached")
    page.wait_for_function("document.querySelectorAll('.mtsim-region-label').length === 3")
    labels = page.locator(".mtsim-region-label").all_text_contents()
    assert labels == ["domestic", "foreign", "overseas"], labels
    page.wait_for_selector(f'#mtsim-network[data-consumers="{DEFAULT_CONSUMERS}"]')
    assert page.locator("#mtsim-network .consumer").count() == DEFAULT_CONSUMERS
    assert week(page) == "Week 0"


def expected_spending(**levers) -> tuple[str, str]:
    """The model's own spending after one week with these sliders: (lever's, total)."""
    from model.metrics import format_metric
    from model.viz.app import StudentMarket

    model = StudentMarket(consumers=DEFAULT_CONSUMERS, **levers)
    model.step()
    (lever,) = levers
    total = model.market.datacollector.model_vars["policy_cost"][-1]
    return (
        format_metric("policy_cost", model.lever_spending()[lever]),
        format_metric("policy_cost", total),
    )


def test_lever_slider_shows_the_models_spending(page):
    lever_spend, total = expected_spending(payment_security=1.0)
    assert float(lever_spend.replace(",", "")) > 0  # the check below tests a real amount
    security = slider(page, "Payment security")
    security.focus()
    page.keyboard.press("End")
    page.wait_for_function(
        "[...document.querySelectorAll('.v-slider')].some("
        "s => s.textContent.includes('Payment security: 1.00'))"
    )
    time.sleep(0.5)  # the browser sends slider values to the server a moment later
    assert page.inner_text("#mtsim-spend-payment_security") == "not acting in this run"
    click_button(page, "Reset")
    click_button(page, "Step")
    page.wait_for_function("document.querySelector('#mtsim-week').textContent === 'Week 1'")
    page.wait_for_function(
        "document.querySelector('#mtsim-spend-payment_security').textContent === "
        f"'spending {lever_spend} a week'"
    )
    # the numbers panel is another component: it re-renders a moment after the sliders'
    page.wait_for_function(
        f"document.querySelector('#mtsim-value-policy_cost').textContent === '{total}'"
    )
    assert page.inner_text("#mtsim-value-policy_cost") == total


def test_week_is_the_same_number_everywhere(page):
    for expected in (1, 2, 3):
        click_button(page, "Step")
        page.wait_for_function(
            f"document.querySelector('#mtsim-week').textContent === 'Week {expected}'"
        )
    page.wait_for_function(
        "document.querySelector('#mtsim-sidebar-week').textContent === 'Week 3 of 156'"
    )
    page.wait_for_function("document.querySelector('#mtsim-value-week').textContent === '3 of 156'")
    page.wait_for_selector('#mtsim-chart-adoption[data-points="4"]')  # weeks 0, 1, 2, 3
    page.wait_for_selector('#mtsim-network[data-step="3"]')


def test_slider_values_and_trust_read_the_same_way_everywhere(page):
    # every slider's value is visible without touching it
    texts = page.locator(".v-slider").all_inner_texts()
    assert any(f"Consumers: {DEFAULT_CONSUMERS:,}" in t for t in texts), texts
    assert any("Coupons: 0.00" in t for t in texts), texts
    click_button(page, "Step")
    page.wait_for_function("document.querySelector('#mtsim-week').textContent === 'Week 1'")
    page.wait_for_selector('#mtsim-chart-trust[data-points="2"]')
    panel = page.inner_text("#mtsim-value-mean_trust_domestic")
    assert re.fullmatch(r"\d{1,3}\.\d", panel), panel  # an index from 0 to 100, one decimal
    legend = page.locator("#mtsim-chart-trust + div").inner_text()
    assert f"Trust in domestic sellers: {panel}" in legend, legend


BOXES = """selector => [...document.querySelectorAll(selector)].map(e => {
  const b = e.getBoundingClientRect();
  return {text: e.textContent.trim().slice(0, 40), left: b.left, right: b.right,
          top: b.top, bottom: b.bottom};
})"""
"""JavaScript: the bounding box (and the start of the text) of every element matching a selector."""


def overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def test_slider_value_bubbles_clear_the_slider_above(page):
    """Each slider's value bubble sits above its handle, clear of everything else above."""
    from model.viz.app import LEVER_CONTROLS

    sliders = page.evaluate(BOXES, ".v-slider")
    bubbles = page.evaluate(BOXES, ".v-slider .v-slider-thumb__label")
    assert len(sliders) == len(bubbles) == 2 + len(LEVER_CONTROLS)  # play interval, consumers
    assert all(b["bottom"] - b["top"] > 10 for b in bubbles)  # shown, not collapsed
    others = page.evaluate(BOXES, ".mtsim-spend, .v-select, #mtsim-sidebar-week, button")
    for i, bubble in enumerate(bubbles):
        if i > 0:
            above = sliders[i - 1]
            assert not overlap(bubble, above), (sliders[i]["text"], "covers", above["text"])
        for other in [*sliders[:i], *sliders[i + 1 :], *others]:
            assert not overlap(bubble, other), (sliders[i]["text"], "covers", other["text"])


def test_title_is_shown_whole(page):
    """The app bar's title is not cut with an ellipsis, at a wide and at narrow windows."""
    from model.viz.app import TITLE

    title = page.locator(".v-app-bar .v-toolbar-title__placeholder")
    for width in (1400, 1024, 800):
        page.set_viewport_size({"width": width, "height": 1000})
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        assert title.inner_text() == TITLE
        size = title.evaluate("e => [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]")
        scroll_width, client_width, scroll_height, client_height = size
        assert scroll_width <= client_width and scroll_height <= client_height, (width, size)


def test_sessions_leave_no_warning_in_the_server_log(page, browser_context):
    second = browser_context.new_page()
    second.goto(page.url)
    second.wait_for_selector("#mtsim-network")
    second.close()
    log = SERVER_LOG[-1].read_text(encoding="utf-8")
    assert "samesite" not in log and "Traceback" not in log, log[-2000:]
    assert "http://127.0.0.1:" in log  # the log is the server's


def test_start_up_lines_are_the_ones_docs_viz_md_shows(server):
    """docs/viz.md shows the lines ``mtsim viz`` prints once the page answers."""
    text = (ROOT / "docs" / "viz.md").read_text(encoding="utf-8")
    shown = text.split("prints the address once the page answers:", 1)[1].split("```")[1]
    lines = shown.strip().splitlines()
    log = SERVER_LOG[-1].read_text(encoding="utf-8")
    assert len(lines) == 2, lines
    for line in lines:
        pattern = re.escape(line).replace("8765", r"\d+")
        pattern = pattern.replace(re.escape("/home/ana/mtsim/scenarios/"), r"\S+/")
        assert re.search(f"^{pattern}$", log, re.MULTILINE), (line, log[-2000:])


def test_server_refuses_other_host_names(server):
    """Against DNS rebinding: only loopback names in the Host header are answered."""
    import http.client

    port = int(server.rstrip("/").rsplit(":", 1)[1])
    answers = {}
    for host in ("evil.example", f"evil.example:{port}", f"localhost:{port}", f"127.0.0.1:{port}"):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.putrequest("GET", "/", skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        answers[host] = connection.getresponse().status
        connection.close()
    assert answers == {
        "evil.example": 400,
        f"evil.example:{port}": 400,
        f"localhost:{port}": 200,
        f"127.0.0.1:{port}": 200,
    }


def test_sigterm_stops_the_server_within_two_seconds(scenario_folder, browser_context):
    """SIGTERM to ``mtsim viz`` with a browser session open: everything gone within 2 s."""
    from model.viz.server import free_port

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "model.cli",
            "viz",
            "--port",
            str(port),
            "--scenario-dir",
            str(scenario_folder),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "Ctrl+C" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                pytest.fail("mtsim viz did not start")
        tab = browser_context.new_page()
        tab.goto(f"http://127.0.0.1:{port}/")
        tab.wait_for_selector("#mtsim-network", timeout=TIMEOUT_MS)
        children = (
            [
                int(p)
                for p in Path(f"/proc/{process.pid}/task/{process.pid}/children")
                .read_text()
                .split()
            ]
            if Path(f"/proc/{process.pid}/task").exists()
            else []
        )
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        elapsed = time.monotonic() - started
        tab.close()
        assert process.returncode == 0
        assert elapsed < 2.0, f"mtsim viz took {elapsed:.1f} s to stop"
        for pid in children:
            assert (
                not Path(f"/proc/{pid}").exists()
                or "zombie" in Path(f"/proc/{pid}/status").read_text()
            ), f"server process {pid} left behind"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (Linux /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_server_listens_on_loopback_only(server):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net/tcp to list listening sockets")
    port = int(server.rstrip("/").rsplit(":", 1)[1])
    assert server == f"http://127.0.0.1:{port}/"
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else


# --------------------------------------------------------------------------- JupyterLab


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab on a free port of 127.0.0.1 with a token, over a copy of the classroom notebook.

    The server's folder holds a copy of notebooks/05_classroom.ipynb and a link to
    scenarios/ (so the notebook finds the project), and JupyterLab's settings,
    workspaces and runtime files live in temporary folders: running the notebook
    never writes outputs into the committed file or the user's home. Yields
    (address, token); the server's process group is stopped at the end.
    """
    pytest.importorskip("jupyterlab", reason="the JupyterLab check needs jupyterlab (test extra)")
    import secrets

    from model.viz.server import free_port

    home = tmp_path_factory.mktemp("jupyterlab")
    served = home / "project"
    (served / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "05_classroom.ipynb", served / "notebooks")
    (served / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    notification = home / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}', encoding="utf-8"
    )
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        SOLARA_TELEMETRY_MIXPANEL_ENABLE="False",
    )
    log_path = home / "jupyterlab.log"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={served}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        cwd=served,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while f"127.0.0.1:{port}/lab" not in log_path.read_text(encoding="utf-8"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "JupyterLab did not start:\n" + log_path.read_text(encoding="utf-8")[-3000:]
                )
            time.sleep(0.25)
        yield address, token
    finally:
        stop_process_group(process)
        log.close()


def test_classroom_notebook_renders_the_page_inline_in_jupyterlab(jupyterlab, browser_context):
    """Open the classroom notebook in JupyterLab, run it, see the network view and a slider."""
    address, token = jupyterlab
    tab = browser_context.new_page()
    tab.set_default_timeout(120_000)
    try:
        tab.goto(f"{address}/lab/tree/notebooks/05_classroom.ipynb?token={token}")
        tab.wait_for_selector(".jp-Notebook .jp-Cell")
        tab.wait_for_function("window.jupyterapp !== undefined")
        # wait for the kernel, then Run > Run All Cells
        tab.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        # a fresh JupyterLab may ask which kernel to start: take the default (Python 3);
        # wait for that question or for the kernel, whichever comes first
        tab.wait_for_function(
            "() => document.querySelector('.jp-Dialog .jp-mod-accept') !== null"
            " || window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel"
            "?.status === 'idle'"
        )
        accept = tab.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
        tab.wait_for_selector(".jp-Dialog", state="detached")
        # (not awaited: the command's promise ends only when every cell has run)
        tab.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        network = tab.locator(".jp-OutputArea-output #mtsim-network")
        network.wait_for()
        slider = tab.locator(".jp-OutputArea-output .v-slider", has_text="Payment security")
        slider.wait_for()
        assert network.locator(".consumer").count() == 300
        assert slider.get_by_role("slider").is_visible()
        # the page works inside the notebook: one Step moves the week on
        tab.locator(".jp-OutputArea-output").get_by_role("button", name="Step", exact=True).click()
        tab.wait_for_function(
            "document.querySelector('.jp-OutputArea-output #mtsim-week').textContent === 'Week 1'"
        )
        tab.evaluate("document.querySelector('.jp-OutputArea-output #mtsim-week').scrollIntoView()")
        errors = tab.locator("[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
        assert not any("Traceback" in e or "Error" in e for e in errors), errors
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "jupyterlab-classroom.png"))
        tab.close()

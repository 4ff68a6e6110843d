"""Time the page's redraw per step in a real browser (needs Playwright and chromium).

``python -m model.viz.benchmark [--consumers 1000] [--weeks 10]`` starts
``mtsim viz`` on a free port of 127.0.0.1, sets the population slider, presses
Reset, steps 20 weeks to warm up, then times ``--weeks`` more clicks on Step: from
the click until the network, the charts and the week counter all show the new week
and the browser has painted twice. It also times the Python drawing alone. Run it
on a quiet machine: the numbers are wall-clock times.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
WARM_UP_WEEKS = 20


def python_drawing_ms(consumers: int, weeks: int) -> tuple[float, float]:
    """Median milliseconds of one model step and of drawing every picture of the page."""
    from model.viz.app import StudentMarket, readings
    from model.viz.drawing import CHARTS, chart_svg, legend_html, network_svg

    model = StudentMarket(consumers=consumers)
    for _ in range(WARM_UP_WEEKS):
        model.step()
    step_times, draw_times = [], []
    for _ in range(weeks):
        start = time.perf_counter()
        model.step()
        step_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        network_svg(model.market, model.layout)
        table = model.market.timeseries()
        for spec in CHARTS:
            chart_svg(spec, table, model.total_weeks)
        readings(model)
        legend_html(model.market)
        draw_times.append(time.perf_counter() - start)
    return 1000 * statistics.median(step_times), 1000 * statistics.median(draw_times)


def browser_redraw_ms(consumers: int, weeks: int) -> list[float]:
    """Milliseconds from clicking Step to the painted new week, for each timed week."""
    from playwright.sync_api import sync_playwright

    from model.viz.server import free_port

    port = free_port()
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, "-m", "model.cli", "viz", "--port", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        for line in server.stdout:
            if f"http://127.0.0.1:{port}/" in line:
                break
        else:
            raise SystemExit("mtsim viz did not start")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(60_000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#mtsim-network")
            slider = page.locator(".v-slider", has_text="Consumers").get_by_role("slider")
            slider.focus()
            while int(slider.get_attribute("aria-valuenow")) < consumers:
                page.keyboard.press("ArrowRight")
            while int(slider.get_attribute("aria-valuenow")) > consumers:
                page.keyboard.press("ArrowLeft")
            time.sleep(0.7)  # let the slider's value reach the server
            page.get_by_role("button", name="Reset", exact=True).click()
            page.wait_for_function(
                "n => document.querySelectorAll('#mtsim-network .consumer').length === n",
                arg=int(slider.get_attribute("aria-valuenow")),
            )
            times = []
            step = page.get_by_role("button", name="Step", exact=True)
            for week in range(1, WARM_UP_WEEKS + weeks + 1):
                start = time.perf_counter()
                step.click()
                page.wait_for_function(
                    """w => {
                      const net = document.querySelector('#mtsim-network');
                      const chart = document.querySelector('#mtsim-chart-cross_border');
                      return net && net.dataset.step === String(w) && chart
                        && chart.dataset.points === String(w + 1)
                        && document.querySelector('#mtsim-week').textContent === 'Week ' + w;
                    }""",
                    arg=week,
                    polling="raf",
                )
                page.evaluate(
                    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                )
                if week > WARM_UP_WEEKS:
                    times.append(1000 * (time.perf_counter() - start))
            browser.close()
        return times
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """``python -m model.viz.benchmark``."""
    parser = argparse.ArgumentParser(prog="python -m model.viz.benchmark", description=__doc__)
    parser.add_argument("--consumers", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=10, help="weeks timed after warming up")
    parser.add_argument("--no-browser", action="store_true", help="only the Python drawing")
    args = parser.parse_args(argv)
    step_ms, draw_ms = python_drawing_ms(args.consumers, args.weeks)
    print(
        f"{args.consumers} consumers: model step {step_ms:.1f} ms, "
        f"Python drawing of the page {draw_ms:.1f} ms (medians)"
    )
    if not args.no_browser:
        if not Path(CHROMIUM).exists():
            print(f"no browser timing: {CHROMIUM} is missing", file=sys.stderr)
            return 1
        times = browser_redraw_ms(args.consumers, args.weeks)
        print(
            f"{args.consumers} consumers: click Step to painted page: median "
            f"{statistics.median(times):.0f} ms, max {max(times):.0f} ms over {len(times)} weeks"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The compare and optimize reports fit a 1,400 px browser window (issue 30, item 4).

Both pages are made by small real runs (a three-scenario comparison and a six-mix search),
opened in Debian's headless chromium through Playwright at a 1,400 px wide window; the
page must not scroll sideways (wide tables are transposed, or scroll inside their own
box). A screenshot of each page is saved in test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
ARTIFACTS = ROOT / "test-artifacts"
WINDOW = 1400

playwright_api = playwright_or_skip()


@pytest.fixture(scope="module")
def compare_report(tmp_path_factory) -> Path:
    """A comparison of three shipped scenarios, 2 replications of 20 weeks, 300 consumers."""
    from model.workflows.compare import load_scenarios, run_comparison

    files = [SCENARIOS / f"{n}.yaml" for n in ("baseline", "payment_security", "integrity")]
    names, scenarios, sources = load_scenarios(files, ["population.consumers=300"])
    out = tmp_path_factory.mktemp("layout") / "compare"
    result = run_comparison(
        names, scenarios, out, reps=2, steps=20, sources=sources, progress=False
    )
    return result.files["report"]


@pytest.fixture(scope="module")
def optimize_report(tmp_path_factory) -> Path:
    """A search of six mixes of two levers with searched start weeks (four decision variables)."""
    from model.decision.optimize import load_problem
    from model.workflows.optimize import run_optimization

    folder = tmp_path_factory.mktemp("layout-optimize")
    path = folder / "problem.yaml"
    path.write_text(
        f"name: two_levers\nbase: {SCENARIOS / 'baseline.yaml'}\n"
        "set: {population.consumers: 300, population.merchants: 15, population.kols: 3}\n"
        "steps: 12\nreplications: 2\nseed: 3\nbudget: 6000\ntrials: 6\npopulation: 4\n"
        "batch: 3\nlevers:\n"
        "  - {lever: payment_security, strength: [0, 1], step: 0.125, start: [1, 6],"
        " fields_per_strength: {cost_per_step: 250}}\n"
        "  - {lever: integrity, strength: [0, 1], step: 0.125, start: [1, 6],"
        " fields_per_strength: {cost_per_step: 250}}\n"
        "objectives:\n  - {metric: payment_adoption, direction: maximize}\n"
        "  - {metric: counterfeit_incidents, measure: cumulative, direction: minimize}\n",
        encoding="utf-8",
    )
    result = run_optimization(load_problem(path), folder / "out", progress=False)
    return result.files["report"]


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for the module."""
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def _page_width(browser, report: Path, name: str) -> int:
    """Open ``report`` at a 1,400 px wide window; return the page's scroll width."""
    page = browser.new_page(viewport={"width": WINDOW, "height": 900})
    try:
        page.goto(report.resolve().as_uri())
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"report-{name}.png"), full_page=True)
    finally:
        page.close()
    return width


def test_compare_report_fits_a_1400_px_window(browser, compare_report):
    html = compare_report.read_text(encoding="utf-8")
    assert "<h2>Costs</h2>" in html and '<ul class="findings">' in html
    assert _page_width(browser, compare_report, "compare") <= WINDOW


def test_optimize_report_fits_a_1400_px_window(browser, optimize_report):
    html = optimize_report.read_text(encoding="utf-8")
    assert "payment_security.<wbr>start" in html  # four decision variables in the table
    assert _page_width(browser, optimize_report, "optimize") <= WINDOW

"""The student visualization without a browser: model building, drawing, controls, command."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from mesa.visualization.solara_viz import _check_model_params

from model.cli import main
from model.market import MarketModel
from model.metrics import format_metric
from model.scenario import load_scenario
from model.viz import assets, drawing
from model.viz.app import (
    DEFAULT_CONSUMERS,
    LEVER_CONTROLS,
    StudentMarket,
    build_scenario,
    model_params,
    pending_changes,
    readings,
    scaled_population,
    scenario_choices,
)
from model.viz.drawing import CHARTS, chart_svg, cross_border_pairs, layout_for, network_svg

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture()
def scenario_folder(tmp_path, monkeypatch):
    """A picker folder with the baseline, a three-region variant and a broken file."""
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    (tmp_path / "three_regions.yaml").write_text(
        "extends: baseline.yaml\n"
        "name: three_regions\n"
        "regions:  # adding a region: list every region\n"
        "  domestic: {population_share: 0.6, merchant_share: 0.6}\n"
        "  foreign: {population_share: 0.2, merchant_share: 0.2}\n"
        "  overseas: {population_share: 0.2, merchant_share: 0.2}\n",
        encoding="utf-8",
    )
    (tmp_path / "broken.yaml").write_text(
        "extends: baseline.yaml\npopulation:\n  consumerz: 10\n", encoding="utf-8"
    )
    monkeypatch.setenv("MTSIM_VIZ_SCENARIO_DIR", str(tmp_path))
    monkeypatch.delenv("MTSIM_VIZ_SCENARIO", raising=False)
    return tmp_path


def test_app_builds_the_same_model_from_the_same_settings():
    first, second = StudentMarket(consumers=300), StudentMarket(consumers=300)
    assert first.market.consumers.n == 300
    assert first.market.seed == first.mtsim_scenario.simulation.seed
    np.testing.assert_array_equal(first.market.graph.source, second.market.graph.source)
    for _ in range(4):
        first.step()
        second.step()
    assert first.week == second.week == 4
    np.testing.assert_array_equal(first.market.consumer_stage(), second.market.consumer_stage())
    np.testing.assert_array_equal(first.layout.consumer_xy, second.layout.consumer_xy)


def test_network_view_draws_every_consumer_merchant_and_kol():
    model = StudentMarket(consumers=300)
    model.step()
    svg = network_svg(model.market, model.layout)
    market = model.market
    assert svg.count('class="consumer ') == 300
    assert svg.count('class="mtsim-merchant ') == drawing.active_merchants(market).sum() > 0
    assert len(re.findall(r'class="mtsim-kol[ "]', svg)) == market.kols.n > 0
    assert 'data-consumers="300"' in svg
    stages = [int(s) for s in re.findall(r'class="consumer mtsim-s(\d)"', svg)]
    assert (
        np.bincount(stages, minlength=5).tolist()
        == np.bincount(market.consumer_stage(), minlength=5).tolist()
    )
    assert model.layout.background_svg.count("<circle") == market.n_regions


def test_network_view_scales_to_two_thousand_consumers():
    model = StudentMarket(consumers=2000)
    svg = network_svg(model.market, model.layout)
    assert svg.count('class="consumer ') == 2000
    expected = scaled_population(model.mtsim_scenario, 2000)
    assert drawing.active_merchants(model.market).sum() == expected["merchants"] > 0
    assert model.market.kols.n == expected["kols"] > 0


def test_consumers_sit_inside_their_region_disc():
    model = StudentMarket(consumers=300)
    layout, region = model.layout, model.market.consumers.region
    offset = layout.consumer_xy - layout.region_centre[region]
    assert (np.hypot(offset[:, 0], offset[:, 1]) <= layout.region_radius[region] + 1e-6).all()
    assert layout.consumer_xy[:, 0].min() >= 0 and layout.consumer_xy[:, 0].max() <= layout.width


def test_cross_border_lines_are_last_weeks_cross_border_orders():
    model = StudentMarket(consumers=600, cross_border_facilitation=1.0, consumer_incentives=0.9)
    seen = 0
    for _ in range(40):
        model.step()
        buyers, sellers = cross_border_pairs(model.market)
        assert buyers.size == model.market.last.cross_border_orders
        assert (
            model.market.merchants.region[sellers] != model.market.consumers.region[buyers]
        ).all()
        svg = network_svg(model.market, model.layout)
        assert f'data-count="{buyers.size}"' in svg
        seen += buyers.size
    assert seen > 0, "no cross-border order in 40 weeks: the check above tested nothing"


def test_layout_is_computed_once_per_graph():
    model = StudentMarket(consumers=350)
    before = drawing.layout_computations()
    for _ in range(3):
        model.step()
        network_svg(model.market, layout_for(model.market))
    assert drawing.layout_computations() == before
    again = StudentMarket(consumers=350)
    assert again.layout is model.layout
    assert drawing.layout_computations() == before
    StudentMarket(consumers=400)
    assert drawing.layout_computations() == before + 1


def test_sliders_add_interventions_from_week_one():
    plain = build_scenario(str(BASELINE), 300, {lever: 0.0 for lever in LEVER_CONTROLS})
    pushed = build_scenario(str(BASELINE), 300, {"consumer_incentives": 0.5, "integrity": 0.0})
    assert len(pushed.policies) == len(plain.policies) + 1
    added = pushed.policies[-1]
    assert (added.lever, added.start, added.strength, added.end) == (
        "consumer_incentives",
        1,
        0.5,
        None,
    )


def test_a_slider_changes_the_model():
    plain, pushed = StudentMarket(consumers=300), StudentMarket(consumers=300, infrastructure=1.0)
    plain.step()
    pushed.step()
    assert pushed.market.current.mobile_access.min() == pytest.approx(1.0)
    assert plain.market.current.mobile_access.min() < 1.0
    assert pushed.market.consumers.has_access.mean() > plain.market.consumers.has_access.mean()


def test_population_slider_scales_merchants_and_kols():
    base = load_scenario(
        BASELINE,
        {"population.consumers": 5000, "population.merchants": 200, "population.kols": 20},
    )
    pop = base.population
    assert scaled_population(base, 1000) == {
        "consumers": 1000,
        "merchants": max(10, round(pop.merchants / 5)),
        "kols": max(3, round(pop.kols / 5)),
    }
    assert scaled_population(base, 50) == {"consumers": 50, "merchants": 10, "kols": 3}


def test_the_pages_default_market_has_orders_in_its_first_year():
    """The page opens on a market where mobile shopping starts within its first year.

    Its own seed shows orders in week 52 and merchants using mobile marketing; with four
    other seeds, the same market has orders in the ten weeks up to week 52 (a single week
    of a small market can have none). Since people, not broadcast, spread mobile shopping
    (issue 26), the first year is its slow start: a few orders a week. (At 300 consumers,
    12 merchants, the page's seed had none.)
    """
    page = StudentMarket()
    assert page.consumers == DEFAULT_CONSUMERS == model_params()["consumers"]["value"]
    for _ in range(52):
        page.step()
    table = page.market.datacollector.model_vars
    assert page.week == 52 and table["orders"][-1] > 0 and table["merchant_adoption"][-1] > 0
    shown = {r.key: r.value for r in readings(page)}
    assert shown["orders"] != "0" and shown["merchant_adoption"] != "0.0%", shown
    for seed in (1, 2, 3, 4):
        market = MarketModel(page.mtsim_scenario, seed=seed)
        for _ in range(52):
            market.step()
        assert sum(market.datacollector.model_vars["orders"][-10:]) > 0, seed


def test_model_params_fit_the_model_and_mesa(scenario_folder):
    params = model_params()
    _check_model_params(StudentMarket.__init__, params)  # Mesa's own check; raises if not
    assert params["scenario_file"]["values"][0] == "baseline.yaml"
    assert set(LEVER_CONTROLS) <= set(params)
    model = StudentMarket(**{k: v["value"] for k, v in params.items()})
    assert model.market.consumers.n == params["consumers"]["value"]


def test_scenario_picker_lists_valid_files_and_reports_broken_ones(scenario_folder):
    choices, problems = scenario_choices()
    assert choices == ["baseline.yaml", "three_regions.yaml"]
    assert "broken.yaml" in problems and "consumerz" in problems["broken.yaml"]
    model = StudentMarket(scenario_file="three_regions.yaml", consumers=300)
    assert model.mtsim_scenario.name == "three_regions"
    assert model.market.n_regions == 3
    svg = network_svg(model.market, model.layout)
    assert svg.count('class="consumer ') == 300
    assert model.layout.background_svg.count('class="mtsim-region-label"') == 3


def test_charts_and_numbers_follow_the_steps():
    model = StudentMarket(consumers=300)
    table = model.market.timeseries()
    before = {spec.key: chart_svg(spec, table, model.total_weeks) for spec in CHARTS}
    assert all('data-points="1"' in svg for svg in before.values())
    for _ in range(5):
        model.step()
    table = model.market.timeseries()
    after = {spec.key: chart_svg(spec, table, model.total_weeks) for spec in CHARTS}
    for key, svg in after.items():
        assert 'data-points="6"' in svg, key
        segments = re.findall(r'data-metric="[^"]+"', svg)
        assert segments, key
    line = re.search(r'd="([^"]+)"[^>]*data-metric="aware_share"', after["adoption"]).group(1)
    assert line.count("L") == 5
    values = {r.key: r.value for r in readings(model)}
    assert values["week"] == "5 of 156"
    assert values["consumers"] == "300"
    assert values["policies"] == "none"


def test_stepping_stops_at_the_scenarios_length():
    model = StudentMarket(consumers=100)
    model.total_weeks = 3
    for _ in range(5):
        model.step()
    assert model.week == 3 and model.running is False


def test_required_browser_files_come_from_solaras_template(tmp_path):
    packages = dict(assets.required_packages())
    assert "requirejs" in packages
    assert any(name.startswith("@widgetti/solara-vuetify") for name in packages)
    assert assets.missing_packages(tmp_path) == sorted(packages.items())


def test_viz_command_rejects_a_missing_or_bad_scenario(tmp_path, capsys):
    assert main(["viz", str(tmp_path / "nowhere.yaml")]) == 2
    assert "nowhere.yaml: no such scenario file" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("population:\n  consumers: -5\n", encoding="utf-8")
    assert main(["viz", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "population.consumers" in err and "Traceback" not in err


def test_viz_command_rejects_a_busy_port(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["viz", str(BASELINE), "--port", str(port)]) == 2
    assert f"--port {port}: already in use" in capsys.readouterr().err


def test_viz_input_errors_come_before_the_heavy_imports(tmp_path):
    """A mistake is reported before Solara, Mesa or the model are imported (fast errors)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from model.cli import main\n"
        f"code = main(['viz', {str(tmp_path / 'nowhere.yaml')!r}])\n"
        "heavy = sorted(m for m in ('solara', 'mesa', 'model.market', 'model.viz.app') "
        "if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
    assert "nowhere.yaml: no such scenario file" in done.stderr


def test_host_header_check_accepts_only_loopback_names():
    from model.viz.server import host_allowed

    for good in ("127.0.0.1", "127.0.0.1:8765", "localhost", "LOCALHOST:80", "[::1]:8765"):
        assert host_allowed(good), good
    for bad in (
        "",
        None,
        "evil.example",
        "evil.example:8765",
        "127.0.0.1.evil.example",
        "localhost.evil.example:8765",
        "10.0.0.1:8765",
        "[::2]:8765",
    ):
        assert not host_allowed(bad), bad


def test_lever_spending_is_the_models_policy_cost():
    # the baseline has no policies: every cost of these runs comes from the two sliders
    model = StudentMarket(consumers=300, payment_security=1.0, integrity=0.5)
    assert model.lever_spending()["payment_security"] == 0.0  # week 0: nothing spent yet
    for _ in range(3):
        model.step()
        spending = model.lever_spending()
        assert spending["payment_security"] > 0 and spending["integrity"] > 0
        total = model.market.datacollector.model_vars["policy_cost"][-1]
        assert sum(spending.values()) == pytest.approx(total)
    values = {r.key: r.value for r in readings(model)}
    assert values["policy_cost"] == format_metric("policy_cost", total)


def test_pending_changes_name_what_waits_for_reset():
    model = StudentMarket(consumers=300)
    chosen = model.settings()
    assert pending_changes(model, chosen) == []
    chosen.update(scenario_file="three_regions.yaml", consumers=350, consumer_incentives=0.5)
    assert pending_changes(model, chosen) == [
        "scenario three_regions.yaml",
        "350 consumers",
        "Coupons 0.50",
    ]


def test_trust_reads_the_same_in_the_chart_and_the_panel():
    model = StudentMarket(consumers=300)
    model.step()
    panel = {r.key: r.value for r in readings(model)}["mean_trust_domestic"]
    assert re.fullmatch(r"\d{1,3}\.\d", panel), panel  # an index from 0 to 100, as in reports
    trust_chart = next(spec for spec in CHARTS if spec.key == "trust")
    svg = chart_svg(trust_chart, model.market.timeseries(), model.total_weeks)
    assert f"Trust in domestic sellers: <b>{panel}</b>" in svg
    axis = re.findall(r"<text[^>]*>([^<]*)</text>", svg.split("</svg>")[0])
    assert "100" in axis and not any("%" in label for label in axis), axis  # index, not %


def test_the_page_is_a_solara_component_for_notebooks(scenario_folder):
    import solara
    import solara.widgets

    from model.viz import MtsimPage

    box, rc = solara.render(
        MtsimPage(scenario=scenario_folder / "three_regions.yaml", consumers=100),
        handle_error=False,
    )
    try:
        html = " ".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)
        assert 'id="mtsim-scenario">three_regions<' in html
        assert 'data-consumers="100"' in html
        assert 'id="mtsim-sidebar-week">Week 0 of' in html
    finally:
        rc.close()


def test_platform_layer_is_drawn_with_channels_users_and_groups():
    from model.market import MarketModel
    from model.mechanisms.attribution import CHANNELS
    from model.scenario import load_scenario
    from model.viz.drawing import legend_html, network_svg

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    scenario = load_scenario(
        root / "scenarios" / "platform_superapp.yaml",
        ["population.consumers=300", "population.merchants=20", "population.kols=3"],
    )
    model = MarketModel(scenario, seed=2)
    for _ in range(40):
        model.step()
    svg = network_svg(model)
    users = int(model.platforms.member.any(axis=1).sum())
    assert users > 0 and f'class="mtsim-platform-user" data-count="{users}"' in svg
    orders = model.last_week.signals.orders
    drawn = sum(
        int(part.split('data-count="')[1].split('"')[0])
        for part in svg.split('class="mtsim-channel mtsim-channel-')[1:]
    )
    assert drawn == orders.count  # every order of last week, coloured by its channel
    assert "group chats" in legend_html(model)
    assert all(name.replace("_", " ") in legend_html(model) for name in CHANNELS)
    # without a platform, no platform layer
    plain = MarketModel(
        load_scenario(
            root / "scenarios" / "baseline.yaml",
            ["population.consumers=300", "population.merchants=20", "population.kols=3"],
        ),
        seed=2,
    )
    plain.step()
    assert "mtsim-platform-user" not in network_svg(plain)
    assert "mtsim-channel" not in network_svg(plain)

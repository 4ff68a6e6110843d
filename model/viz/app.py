"""The student page: Mesa's SolaraViz over the market, with a network view and live charts.

Run it with ``mtsim viz [SCENARIO.yaml]`` (model/viz/command.py), or directly with
``solara run model.viz.app``. The sidebar is Mesa's SolaraViz: step, play, pause and
reset, and the model parameters (scenario picker, population, policy sliders).
Changing a parameter and pressing Reset builds a new market from the chosen
scenario file with those values and the scenario's own fixed seed, so the same
settings always replay the same story.

The sliders add one intervention per lever from week 1 on top of the scenario's own
policy package (``policies``); 0 leaves the scenario as written. The population
slider sets the number of consumers; merchants and KOLs are scaled with it in the
scenario's proportions (at least a few of each).

Environment variables (set by ``mtsim viz``):
    MTSIM_VIZ_SCENARIO: the scenario shown first (default ``baseline.yaml``).
    MTSIM_VIZ_SCENARIO_DIR: the folder the picker lists (default: the project's
        ``scenarios/``).

Mesa 3.5's SolaraViz lays its components out with Solara's GridDraggable, whose
JavaScript (vue-grid-layout, a Vue 2 library) does not load under ipyvuetify 3, so
the page passes no components to SolaraViz and draws its main area itself, next to
SolaraViz's sidebar; the main area re-renders on Mesa's update counter like any
SolaraViz component.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from html import escape
from pathlib import Path

import markdown
import mesa
import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from model.errors import UserError
from model.market import MarketModel
from model.metrics import METRIC_INFO
from model.policy import LEVER_MAX, PolicyTimeline
from model.scenario import Scenario, load_scenario, scenario_from_dict
from model.viz.drawing import (
    CHARTS,
    NetworkLayout,
    chart_svg,
    format_value,
    layout_for,
    legend_html,
    network_svg,
    numbers_table_html,
)

ENV_SCENARIO = "MTSIM_VIZ_SCENARIO"
ENV_SCENARIO_DIR = "MTSIM_VIZ_SCENARIO_DIR"
DEFAULT_SCENARIO = "baseline.yaml"
DEFAULT_CONSUMERS = 300
MIN_CONSUMERS = 50
MAX_CONSUMERS = 2000

LEVER_CONTROLS: dict[str, str] = {
    "infrastructure": "Infrastructure",
    "payment_security": "Payment security",
    "integrity": "Integrity checks",
    "merchant_promotion": "Merchant training",
    "consumer_incentives": "Coupons",
    "cross_border_facilitation": "Cross-border logistics",
    "kol_disclosure": "KOL disclosure",
}
"""Policy levers with a slider, and the slider's label (their effects: model/policy.py)."""

LEVER_WORDS: dict[str, str] = {
    "infrastructure": "more people get usable mobile Internet, fewer payments fail",
    "payment_security": "less payment fraud, and people feel mobile payment is safer",
    "integrity": "sellers verify their real names; counterfeits are caught more often",
    "merchant_promotion": "training persuades more merchants to sell through mobile channels",
    "consumer_incentives": "discounts make people want to buy more, but only where they trust",
    "cross_border_facilitation": "cheaper, faster delivery and less customs friction abroad",
    "kol_disclosure": "sponsored posts are labelled: less persuasive, but KOLs keep credibility",
}
"""What each slider does, in plain words (shown on the page)."""


# --------------------------------------------------------------------------- scenarios


def scenario_dir() -> Path:
    """Return the folder the scenario picker lists."""
    env = os.environ.get(ENV_SCENARIO_DIR)
    if env:
        return Path(env)
    project = Path(__file__).resolve().parents[2] / "scenarios"
    if project.is_dir():
        return project
    return Path.cwd() / "scenarios"


def resolve_scenario(choice: str) -> Path:
    """Return the file of a picker choice: a name in :func:`scenario_dir`, or a path."""
    path = Path(choice)
    if path.is_absolute() or path.parent != Path("."):
        return path
    return scenario_dir() / choice


def initial_scenario() -> str:
    """Return the picker choice shown first (``MTSIM_VIZ_SCENARIO`` or ``baseline.yaml``)."""
    env = os.environ.get(ENV_SCENARIO)
    if not env:
        return DEFAULT_SCENARIO
    path = Path(env).resolve()
    if path.parent == scenario_dir().resolve():
        return path.name
    return str(path)


_checked: dict[tuple[str, float], str | None] = {}


def check_scenario_file(path: Path) -> str | None:
    """None when the file is a valid scenario, else the first line of the problem (cached)."""
    try:
        key = (str(path.resolve()), path.stat().st_mtime)
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror})"
    if key not in _checked:
        try:
            load_scenario(path)
            _checked[key] = None
        except UserError as exc:
            _checked[key] = str(exc).splitlines()[0]
    return _checked[key]


def scenario_choices() -> tuple[list[str], dict[str, str]]:
    """List the picker's choices and the files left out because they are invalid.

    Returns:
        (choices, problems): file names in :func:`scenario_dir` (plus the initial
        scenario's path when it lives elsewhere), sorted with ``baseline.yaml`` first;
        and file name -> problem for the scenario files that do not validate.
    """
    folder = scenario_dir()
    names = sorted(p.name for p in folder.glob("*.yaml")) if folder.is_dir() else []
    names.sort(key=lambda name: (name != DEFAULT_SCENARIO, name))
    choices, problems = [], {}
    for name in names:
        problem = check_scenario_file(folder / name)
        if problem is None:
            choices.append(name)
        else:
            problems[name] = problem
    first = initial_scenario()
    if first not in choices:
        choices.insert(0, first)
    return choices, problems


def scaled_population(scenario: Scenario, consumers: int) -> dict[str, int]:
    """Return population counts for ``consumers`` consumers, merchants and KOLs in proportion.

    Merchants and KOLs keep the scenario's ratio to consumers, with at least five
    merchants per region and three KOLs (or the scenario's own number if smaller).
    """
    base = scenario.population
    ratio = consumers / base.consumers
    n_regions = len(scenario.regions)
    merchants = (
        0
        if base.merchants == 0
        else max(min(base.merchants, 5 * n_regions), round(base.merchants * ratio))
    )
    kols = 0 if base.kols == 0 else max(min(base.kols, 3), round(base.kols * ratio))
    return {"consumers": int(consumers), "merchants": int(merchants), "kols": int(kols)}


def build_scenario(choice: str, consumers: int, levers: dict[str, float]) -> Scenario:
    """Load a picker choice's scenario with the page's population and sliders applied.

    Args:
        choice: picker value (a file name in :func:`scenario_dir`, or a path).
        consumers: number of consumers.
        levers: lever -> level; each level above 0 adds an intervention from week 1.

    Returns:
        The validated scenario.

    Raises:
        UserError: the file is invalid, a lever is unknown or a level out of range.
    """
    path = resolve_scenario(choice)
    base = load_scenario(path)
    data = base.resolved()
    data["population"] = {**data["population"], **scaled_population(base, consumers)}
    extra = []
    for lever, level in levers.items():
        if lever not in LEVER_MAX:
            raise UserError(f"viz: unknown policy lever {lever!r}")
        if level > 0:
            extra.append(
                {
                    "lever": lever,
                    "start": 1,
                    "strength": float(level),
                    "label": f"slider: {LEVER_CONTROLS.get(lever, lever)}",
                }
            )
    data["policies"] = list(data.get("policies", [])) + extra
    return scenario_from_dict(data, source=f"{path} (with the page's sliders)")


# --------------------------------------------------------------------------- model


class StudentMarket(mesa.Model):
    """The page's model: a :class:`MarketModel` built from a scenario file and slider values.

    A thin Mesa model around the market so that SolaraViz can rebuild it from keyword
    parameters on Reset (MarketModel's own ``scenario`` attribute is an mtsim
    Scenario, which Mesa's parameter handling would mistake for its own kind).

    Attributes:
        scenario_file: the picker choice it was built from.
        levers: the slider levels, by lever.
        mtsim_scenario: the scenario as run (file + population + sliders).
        market: the MarketModel.
        layout: the network layout of the market (cached per graph).
        total_weeks: the scenario's number of steps; stepping stops there.
    """

    def __init__(
        self,
        scenario_file: str | None = None,
        consumers: int = DEFAULT_CONSUMERS,
        infrastructure: float = 0.0,
        payment_security: float = 0.0,
        integrity: float = 0.0,
        merchant_promotion: float = 0.0,
        consumer_incentives: float = 0.0,
        cross_border_facilitation: float = 0.0,
        kol_disclosure: float = 0.0,
    ):
        self.scenario_file = scenario_file or initial_scenario()
        self.levers = {
            "infrastructure": float(infrastructure),
            "payment_security": float(payment_security),
            "integrity": float(integrity),
            "merchant_promotion": float(merchant_promotion),
            "consumer_incentives": float(consumer_incentives),
            "cross_border_facilitation": float(cross_border_facilitation),
            "kol_disclosure": float(kol_disclosure),
        }
        consumers = int(np.clip(int(consumers), 1, MAX_CONSUMERS))
        self.mtsim_scenario = build_scenario(self.scenario_file, consumers, self.levers)
        seed = self.mtsim_scenario.simulation.seed
        super().__init__(rng=seed)
        self.market = MarketModel(self.mtsim_scenario, seed=seed)
        self.layout: NetworkLayout = layout_for(self.market)
        self.total_weeks = int(self.mtsim_scenario.simulation.steps)

    @property
    def week(self) -> int:
        """Weeks simulated so far (0 = the starting state)."""
        return int(self.market.steps)

    def step(self) -> None:
        """Advance the market one week (no further than the scenario's length)."""
        if self.market.steps < self.total_weeks:
            self.market.step()
        self.running = self.market.steps < self.total_weeks


def model_params() -> dict:
    """SolaraViz's model parameters: the scenario picker, population and lever sliders."""
    choices, _ = scenario_choices()
    first = initial_scenario()
    params: dict = {
        "scenario_file": {
            "type": "Select",
            "value": first if first in choices else choices[0],
            "values": choices,
            "label": "Scenario",
        },
        "consumers": {
            "type": "SliderInt",
            "value": DEFAULT_CONSUMERS,
            "min": MIN_CONSUMERS,
            "max": MAX_CONSUMERS,
            "step": 50,
            "label": "Consumers",
        },
    }
    for lever, label in LEVER_CONTROLS.items():
        params[lever] = {
            "type": "SliderFloat",
            "value": 0.0,
            "min": 0.0,
            "max": float(LEVER_MAX[lever]),
            "step": 0.05,
            "label": label,
        }
    return params


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Reading:
    """One row of the numbers panel.

    Attributes:
        key: identifier (element id ``mtsim-value-<key>``).
        label: what it is, in words.
        value: formatted value.
    """

    key: str
    label: str
    value: str


PANEL_METRICS: tuple[str, ...] = (
    "aware_share",
    "payment_adoption",
    "shopper_share",
    "mean_trust_domestic",
    "mean_trust_foreign",
    "orders",
    "cross_border_orders",
    "cross_border_share",
    "gmv",
    "counterfeit_incidents",
    "fraud_incidents",
    "merchant_adoption",
    "kol_credibility",
    "mobile_access_share",
    "policy_cost",
)


def readings(model: StudentMarket) -> list[Reading]:
    """Return the current numbers of the panel, in reading order."""
    market = model.market
    table = market.datacollector.model_vars
    rows = [
        Reading("week", "Week", f"{model.week} of {model.total_weeks}"),
        Reading("consumers", "Consumers", f"{market.consumers.n:,}"),
        Reading("merchants", "Merchants", f"{market.merchants.n:,}"),
        Reading("kols", "KOLs (influencers)", f"{market.kols.n:,}"),
    ]
    for metric in PANEL_METRICS:
        if metric not in table:
            continue
        rows.append(
            Reading(metric, METRIC_INFO[metric]["label"], format_value(metric, table[metric][-1]))
        )
    cross_buyers = float(market.consumers.has_ordered_cross_border.mean())
    rows.insert(
        7,
        Reading(
            "cross_border_buyers", "Consumers who bought from abroad", f"{100 * cross_buyers:.1f}%"
        ),
    )
    levels = PolicyTimeline(model.mtsim_scenario.policies).levels(max(model.week, 1))
    active = [f"{lever} {level:.2f}" for lever, level in levels.items() if level > 0]
    rows.append(
        Reading("policies", "Policy levers acting", ", ".join(active) if active else "none")
    )
    return rows


EXPLANATION = """
### What is this?

An **agent-based model**: the computer plays many small actors at once and lets them
react to each other, week by week. Nobody tells the market what to do; the curves
come out of thousands of small decisions.

* **Consumers** are the small markers. Grey lines join people who know each other.
* **Merchants** are the little houses around each region (filled: they sell through
  mobile channels; hollow: not yet).
* **KOLs** (key opinion leaders, influencers) are the pink stars above each region.
* Each **region** (for example *domestic* and *foreign*) is its own disc, and its
  consumers have their own marker shape.

### The colours

Grey: has not heard of mobile shopping. Blue: has heard of it. Orange: pays by mobile
but has not bought yet. Green: has bought by mobile. Red: has bought from a merchant
in another region (cross-border). Red lines show the cross-border orders of the last
week, from buyer to seller.

### What happens each week

1. **Policy**: the levers set by the scenario and the sliders take effect.
2. **Mobile access**: only people with usable mobile Internet can shop.
3. **Marketing**: merchants that use mobile channels (QR codes, apps, search, short
   video) reach some consumers.
4. **KOLs** post endorsements to all their followers at once; a credible KOL persuades
   more. Endorsing fakes or too many adverts costs credibility.
5. **Word of mouth**: news passes along the grey lines. A happy buyer recommends; a
   cheated one warns, and warnings weigh more.
6. **Mobile payment** spreads when friends use it and is held back by fear of fraud.
7. **Ordering**: an aware consumer with access and enough **trust** may buy, choosing
   a merchant by price, reputation, trust and delivery time. No trust, no purchase,
   whatever the discount.
8. **Integrity**: some goods are counterfeit; verified merchants cheat less and are
   caught more often. A counterfeit or a fraud makes trust fall sharply.
9. **Merchants** copy successful neighbours and start selling through mobile channels.

### Try this

* Press **Step** a few times, then **Play** (▶). Watch blue spread along the lines.
* Move **Coupons** up and press **Reset**: do sales rise before people trust sellers?
* Compare **Payment security** with **Integrity checks**: which brings more shoppers?
* Push **Cross-border logistics** up: do the red lines and the red share grow?
* Same settings, same seed: pressing Reset replays exactly the same story.
"""


# --------------------------------------------------------------------------- components


@solara.component
def NetworkView(model: StudentMarket):
    """Draw the market as a network: consumers by stage, merchants, KOLs, orders abroad."""
    update_counter.get()
    market, layout = model.market, model.layout
    foreground = network_svg(market, layout)
    with solara.Card("The market as a network", margin=0):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f'<span id="mtsim-consumer-count">{market.consumers.n} consumers shown</span>, '
                f"{market.merchants.n} merchants, {market.kols.n} KOLs; "
                f'<span id="mtsim-orders-count">{int(market.last.cross_border_orders)} '
                "cross-border orders</span> last week"
            ),
            style="font-size:13px;margin-bottom:4px",
        )
        with solara.Div(
            style=(
                "position:relative;width:100%;"
                f"aspect-ratio:{layout.width:.0f} / {layout.height:.0f}"
            )
        ):
            solara.HTML(
                tag="div",
                unsafe_innerHTML=layout.background_svg,
                style="position:absolute;left:0;top:0;width:100%;height:100%",
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=foreground,
                style="position:absolute;left:0;top:0;width:100%;height:100%",
            )
        solara.HTML(tag="div", unsafe_innerHTML=legend_html(market), style="margin-top:6px")


@solara.component
def NumbersPanel(model: StudentMarket):
    """Show the current numbers, in words."""
    update_counter.get()
    rows = [(r.key, r.label, r.value) for r in readings(model)]
    with solara.Card("Now", margin=0):
        solara.HTML(tag="div", unsafe_innerHTML=numbers_table_html(rows))


@solara.component
def ChartsView(model: StudentMarket):
    """Draw live charts of adoption, trust, orders and the cross-border share."""
    update_counter.get()
    table = model.market.timeseries()
    with solara.Card("Over time", margin=0):
        with solara.Columns([1, 1]):
            for spec in CHARTS[:2]:
                with solara.Column():
                    solara.HTML(tag="div", unsafe_innerHTML=f"<b>{spec.title}</b>")
                    solara.HTML(
                        tag="div", unsafe_innerHTML=chart_svg(spec, table, model.total_weeks)
                    )
        with solara.Columns([1, 1]):
            for spec in CHARTS[2:]:
                with solara.Column():
                    solara.HTML(tag="div", unsafe_innerHTML=f"<b>{spec.title}</b>")
                    solara.HTML(
                        tag="div", unsafe_innerHTML=chart_svg(spec, table, model.total_weeks)
                    )


@solara.component
def Explanation(model: StudentMarket):
    """Explain how to read the page, and what the model does, in plain words."""
    _, problems = scenario_choices()
    sliders = "\n".join(
        f"* **{LEVER_CONTROLS[lever]}** (0 to {LEVER_MAX[lever]:g}): {words}"
        for lever, words in LEVER_WORDS.items()
    )
    text = (
        EXPLANATION
        + "\n### The sliders\n\nEach policy slider switches its lever on from week 1, on "
        "top of the scenario's own policies (0 = the scenario as written). **Consumers** "
        "sets the population; merchants and KOLs grow with it. Change a slider or the "
        "scenario, then press **Reset**.\n\n" + sliders
    )
    with solara.Card("How to read this page", margin=0):
        # rendered here rather than by solara.Markdown, whose JavaScript loads mermaid
        # from a CDN (a script error on an offline machine)
        solara.HTML(
            tag="div", unsafe_innerHTML=markdown.markdown(text), classes=["mtsim-explanation"]
        )
        if problems:
            items = "".join(
                f"<li>{escape(name)}: {escape(why)}</li>" for name, why in problems.items()
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"<p>Scenario files left out of the picker:</p><ul>{items}</ul>",
            )


@solara.component
def MainView(model: StudentMarket):
    """Lay out the page's main area (right of SolaraViz's sidebar)."""
    update_counter.get()
    sc = model.mtsim_scenario
    moved = [f"{LEVER_CONTROLS[k]} {v:.2f}" for k, v in model.levers.items() if v > 0]
    settings = ", ".join(moved) if moved else "all at 0"
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<div style="font-size:20px;font-weight:600"><span id="mtsim-week">Week {model.week}'
            f"</span> of {model.total_weeks} &middot; scenario "
            f'<span id="mtsim-scenario">{escape(sc.name)}</span></div>'
            f'<div style="font-size:13px;color:#555">{escape(sc.description)}</div>'
            f'<div style="font-size:13px;color:#555" id="mtsim-settings">This run: '
            f"{model.market.consumers.n} consumers, seed {model.market.seed}; sliders: "
            f"{settings}. Change a setting on the left, then press Reset.</div>"
        ),
        style="margin:4px 0 8px 0",
    )
    with solara.Columns([2, 1]):
        NetworkView(model)
        with solara.Column():
            NumbersPanel(model)
    ChartsView(model)
    Explanation(model)


@solara.component
def Page():
    """Render the whole page: SolaraViz (controls, parameters) and the main area."""
    initial = solara.use_memo(StudentMarket, [])
    model = solara.use_reactive(initial)
    SolaraViz(
        model,
        components=[],
        model_params=model_params(),
        name="mtsim: mobile shopping, payment and cross-border trade",
        play_interval=150,
    )
    MainView(model.value)

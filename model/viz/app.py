"""The student page: Mesa's SolaraViz controls over the market, a network view and live charts.

Served by ``mtsim viz [SCENARIO.yaml]`` (model/commands/viz.py, model/viz/server.py);
in Jupyter, :func:`MtsimPage` renders the same page inline
(``from model.viz import MtsimPage``). The controls are Mesa's ``ModelController``
(Reset, play/pause, Step) and the page's settings: scenario picker, population and
lever sliders. Settings apply on **Reset**: a new market is built from the chosen
scenario file with those values and the scenario's own fixed seed, so the same
settings always replay the same story; until Reset, the header names the running
scenario and shows the changes waiting.

The sliders add one intervention per lever from week 1 on top of the scenario's own
policy package (``policies``); 0 leaves the scenario as written. The spending shown
under a slider is the model's own cost of that lever in the last week (its activity
times the scenario's unit costs), a part of the ``policy_cost`` metric.
The population slider sets the number of consumers; merchants and KOLs are scaled
with it in the scenario's proportions (at least a few of each). Its default,
:data:`DEFAULT_CONSUMERS`, is the baseline's own size. A value outside a slider's range
(-1, NaN: only a forged message can send one) is refused: the page keeps the last
valid value and says why under the slider; :func:`build_scenario` raises UserError.

"Week" everywhere on the page is the market's ``steps``: weeks simulated so far,
0 = the starting state. Numbers are shown as the metric registry says (``model.metrics``),
the same everywhere on the page and in the reports: shares in per cent, trust and
credibility as an index from 0 (none) to 100 (full).

Mesa 3.5's SolaraViz lays its components out with Solara's GridDraggable, whose
JavaScript (vue-grid-layout, a Vue 2 library) does not load under ipyvuetify 3, and
keeps the chosen parameters to itself; so the page composes Mesa's
``ModelController`` with its own settings panel and main area, which re-render on
Mesa's update counter like any SolaraViz component.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

import markdown
import mesa
import numpy as np
import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter
from solara.alias import rv

from model.errors import UserError
from model.levers import LEVER_MAX
from model.market import MarketModel
from model.metrics import format_metric, metric_label, metrics_tagged
from model.policy import PolicyTimeline
from model.scenario import Scenario, load_scenario, scenario_from_dict
from model.viz.drawing import (
    CHARTS,
    NetworkLayout,
    active_merchants,
    chart_svg,
    layout_for,
    legend_html,
    network_svg,
    numbers_table_html,
)
from model.viz.paths import (
    DEFAULT_SCENARIO,
    ENV_SCENARIO,
    ENV_SCENARIO_DIR,
    initial_scenario,
    picker_choice,
    resolve_scenario,
    scenario_dir,
)

DEFAULT_CONSUMERS = 2000
"""The population slider's starting value: the baseline's own size (80 merchants, 8 KOLs).

Smaller markets keep the proportions but are slow to start: with a dozen merchants
the few that begin with mobile marketing may all give up, and at 300 consumers (12
merchants) the baseline's seed shows 0 orders a week and no merchant using mobile
marketing at week 30 (at 1,000 too). At 2,000, orders happen by week 30 on every seed
measured (tests/test_viz.py), and a step still paints in about 0.2 s (docs/viz.md).
"""
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


def scenario_choices(
    folder: Path | None = None, first: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """List the picker's choices and the files left out because they are invalid.

    Args:
        folder: the folder listed (default :func:`scenario_dir`).
        first: the choice shown first (default :func:`initial_scenario`); added when
            it is not a file of the folder.

    Returns:
        (choices, problems): file names in the folder (plus ``first`` when it lives
        elsewhere), sorted with ``baseline.yaml`` first; and file name -> problem for
        the scenario files that do not validate.
    """
    folder = folder or scenario_dir()
    names = sorted(p.name for p in folder.glob("*.yaml")) if folder.is_dir() else []
    names.sort(key=lambda name: (name != DEFAULT_SCENARIO, name))
    choices, problems = [], {}
    for name in names:
        problem = check_scenario_file(folder / name)
        if problem is None:
            choices.append(name)
        else:
            problems[name] = problem
    first = first or initial_scenario()
    if first not in choices:
        choices.insert(0, first)
    return choices, problems


def scaled_population(scenario: Scenario, consumers: int) -> dict[str, int]:
    """Return population counts for ``consumers`` consumers, merchants and KOLs in proportion.

    The rule of ``--set population.consumers`` (``model.scenario.scaled_population``):
    merchants and KOLs keep the scenario's ratio to consumers, with at least five
    merchants per region and three KOLs (or the scenario's own number if smaller).
    """
    from model.scenario import scaled_population as scaled

    return {"consumers": int(consumers), **scaled(scenario.resolved(), consumers)}


def _number(value: object) -> float | None:
    """Return ``value`` as a finite float, or None when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def checked_level(lever: str, level: object) -> float:
    """Return a slider's lever level as a float when it is within the lever's range.

    Raises:
        UserError: an unknown lever, or a level that is not a number from 0 to the
            lever's maximum (model/levers.py), such as -1 or NaN.
    """
    if lever not in LEVER_MAX:
        raise UserError(f"viz: unknown policy lever {lever!r}")
    number = _number(level)
    top = LEVER_MAX[lever]
    if number is None or not 0 <= number <= top:
        raise UserError(
            f"viz: {LEVER_CONTROLS.get(lever, lever)}: {level!r} is not a level from 0 to {top:g}"
        )
    return number


def checked_consumers(consumers: object) -> int:
    """Return the population slider's value as an int when it is a whole number in range.

    Raises:
        UserError: not a whole number from :data:`MIN_CONSUMERS` to :data:`MAX_CONSUMERS`.
    """
    number = _number(consumers)
    if number is None or number != int(number) or not MIN_CONSUMERS <= number <= MAX_CONSUMERS:
        raise UserError(
            f"viz: Consumers: {consumers!r} is not a whole number from {MIN_CONSUMERS} "
            f"to {MAX_CONSUMERS:,}"
        )
    return int(number)


def setting_problem(name: str, value: object) -> str | None:
    """Say why the page cannot take ``value`` for setting ``name`` (None: it can).

    The sliders' own range makes such values impossible by hand; a message forged on
    the page's websocket could still send one.
    """
    try:
        if name == "consumers":
            checked_consumers(value)
        elif name in LEVER_CONTROLS:
            checked_level(name, value)
    except UserError as exc:
        return str(exc).removeprefix("viz: ")
    return None


def build_scenario(
    choice: str, consumers: int, levers: dict[str, float], folder: Path | None = None
) -> Scenario:
    """Load a picker choice's scenario with the page's population and sliders applied.

    Args:
        choice: picker value (a file name in the folder, or a path).
        consumers: number of consumers.
        levers: lever -> level; each level above 0 adds an intervention from week 1
            (no programme overhead: the model costs each lever by its activity).
        folder: the picker's folder (default :func:`scenario_dir`).

    Returns:
        The validated scenario.

    Raises:
        UserError: the file is invalid, a lever is unknown, a level is not a number
            from 0 to the lever's maximum, or ``consumers`` is off the slider's range.
    """
    consumers = checked_consumers(consumers)
    levels = {lever: checked_level(lever, level) for lever, level in levers.items()}
    path = resolve_scenario(choice, folder)
    base = load_scenario(path)
    data = base.resolved()
    data["population"] = {**data["population"], **scaled_population(base, consumers)}
    extra = []
    for lever, level in levels.items():
        if level > 0:
            extra.append(
                {
                    "lever": lever,
                    "start": 1,
                    "strength": level,
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
        scenario_folder: the picker's folder (None: :func:`scenario_dir`).
        consumers: the population slider's value.
        levers: the slider levels, by lever.
        mtsim_scenario: the scenario as run (file + population + sliders).
        market: the MarketModel.
        layout: the network layout of the market (cached per graph).
        total_weeks: the scenario's number of steps; stepping stops there.

    Raises:
        UserError: a lever level or the number of consumers off its slider's range
            (:func:`checked_level`, :func:`checked_consumers`), or an invalid file.
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
        scenario_folder: str | None = None,
    ):
        self.scenario_folder = Path(scenario_folder) if scenario_folder else None
        self.scenario_file = scenario_file or initial_scenario()
        levels = {
            "infrastructure": infrastructure,
            "payment_security": payment_security,
            "integrity": integrity,
            "merchant_promotion": merchant_promotion,
            "consumer_incentives": consumer_incentives,
            "cross_border_facilitation": cross_border_facilitation,
            "kol_disclosure": kol_disclosure,
        }
        self.levers = {lever: checked_level(lever, level) for lever, level in levels.items()}
        self.consumers = checked_consumers(consumers)
        self.mtsim_scenario = build_scenario(
            self.scenario_file, self.consumers, self.levers, self.scenario_folder
        )
        seed = self.mtsim_scenario.simulation.seed
        super().__init__(rng=seed)
        self.market = MarketModel(self.mtsim_scenario, seed=seed)
        self.layout: NetworkLayout = layout_for(self.market)
        self.total_weeks = int(self.mtsim_scenario.simulation.steps)

    @property
    def week(self) -> int:
        """Weeks simulated so far: the market's ``steps`` (0 = the starting state).

        The page shows this number everywhere (header, sidebar, numbers panel), and
        the charts' last point is this week.
        """
        return int(self.market.steps)

    def settings(self) -> dict:
        """Return the page parameters this model was built with (as SolaraViz passes them)."""
        return {"scenario_file": self.scenario_file, "consumers": self.consumers, **self.levers}

    def lever_spending(self) -> dict[str, float]:
        """Policy spending in the last simulated week, by slider lever (0 before week 1).

        The model's own numbers: each lever's activity-based cost of the last week
        (``market.last.policy_cost_by_lever``), the parts of the ``policy_cost`` metric.
        """
        by_lever = getattr(self.market.last, "policy_cost_by_lever", None) or {}
        if self.week == 0:
            by_lever = {}
        return {lever: float(by_lever.get(lever, 0.0)) for lever in LEVER_CONTROLS}

    def step(self) -> None:
        """Advance the market one week (no further than the scenario's length)."""
        if self.market.steps < self.total_weeks:
            self.market.step()
        self.running = self.market.steps < self.total_weeks


def model_params(
    first: str | None = None, folder: Path | None = None, consumers: int = DEFAULT_CONSUMERS
) -> dict:
    """SolaraViz's model parameters: the scenario picker, population and lever sliders.

    Args:
        first: the picker value shown first (default :func:`initial_scenario`).
        folder: the folder the picker lists (default :func:`scenario_dir`); passed to
            the model as the fixed parameter ``scenario_folder``.
        consumers: the population slider's starting value.
    """
    choices, _ = scenario_choices(folder, first)
    first = first or initial_scenario()
    params: dict = {
        "scenario_file": {
            "type": "Select",
            "value": first if first in choices else choices[0],
            "values": choices,
            "label": "Scenario",
        },
        "consumers": {
            "type": "SliderInt",
            "value": int(consumers),
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
    if folder is not None:
        params["scenario_folder"] = str(folder)
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


def readings(model: StudentMarket) -> list[Reading]:
    """Return the current numbers of the panel, in reading order."""
    market = model.market
    table = market.datacollector.model_vars
    rows = [
        Reading("week", "Week", f"{model.week} of {model.total_weeks}"),
        Reading("consumers", "Consumers", f"{market.consumers.n:,}"),
        Reading("merchants", "Merchants", f"{int(active_merchants(market).sum()):,}"),
        Reading("kols", "KOLs (influencers)", f"{market.kols.n:,}"),
    ]
    for metric in metrics_tagged("panel"):
        if metric not in table:
            continue
        rows.append(Reading(metric, metric_label(metric), format_metric(metric, table[metric][-1])))
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


PLATFORM_EXPLANATION = """
### The super-app's closed loop

With a super-app in the scenario, orange rings mark its users and faint pink lines its
group chats. Follow the closed loop of **QR code + account + location + payment +
relation chain**: a store's QR code, an official-account post, a friend's share or a
group-buying invitation brings a consumer to a store (content); friends and group chats
pass it on (community); the consumer buys inside the app and pays in the app, and offline
too, by scanning the shop's QR code (conversion and payment); a good purchase makes the
buyer follow the store, a fake ends the tie. Each of last week's orders is a line from
buyer to seller coloured by the channel that led to it: the super-app's channels
(QR/O2O, official account, friend's share, group, group buy) in warm colours; search,
app market, short video, KOL post and offline in cool ones.
"""

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
                f'<span id="mtsim-consumer-count">{market.consumers.n:,} consumers shown</span>, '
                f"{int(active_merchants(market).sum())} merchants, {market.kols.n} KOLs; "
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
    _, problems = scenario_choices(model.scenario_folder, model.scenario_file)
    sliders = "\n".join(
        f"* **{LEVER_CONTROLS[lever]}** (0 to {LEVER_MAX[lever]:g}): {words}"
        for lever, words in LEVER_WORDS.items()
    )
    text = EXPLANATION
    if model.market.scenario.platforms is not None:
        text += PLATFORM_EXPLANATION
    text = (
        text + "\n### The sliders\n\nEach policy slider switches its lever on from week 1, on "
        "top of the scenario's own policies (0 = the scenario as written). **Consumers** "
        f"sets the population ({DEFAULT_CONSUMERS:,} at first); merchants and KOLs grow with "
        "it. A smaller market steps faster but starts later: with a few merchants, mobile "
        "shopping can take many weeks to begin. Change a slider or the scenario, then press "
        "**Reset**.\n\n" + sliders
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


def pending_changes(model: StudentMarket, chosen: dict) -> list[str]:
    """List the settings chosen on the left that the running market does not have yet.

    The page applies the scenario picker and the sliders on **Reset** (Mesa's
    SolaraViz convention): until then the header names the running scenario and
    lists these pending changes.

    Args:
        model: the running model.
        chosen: the page parameters as set on the left.

    Returns:
        One short text per pending change, e.g. ``"scenario four_regions.yaml"``.
    """
    current = model.settings()
    changes = []
    for key, value in chosen.items():
        if key not in current or value is None:
            continue
        if key == "scenario_file":
            if str(value) != str(current[key]):
                changes.append(f"scenario {value}")
        elif key == "consumers":
            if int(value) != int(current[key]):
                changes.append(f"{int(value):,} consumers")
        elif abs(float(value) - float(current[key])) > 1e-9:
            changes.append(f"{LEVER_CONTROLS.get(key, key)} {float(value):.2f}")
    return changes


@solara.component
def Header(model: StudentMarket, chosen: dict):
    """Show the week, the running scenario, its settings and any change waiting for Reset."""
    update_counter.get()
    sc = model.mtsim_scenario
    moved = [f"{LEVER_CONTROLS[k]} {v:.2f}" for k, v in model.levers.items() if v > 0]
    settings = ", ".join(moved) if moved else "all at 0"
    pending = pending_changes(model, chosen)
    notice = (
        '<div id="mtsim-pending" style="font-size:14px;background:#fff3cd;'
        'border:1px solid #e0c060;border-radius:4px;padding:4px 8px;margin-top:4px">'
        "Waiting for <b>Reset</b>: " + escape(", ".join(pending)) + ". The page still shows "
        f"the running market ({escape(sc.name)}) until you press Reset.</div>"
        if pending
        else ""
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<div style="font-size:20px;font-weight:600"><span id="mtsim-week">Week {model.week}'
            f"</span> of {model.total_weeks} &middot; scenario "
            f'<span id="mtsim-scenario">{escape(sc.name)}</span></div>'
            f'<div style="font-size:13px;color:#555">{escape(sc.description)}</div>'
            f'<div style="font-size:13px;color:#555" id="mtsim-settings">This run: '
            f"{model.market.consumers.n:,} consumers, seed {model.market.seed}; sliders: "
            f"{settings}. Change a setting, then press Reset.</div>" + notice
        ),
        style="margin:4px 0 8px 0",
    )


@solara.component
def MainView(model: StudentMarket, chosen: dict | None = None):
    """Lay out the page's main area (right of the controls)."""
    update_counter.get()
    Header(model, chosen or {})
    with solara.Columns([2, 1]):
        NetworkView(model)
        with solara.Column():
            NumbersPanel(model)
    ChartsView(model)
    Explanation(model)


SLIDER_STYLE = "padding-top:26px"
"""Room above each slider for its value bubble (``thumb_label="always"``), which sits
above the handle, outside the slider's own box: without it, the bubble covers the
slider or the spending line above."""


@solara.component
def SettingSlider(
    spec: dict, label: str, value: float, on_value: Callable[[float], None], refusals: int = 0
):
    """Draw one settings slider that always shows ``value``, the setting's kept value.

    The slider widget itself takes whatever the browser sends, even a value the page
    does not take (:func:`setting_problem`); each refusal (``refusals`` counts them, so
    that the slider is drawn again) puts the kept value back into the widget. (Solara's
    own sliders keep the refused value in a state of their own, hence Vuetify's slider
    here, set as Solara's.)
    """
    slider = rv.Slider(
        v_model=value,
        on_v_model=on_value,
        label=label,
        min=spec["min"],
        max=spec["max"],
        step=spec["step"],
        thumb_label="always",
        hide_details=True,
    )

    def show_kept_value():
        widget = solara.get_widget(slider)
        if widget.v_model != value:
            widget.v_model = value

    solara.use_effect(show_kept_value, [value, refusals])
    return slider


@solara.component
def Settings(model: StudentMarket, params: dict, chosen: solara.Reactive[dict]):
    """Draw the scenario picker, the population slider and the lever sliders.

    Each slider shows its value at all times (in its label and above its handle);
    under each lever slider, the spending on that lever in the last simulated week,
    from the model (:meth:`StudentMarket.lever_spending`). A value off a slider's range
    (:func:`setting_problem`) is not taken: the setting keeps its last valid value, the
    slider shows it again, and the reason is shown under the slider until another
    value is taken.
    """
    update_counter.get()
    spending = model.lever_spending()
    problems = solara.use_reactive({})
    refusals = solara.use_reactive(0)

    def setter(name):
        def set_value(value):
            problem = setting_problem(name, value)
            if problem is not None:
                problems.set({**problems.value, name: problem})
                refusals.set(refusals.value + 1)
            elif value != chosen.value.get(name):  # not the kept value put back
                problems.set({k: v for k, v in problems.value.items() if k != name})
                chosen.set({**chosen.value, name: value})

        return set_value

    for name, spec in params.items():
        if not isinstance(spec, dict):
            continue
        value = chosen.value.get(name, spec["value"])
        if spec["type"] == "Select":
            solara.Select(
                label=spec["label"], values=spec["values"], value=value, on_value=setter(name)
            )
            continue
        shown = f"{int(value):,}" if spec["type"] == "SliderInt" else f"{float(value):.2f}"
        with solara.Div(style=SLIDER_STYLE):
            SettingSlider(spec, f"{spec['label']}: {shown}", value, setter(name), refusals.value)
        if name in spending:
            acting = model.levers.get(name, 0.0) > 0 and model.week > 0
            text = (
                f"spending {format_metric('policy_cost', spending[name])} a week"
                if acting
                else "not acting in this run"
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    f'<span id="mtsim-spend-{name}" class="mtsim-spend">{escape(text)}</span>'
                ),
                style="font-size:12px;color:#555;margin:-14px 0 0 0",
            )
        if name in problems.value:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    f'<span id="mtsim-refused-{name}" class="mtsim-refused">'
                    f"{escape(problems.value[name])} (not taken)</span>"
                ),
                style="font-size:12px;color:#b00020",
            )


@solara.component
def Controls(
    model: solara.Reactive[StudentMarket],
    params: dict,
    chosen: solara.Reactive[dict],
    play_interval: int,
):
    """Mesa's SolaraViz controls (Reset, play/pause, Step) and the page's settings."""
    interval = solara.use_reactive(play_interval)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    with solara.Card("Controls", margin=0):
        ModelController(
            model,
            model_parameters=chosen,
            play_interval=interval,
            render_interval=render_interval,
            use_threads=use_threads,
        )
        WeekCounter(model.value)
        with solara.Div(style=SLIDER_STYLE):
            solara.SliderInt(
                label=f"Play interval: {interval.value} ms",
                value=interval,
                min=10,
                max=1000,
                step=10,
                thumb_label="always",
            )
    with solara.Card("Settings (applied on Reset)", margin=0):
        Settings(model.value, params, chosen)


@solara.component
def WeekCounter(model: StudentMarket):
    """Show the week, as in the header (the market's ``steps``)."""
    update_counter.get()
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<span id="mtsim-sidebar-week">Week {model.week} of {model.total_weeks}</span>'
        ),
        style="font-size:14px;margin-top:6px",
    )


TITLE = "mtsim: mobile shopping, payment and cross-border trade"

APP_BAR_CSS = """
.v-app-bar .v-toolbar-title { flex: 1 1 auto; }
.v-app-bar .v-toolbar-title__placeholder { white-space: normal; line-height: 1.2; }
"""
"""The served page's title bar: Vuetify gives the title half of the bar (an empty spacer
takes the other half) and cuts it with an ellipsis; here it takes the room it needs
and wraps onto a second line on a narrow window instead of being cut."""


@solara.component
def MtsimPage(
    scenario: str | os.PathLike | None = None,
    scenario_dir: str | os.PathLike | None = None,
    consumers: int = DEFAULT_CONSUMERS,
    play_interval: int = 150,
    sidebar: bool = False,
):
    """Render the whole student page as a Solara component: controls, network, numbers, charts.

    Use it in Jupyter (the last expression of a cell renders it inline)::

        from model.viz import MtsimPage
        MtsimPage(scenario="../scenarios/baseline.yaml")

    ``mtsim viz`` serves the same page (:func:`Page`, with a sidebar).

    Args:
        scenario: scenario file shown first (a path, or a file name in the
            picker's folder; default ``MTSIM_VIZ_SCENARIO`` or ``baseline.yaml``).
        scenario_dir: the folder the scenario picker lists (default: the project's
            ``scenarios/``).
        consumers: the population slider's starting value (50 to 2,000; default
            :data:`DEFAULT_CONSUMERS`, the baseline's own size).
        play_interval: milliseconds between weeks when playing.
        sidebar: put the controls in Solara's sidebar (the served page); False puts
            them in a column left of the main area (fits a notebook cell).
    """
    folder = Path(scenario_dir).resolve() if scenario_dir else None
    first = picker_choice(scenario, folder)
    params = solara.use_memo(
        lambda: model_params(first, folder, consumers), [first, str(folder), consumers]
    )
    defaults = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    initial = solara.use_memo(lambda: StudentMarket(**defaults), [first, str(folder), consumers])
    model = solara.use_reactive(initial)
    chosen = solara.use_reactive(defaults)
    if sidebar:
        solara.Style(APP_BAR_CSS)
        with solara.AppBar():
            solara.AppBarTitle(TITLE)
        with solara.Sidebar(), solara.Column():
            Controls(model, params, chosen, play_interval)
        MainView(model.value, chosen.value)
    else:
        with solara.Columns([2, 5], classes=["mtsim-page"]):
            with solara.Column():
                Controls(model, params, chosen, play_interval)
            with solara.Column():
                solara.HTML(tag="div", unsafe_innerHTML=f"<b>{escape(TITLE)}</b>")
                MainView(model.value, chosen.value)


@solara.component
def Page():
    """Render the page ``mtsim viz`` serves (env: MTSIM_VIZ_SCENARIO, MTSIM_VIZ_SCENARIO_DIR)."""
    folder = os.environ.get(ENV_SCENARIO_DIR) or None
    MtsimPage(scenario=os.environ.get(ENV_SCENARIO) or None, scenario_dir=folder, sidebar=True)

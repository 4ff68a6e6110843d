"""Generated blocks of the grounding audit (experiments/grounding_audit.py; issue 28).

Every number comes from the audit's results files (experiments/measured/grounding_audit_*.csv),
which docs/build_records/grounding_audit.json names with their SHA-256:

- ``grounding_cnnic_table`` (docs/calibration.md): payment and shopping among the connected
  at CNNIC's dates, the mean of the runs, the single runs' range and the gaps, then per
  series whether the mean stays within 3 points at every date, how many single runs do, and
  the median run's largest gap;
- ``grounding_money_table`` (docs/calibration.md): per year 2015-2020 the mobile share of
  consumption against NBS's online share of retail and the band "mobile share of online
  spending x NBS share", and GMV in yuan against NBS's online sales per online shopper;
- ``grounding_summary`` (README): the same in three sentences.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MEASURED = "experiments/measured"
CNNIC = f"{MEASURED}/grounding_audit_cnnic.csv"
YEARS = f"{MEASURED}/grounding_audit_years.csv"
TOLERANCE = 3.0
"""The in-sample claim's tolerance: within 3 share points at every CNNIC date."""

SERIES_WORDS = {
    "payment": "payment (mobile payment users / mobile Internet users)",
    "shopping": "shopping, has ever ordered by mobile (fitted until 2026-12-06)",
    "shopping_26w": "shopping, ordered by mobile in the last 26 weeks (CNNIC's definition; fitted)",
}


def _rows(path: str) -> list[dict[str, str]]:
    with (ROOT / path).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _points(value: float) -> str:
    return f"{value:+.1f}"


def _gaps(row: dict[str, str]) -> list[float]:
    """One row's single-run gaps in points, in seed order."""
    return [float(v) for k, v in row.items() if k.startswith("gap_") and k != "gap_points"]


def series_summary(rows: list[dict[str, str]], series: str) -> dict[str, Any]:
    """Summarise what table A's rows of one series say about the in-sample claim.

    Returns: dates, the mean's largest gap (signed, points) and its date, the mean's RMSE,
    whether the mean is within the tolerance at every date, the number of runs, how many
    single runs are within it at every date, and the median and largest of the single
    runs' largest absolute gaps.
    """
    mine = [r for r in rows if r["series"] == series]
    mean_gaps = [float(r["gap_points"]) for r in mine]
    worst = max(range(len(mine)), key=lambda i: abs(mean_gaps[i]))
    per_run = list(zip(*(_gaps(r) for r in mine), strict=True))  # runs x dates
    largest = sorted(max(abs(g) for g in run) for run in per_run)
    n = len(largest)
    median = (largest[(n - 1) // 2] + largest[n // 2]) / 2
    return {
        "dates": len(mine),
        "largest": mean_gaps[worst],
        "largest_date": mine[worst]["date"],
        "rmse": math.sqrt(sum(g * g for g in mean_gaps) / len(mean_gaps)),
        "mean_within": all(abs(g) <= TOLERANCE for g in mean_gaps),
        "runs": n,
        "runs_within": sum(1 for value in largest if value <= TOLERANCE),
        "median_run_largest": median,
        "worst_run_largest": largest[-1],
    }


def _cell(rows: dict[tuple[str, str], dict[str, str]], series: str, date: str) -> tuple[str, str]:
    row = rows.get((series, date))
    if row is None:
        return "", ""
    mean, low, high = float(row["mean"]), float(row["min"]), float(row["max"])
    return (
        f"{_pct(mean)} [{100 * low:.1f}-{100 * high:.1f}]",
        _points(float(row["gap_points"])),
    )


def grounding_cnnic_table(record: dict[str, Any]) -> str:
    """docs/calibration.md: table A, the replay against CNNIC's payment and shopping."""
    from docs.generators import _provenance

    rows = _rows(CNNIC)
    seeds = record.get("seeds", [])
    by = {(r["series"], r["date"]): r for r in rows}
    dates = sorted({r["date"] for r in rows})
    lines = [
        "| CNNIC date | payment: CNNIC | model: mean [single runs] | gap | shopping: CNNIC "
        "| has ever ordered: mean [single runs] | gap | ordered in the last 26 weeks: mean "
        "[single runs] | gap |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for date in dates:
        pay = by.get(("payment", date))
        shop = by.get(("shopping", date))
        cells = [
            date,
            _pct(float(pay["cnnic"])) if pay else "",
            *_cell(by, "payment", date),
            _pct(float(shop["cnnic"])) if shop else "",
            *_cell(by, "shopping", date),
            *_cell(by, "shopping_26w", date),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Shares of mobile Internet users; gaps in share points (model mean - CNNIC); "
        f"[single runs]: the lowest and highest of the {len(seeds)} runs at that date.",
        "",
        f"| series | mean of {len(seeds)} runs: largest gap | RMSE | within "
        f"{TOLERANCE:g} points at every date | single runs within {TOLERANCE:g} points at "
        "every date | median run's largest gap | worst run's largest gap |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for series, words in SERIES_WORDS.items():
        s = series_summary(rows, series)
        lines.append(
            f"| {words} | {_points(s['largest'])} ({s['largest_date']}) | {s['rmse']:.1f} | "
            f"{'yes' if s['mean_within'] else 'no'} | {s['runs_within']} of {s['runs']} | "
            f"{s['median_run_largest']:.1f} | {s['worst_run_largest']:.1f} |"
        )
    lines += [
        "",
        "Largest gaps of single runs are absolute values (points) over the series' "
        "CNNIC dates; the median is over the runs.",
        "",
        _provenance(CNNIC, record),
    ]
    return "\n".join(lines) + "\n"


def year_summary(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Table B per year: means over the runs, ranges, NBS figures, the band."""
    years = sorted({int(r["year"]) for r in rows})
    out = []
    for year in years:
        mine = [r for r in rows if int(r["year"]) == year]
        shares = [float(r["mobile_share"]) for r in mine]

        def mean(column: str, mine=mine) -> float:
            return sum(float(r[column]) for r in mine) / len(mine)

        first = mine[0]
        out.append(
            {
                "year": year,
                "share": sum(shares) / len(shares),
                "share_min": min(shares),
                "share_max": max(shares),
                "nbs": float(first["nbs_online_share"]),
                "band_low": float(first["band_low"]),
                "band_high": float(first["band_high"]),
                "gmv_per_consumer": mean("gmv_yuan_per_consumer"),
                "needs_per_consumer": mean("needs_yuan_per_consumer"),
                "gmv_per_shopper": mean("gmv_yuan_per_active_shopper"),
                "nbs_per_shopper": float(first["nbs_yuan_per_online_shopper"]),
                "nbs_per_capita": float(first["nbs_consumption_yuan_per_capita"]),
                "gmv_units": mean("gmv_units"),
                "runs": {r["seed"]: float(r["mobile_share"]) for r in mine},
            }
        )
    return out


def rises_every_year(summary: list[dict[str, Any]]) -> tuple[bool, list[int], int, int]:
    """Whether the mean share rises every year; the years it does not; runs that do, of all."""
    falls = [
        b["year"] for a, b in zip(summary, summary[1:], strict=False) if b["share"] <= a["share"]
    ]
    seeds = list(summary[0]["runs"])
    rising = sum(
        1
        for seed in seeds
        if all(
            b["runs"][seed] > a["runs"][seed] for a, b in zip(summary, summary[1:], strict=False)
        )
    )
    return not falls, falls, rising, len(seeds)


def _yuan(value: float) -> str:
    return "" if not math.isfinite(value) else f"{value:,.0f}"


def grounding_money_table(record: dict[str, Any]) -> str:
    """docs/calibration.md: table B, the replay's money against NBS, per year."""
    from docs.generators import _provenance

    summary = year_summary(_rows(YEARS))
    n = len(record.get("seeds", []))
    lines = [
        "| year | model: mobile share of consumption, mean [single runs] | NBS: online "
        "physical goods / retail sales | band: mobile share of online spending x NBS | "
        "model / band's lower edge | model: GMV per consumer, yuan a year | GMV change on "
        "the year | model: GMV per active mobile shopper, yuan | NBS online physical goods "
        "per CNNIC online shopper, yuan | model: all shopping needs per consumer, yuan | "
        "NBS: consumption expenditure per person, yuan |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous = None
    for s in summary:
        change = "" if previous is None else f"{100 * (s['gmv_units'] / previous - 1):+.0f}%"
        previous = s["gmv_units"]
        lines.append(
            f"| {s['year']} | {100 * s['share']:.2f}% [{100 * s['share_min']:.2f}-"
            f"{100 * s['share_max']:.2f}] | {_pct(s['nbs'])} | {_pct(s['band_low'])}-"
            f"{_pct(s['band_high'])} | {s['share'] / s['band_low']:.2f} | "
            f"{_yuan(s['gmv_per_consumer'])} | {change} | {_yuan(s['gmv_per_shopper'])} | "
            f"{_yuan(s['nbs_per_shopper'])} | {_yuan(s['needs_per_consumer'])} | "
            f"{_yuan(s['nbs_per_capita'])} |"
        )
    rises, falls, rising, runs = rises_every_year(summary)
    inside = sum(1 for s in summary if s["band_low"] <= s["share"] <= s["band_high"])
    lines += [
        "",
        f"The mean share is inside the band in {inside} of {len(summary)} years; it rises "
        f"every year {summary[0]['year']}-{summary[-1]['year']}: "
        + ("yes" if rises else f"no (not in {', '.join(map(str, falls))})")
        + f"; single runs rising every year: {rising} of {runs}. Each year's share is the "
        "year's mobile goods value over the year's value of all shopping needs (the flows "
        "summed over the 52 weeks ending at 31 December, per run; the mean is over the "
        f"{n} runs). Money in yuan (2015 prices, docs/economics.md); per "
        "active mobile shopper: the year's GMV over the consumers who ordered by mobile in "
        "the last 26 weeks at 31 December, as CNNIC counts shoppers. NBS's consumption "
        "expenditure covers all spending on daily living (housing and services too), the "
        "model's needs are its shopping baskets. The band and the NBS and CNNIC figures, "
        "with their sources: `experiments/data/nbs_online_retail_share.csv`, "
        "`mobile_share_of_online_shopping.csv`, `online_spending_per_shopper.csv`, "
        "`nbs_consumption_per_capita.csv`; blank: not sourced for that year.",
        "",
        _provenance(YEARS, record),
    ]
    return "\n".join(lines) + "\n"


def grounding_summary(record: dict[str, Any]) -> str:
    """README: the audit in three sentences, from its results."""
    from docs.generators import _provenance

    rows = _rows(CNNIC)
    pay, shop, active = (series_summary(rows, s) for s in SERIES_WORDS)
    summary = year_summary(_rows(YEARS))
    first, last = summary[0], summary[-1]
    rises, falls, _, _ = rises_every_year(summary)
    n = len(record.get("seeds", []))

    def verdict(s: dict[str, Any]) -> str:
        return "within" if s["mean_within"] else "not within"

    inside = sum(1 for y in summary if y["band_low"] <= y["share"] <= y["band_high"])
    return (
        f"Grounding audit (`scenarios/china_2013.yaml`, {n} fresh seeds at 2,000 consumers): "
        f"the mean is {verdict(pay)} {TOLERANCE:g} points of CNNIC's payment share at every "
        f"date (largest gap {_points(pay['largest'])}, {pay['largest_date']}) and "
        f"{verdict(active)} them for shopping as CNNIC counts shoppers (ordered in the last "
        f"26 weeks; largest gap {_points(active['largest'])}, {active['largest_date']}); "
        f"{pay['runs_within']} of {pay['runs']} single runs stay within {TOLERANCE:g} "
        f"payment points at every date (median run's largest gap "
        f"{pay['median_run_largest']:.1f}). Counted as having ever ordered by mobile (the "
        f"series fitted until 2026-12-06) the largest shopping gap is "
        f"{_points(shop['largest'])} points. Mobile orders are {100 * first['share']:.1f}% "
        f"of consumption in {first['year']} and {100 * last['share']:.1f}% in "
        f"{last['year']} (mean of the runs; rising every year: {'yes' if rises else 'no'}; "
        f"inside the band NBS's online share of retail x the mobile share of online "
        f"shopping in {inside} of {len(summary)} years), against NBS's online share of "
        f"retail of {_pct(first['nbs'])} and {_pct(last['nbs'])}; GMV per active mobile "
        f"shopper is {_yuan(last['gmv_per_shopper'])} yuan in {last['year']} against "
        f"{_yuan(last['nbs_per_shopper'])} yuan of online physical goods per online shopper "
        '(docs/calibration.md, "Grounding audit").\n\n'
        + _provenance(f"{CNNIC}` and `{YEARS}", record)
        + "\n"
    )


__all__ = [
    "grounding_cnnic_table",
    "grounding_money_table",
    "grounding_summary",
    "rises_every_year",
    "series_summary",
    "year_summary",
]

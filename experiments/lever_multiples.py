"""What the library's lever files do, in numbers computed from runs (docs/policies.md).

    python experiments/lever_multiples.py [--reps R] [--out experiments/lever_multiples.csv]

A file's description says what its lever does ("a subsidy of 3 times the base budget on
one channel"); how much that multiplies what merchants or consumers do depends on the
world (merchants' own spend grows with their revenue), so the multiples are measured
here, not typed. ``python -m docs.build --only lever-multiples`` reruns this script,
records the run (docs/build_records/lever_multiples.json) and writes docs/policies.md's
table "What the library files do" from the CSV; tests/test_scenario_defaults.py checks
that the multiples the scenario descriptions quote are the rounded values of the CSV.

Each file is run with its reference (the world without its policy) on the same seeds
(common random numbers: replication i of both uses seed ``simulation.seed + i``, the
rule of ``mtsim run`` and ``mtsim compare``), at the files' own size, over the weeks
its lever acts at full strength (after the ramp, before the end). Quantities, summed
over those weeks of a run (the multiple of a run is a ratio of sums; the CSV gives the
mean of the runs' multiples and their range):

- ``channel_<c>`` (marketing_*.yaml): spend on channel c, the adopting merchants' own
  (their budget times the channel's ``budget_share``, mechanisms/marketing.py) plus the
  state's subsidy, over their own spend on c in the same run (``spend_multiple``: "the
  subsidy multiplies merchants' spend on the channel by X"); and that total over the
  reference's own spend on c (``spend_vs_reference``).
- ``channel_kol_campaign`` (kol_campaign*.yaml): KOL fees paid, by merchants and by the
  campaign (the ledger's payments to KOLs), over the fees merchants paid themselves in
  the same run (``spend_multiple``), and over the reference's KOL fees
  (``spend_vs_reference``).
- ``merchant_promotion``: the weekly share of active non-adopting merchants that adopt
  mobile channels, against the reference's (``adoption_rate``; the lever informs, and a
  merchant adopts only when it expects mobile channels to pay,
  mechanisms/merchant_adoption.py).
- ``rigid_demand``: the weekly share of connected consumers not paying by mobile who
  start to, against the reference's (``payment_adoption_rate``); and the rigid-demand
  adoption chance with the lever over the one without, ``(rigid_demand_rate + L) /
  rigid_demand_rate``, from the file (``rigid_demand_chance``).
- ``consumer_incentives`` (the coupon files): in the week the coupons start, the share of
  consumers whose trust in their own region's sellers is at or above
  ``trust.purchase_threshold`` (``trusting_share``), their mean trust (``mean_trust``),
  the mean chance that trust lets a wanted purchase from home sellers through
  (``gate_pass``: the gate is graded, ``(trust - threshold) / (1 - threshold)``,
  mechanisms/trust.py) and the share who have ever bought by mobile
  (``shopper_share``), in the file's world.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.market import MarketModel
from model.mechanisms.trust import purchase_gate
from model.policy import ramp_fraction
from model.scenario import Intervention, Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
OUT = ROOT / "experiments" / "lever_multiples.csv"
REPS = 3

FILES: dict[str, str] = {
    "marketing_qr_o2o": "baseline",
    "marketing_app_market": "baseline",
    "marketing_mobile_search": "baseline",
    "marketing_short_video": "baseline",
    "kol_campaign": "baseline",
    "kol_campaign_credibility_risk": "kol_credibility_risk_world",
    "merchant_promotion": "baseline",
    "rigid_demand": "baseline",
    "coupons_before_trust": "baseline",
    "coupons_after_trust": "baseline",
    "low_trust_coupons_before_trust": "low_trust_world",
    "low_trust_coupons_after_trust": "low_trust_world",
}
"""Library file -> its reference (the same world without the policy)."""

COLUMNS = (
    "file",
    "reference",
    "lever",
    "strength",
    "weeks",
    "quantity",
    "value",
    "reference_value",
    "multiple",
    "multiple_low",
    "multiple_high",
    "reps",
)


@dataclass
class Weekly:
    """What one run did in the weeks of interest (sums over those weeks)."""

    own: float = 0.0  # merchants' own spend on the lever's channel (KOL fees for the KOL lever)
    subsidy: float = 0.0  # the state's spend on it
    at_risk: float = 0.0  # merchants (consumers) who could adopt, summed over weeks
    adopted: float = 0.0  # ... and did
    snapshot: dict[str, float] | None = None  # the world in the window's first week


def full_strength_weeks(iv: Intervention, steps: int) -> list[int]:
    """Return the weeks an intervention acts at full strength."""
    return [t for t in range(1, steps + 1) if ramp_fraction(iv, t) >= 1.0]


def run(scenario: Scenario, seed: int, lever: str, weeks: set[int], first: int) -> Weekly:
    """Run one scenario and sum the lever's quantities over ``weeks``."""
    model = MarketModel(scenario, seed=seed)
    out = Weekly()
    channel = lever.removeprefix("channel_") if lever.startswith("channel_") else None
    shares = scenario.marketing.channels
    non_kol = sum(ch.budget_share for name, ch in shares.items() if name != "kol_campaign")
    threshold = scenario.trust.purchase_threshold
    for t in range(1, max(max(weeks), first) + 1):
        m, c = model.merchants, model.consumers
        if t == first:
            trust = np.asarray(c.trust_domestic, dtype=np.float64)
            out.snapshot = {
                "trusting_share": float((trust >= threshold).mean()),
                "mean_trust": float(trust.mean()),
                "gate_pass": float(purchase_gate(trust, threshold).mean()),
                "shopper_share": float(np.asarray(c.has_ordered).mean()),
            }
        could_adopt = (m.active & ~m.adopted).copy() if lever == "merchant_promotion" else None
        could_pay = (c.has_access & ~c.payment).copy() if lever == "rigid_demand" else None
        model.step()
        if t not in weeks:
            continue
        if channel == "kol_campaign":
            ledger = model.last.ledger
            out.own += ledger.flow("merchants", "kols")
            out.subsidy += ledger.flow("state", "kols")
        elif channel is not None:
            signals = model.last_week.signals.as_dict()
            share = shares[channel].budget_share / non_kol
            out.own += float(signals["marketing_spend_by_merchant"].sum()) * share
            out.subsidy += float(signals["channel_subsidy_spend"].get(channel, 0.0))
        elif could_adopt is not None:
            out.at_risk += int(could_adopt.sum())
            out.adopted += int((could_adopt & model.merchants.adopted).sum())
        elif could_pay is not None:
            out.at_risk += int(could_pay.sum())
            out.adopted += int((could_pay & model.consumers.payment).sum())
    return out


def measure(name: str, reference: str, reps: int) -> list[dict[str, object]]:
    """Measure one library file against its reference: its rows of the CSV."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    world = load_scenario(SCENARIOS / f"{reference}.yaml")
    (iv,) = scenario.policies
    steps = scenario.simulation.steps
    weeks = set(full_strength_weeks(iv, steps))
    seeds = [scenario.simulation.seed + i for i in range(reps)]
    base = {
        "file": f"{name}.yaml",
        "reference": f"{reference}.yaml",
        "lever": iv.lever,
        "strength": iv.strength,
        "weeks": f"{min(weeks)}-{max(weeks)}",
        "reps": reps,
    }
    rows: list[dict[str, object]] = []

    def row(quantity, values, reference_values, multiples):
        multiples = np.asarray(multiples, dtype=np.float64)
        rows.append(
            {
                **base,
                "quantity": quantity,
                "value": float(np.mean(values)),
                "reference_value": float(np.mean(reference_values)) if reference_values else "",
                "multiple": float(multiples.mean()) if multiples.size else "",
                "multiple_low": float(multiples.min()) if multiples.size else "",
                "multiple_high": float(multiples.max()) if multiples.size else "",
            }
        )

    if iv.lever == "consumer_incentives":
        snaps = [run(scenario, s, iv.lever, {iv.start}, iv.start).snapshot for s in seeds]
        base["weeks"] = f"{iv.start}"
        for key in ("trusting_share", "mean_trust", "gate_pass", "shopper_share"):
            row(key, [snap[key] for snap in snaps], None, [])
        return rows
    pairs = [
        (run(scenario, s, iv.lever, weeks, 0), run(world, s, iv.lever, weeks, 0)) for s in seeds
    ]
    if iv.lever.startswith("channel_"):
        with_lever = [a.own + a.subsidy for a, _ in pairs]
        row(
            "spend_multiple",
            with_lever,
            [a.own for a, _ in pairs],
            [(a.own + a.subsidy) / a.own for a, _ in pairs],
        )
        row(
            "spend_vs_reference",
            with_lever,
            [b.own + b.subsidy for _, b in pairs],
            [(a.own + a.subsidy) / (b.own + b.subsidy) for a, b in pairs],
        )
    else:
        rates = [a.adopted / a.at_risk for a, _ in pairs]
        ref_rates = [b.adopted / b.at_risk for _, b in pairs]
        quantity = "adoption_rate" if iv.lever == "merchant_promotion" else "payment_adoption_rate"
        row(quantity, rates, ref_rates, [a / b for a, b in zip(rates, ref_rates, strict=True)])
        if iv.lever == "rigid_demand":
            rate = scenario.payment.rigid_demand_rate
            row("rigid_demand_chance", [rate + iv.strength], [rate], [(rate + iv.strength) / rate])
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure the files (all, or ``--only``) and write the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=REPS, help="paired replications per file")
    parser.add_argument("--out", type=Path, default=OUT, help="the CSV to write")
    parser.add_argument("--only", nargs="*", default=None, help="only these library files")
    args = parser.parse_args(argv)
    names = args.only or list(FILES)
    rows = [r for name in names for r in measure(name, FILES[name], args.reps)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"lever_multiples: {len(rows)} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

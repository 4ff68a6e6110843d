"""KOL campaign budget curve (docs/figures/kol_campaign_budget_curve.png) from the sweep.

    mtsim sweep experiments/kol_campaign_budget.yaml
    python experiments/kol_campaign_budget_plot.py [results/kol_campaign_budget]

Per budget level: extra mobile orders per week against level 0 (paired by replication:
the sweep uses the same seeds at every level), its 95% t interval, and the fees the
state actually paid (policy_cost). Writes the figure and kol_campaign_budget_curve.csv
next to the results.
"""

import glob
import sys

import matplotlib
import numpy as np
import pandas as pd
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def curve(folder: str) -> pd.DataFrame:
    """Per level: mean orders, paired extra orders with a 95% interval, fees and cost."""
    design = pd.read_csv(f"{folder}/design.csv")
    parts = pd.concat(pd.read_parquet(p) for p in glob.glob(f"{folder}/parts/*.parquet"))
    weeks = parts[parts.step >= 1]
    runs = weeks.groupby("run").agg(
        orders=("orders", "mean"),
        fees=("kol_fees", "mean"),
        cost=("policy_cost", "mean"),
        cred=("kol_credibility", "last"),
    )
    runs = runs.reset_index().merge(
        design[["run", "point", "replication", "kol_campaign_budget"]], on="run"
    )
    base = runs[runs.point == 0].set_index("replication")["orders"]
    runs["d_orders"] = runs.orders - runs.replication.map(base)
    rows = []
    for level, g in runs.groupby("kol_campaign_budget"):
        n = len(g)
        half = stats.t.ppf(0.975, n - 1) * g.d_orders.std(ddof=1) / np.sqrt(n)
        mean = g.d_orders.mean()
        rows.append(
            dict(level=level, orders=g.orders.mean(), d_orders=mean, low=mean - half,
                 high=mean + half, kol_fees=g.fees.mean(), policy_cost=g.cost.mean(),
                 credibility_final=g.cred.mean())
        )
    table = pd.DataFrame(rows)
    table["orders_per_100_cost"] = 100 * table.d_orders / table.policy_cost.replace(0, np.nan)
    return table


def main() -> None:
    """Print the table, write the CSV and the figure."""
    folder = sys.argv[1] if len(sys.argv) > 1 else "results/kol_campaign_budget"
    r = curve(folder)
    print(r.round(3).to_string(index=False))
    r.to_csv(f"{folder}/kol_campaign_budget_curve.csv", index=False)
    fig, ax = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    ax[0].errorbar(r.level, r.d_orders, yerr=[r.d_orders - r.low, r.high - r.d_orders],
                   marker="o", capsize=3)
    ax[0].axhline(0, color="grey", lw=0.8)
    ax[0].set_xlabel("KOL campaign budget (lever level: x base budget per adopting merchant)")
    ax[0].set_ylabel("extra mobile orders per week (mean, weeks 1-104)")
    ax[0].set_title("Orders bought by the KOL campaign (95% CI, 6 paired runs)")
    ax[1].plot(r.policy_cost, r.d_orders, marker="o")
    ax[1].set_xlabel("campaign cost: KOL fees paid by the state per week")
    ax[1].set_ylabel("extra mobile orders per week")
    ax[1].set_title("Diminishing, non-zero returns")
    for a in ax:
        a.grid(alpha=0.3)
    fig.suptitle("KOL campaign budget 0-10x (experiments/kol_campaign_budget.yaml; "
                 "2,000 consumers, 104 weeks)")
    fig.savefig("docs/figures/kol_campaign_budget_curve.png", dpi=110)


if __name__ == "__main__":
    main()

"""Derive the calibration targets (cnnic_targets.csv, consumption_targets.csv) from the tables here.

    python experiments/data/derive_targets.py

- ``mobile_access_share``: mobile Internet users / population, with the population
  CNNIC itself uses (Internet users / Internet penetration), so numerator and
  denominator come from the same report: penetration x mobile users / Internet users.
- ``mobile_payment_share``: mobile payment users / mobile Internet users
  (cnnic_mobile_payment.csv, as reported or computed there).
- ``mobile_shopping_share``: mobile shopping users / mobile Internet users (the reported
  share where CNNIC gives one, else the ratio of the two counts).

consumption_targets.csv, per calendar year (dated 31 December), the mobile share of
consumption as a band: NBS's online retail sales of physical goods as a share of retail
sales of consumer goods (nbs_online_retail_share.csv) times the mobile share of online
shopping value (mobile_share_of_online_shopping.csv: its low and high; online includes
PC), so ``low`` = NBS x mobile low, ``high`` = NBS x mobile high, and the point
``mobile_share_of_consumption`` = the band's midpoint (shown in tables and figures; the
fit scores the distance to the band, experiments/calibrate_cnnic.yaml).
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _read(name: str) -> dict[str, dict[str, str]]:
    with (HERE / name).open(newline="", encoding="utf-8") as handle:
        return {row["date"]: row for row in csv.DictReader(handle)}


def _num(text: str | None) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def main() -> None:
    """Write cnnic_targets.csv."""
    users = _read("cnnic_mobile_internet_and_shopping.csv")
    payment = _read("cnnic_mobile_payment.csv")
    rows = []
    for date in sorted(set(users) | set(payment)):
        u = users.get(date, {})
        internet = _num(u.get("internet_users_millions"))
        penetration = _num(u.get("internet_penetration_share"))
        mobile = _num(u.get("mobile_internet_users_millions"))
        shoppers = _num(u.get("mobile_shopping_users_millions"))
        shop_share = _num(u.get("mobile_shopping_share_of_mobile_users"))
        access = None
        how = []
        if internet and penetration and mobile:
            access = penetration * mobile / internet
            how.append("access = penetration x mobile users / internet users")
        if shop_share is None and shoppers and mobile:
            shop_share = shoppers / mobile
            how.append("shopping = mobile shoppers / mobile users")
        elif shop_share is not None:
            how.append("shopping share reported")
        pay = _num(payment.get(date, {}).get("share_of_mobile_internet_users"))
        if pay is not None:
            how.append("payment from cnnic_mobile_payment.csv")
        rows.append(
            {
                "date": date,
                "mobile_access_share": "" if access is None else f"{access:.4f}",
                "mobile_payment_share": "" if pay is None else f"{pay:.3f}",
                "mobile_shopping_share": "" if shop_share is None else f"{shop_share:.4f}",
                "how": "; ".join(how),
            }
        )
    _write("cnnic_targets.csv", rows)
    _write("consumption_targets.csv", consumption_rows())


def consumption_rows() -> list[dict[str, str]]:
    """Per year: the band of the mobile share of consumption and its midpoint."""
    nbs = _by_year("nbs_online_retail_share.csv")
    mobile = _by_year("mobile_share_of_online_shopping.csv")
    rows = []
    for year in sorted(set(nbs) & set(mobile)):
        share = float(nbs[year]["online_physical_goods_share_of_retail"])
        low = share * float(mobile[year]["low"])
        high = share * float(mobile[year]["high"])
        rows.append(
            {
                "date": f"{year}-12-31",
                "mobile_share_of_consumption": f"{(low + high) / 2:.4f}",
                "low": f"{low:.4f}",
                "high": f"{high:.4f}",
                "how": (
                    f"NBS online physical goods {share:.3f} of retail sales x mobile share of "
                    f"online shopping {float(mobile[year]['low']):.3f}-"
                    f"{float(mobile[year]['high']):.3f}; point = midpoint"
                ),
            }
        )
    return rows


def _by_year(name: str) -> dict[str, dict[str, str]]:
    with (HERE / name).open(newline="", encoding="utf-8") as handle:
        return {row["year"]: row for row in csv.DictReader(handle)}


def _write(name: str, rows: list[dict[str, str]]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()

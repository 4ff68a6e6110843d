"""Derive the calibration targets (cnnic_targets.csv) from the CNNIC tables in this folder.

    python experiments/data/derive_targets.py

- ``mobile_access_share``: mobile Internet users / population, with the population
  CNNIC itself uses (Internet users / Internet penetration), so numerator and
  denominator come from the same report: penetration x mobile users / Internet users.
- ``mobile_payment_share``: mobile payment users / mobile Internet users
  (cnnic_mobile_payment.csv, as reported or computed there).
- ``mobile_shopping_share``: mobile shopping users / mobile Internet users (the reported
  share where CNNIC gives one, else the ratio of the two counts).
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
    with (HERE / "cnnic_targets.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()

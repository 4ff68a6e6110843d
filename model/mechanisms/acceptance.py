"""Two-sided mobile payment: merchants decide to accept it; consumers follow acceptance.

Rules, per week:

- A merchant selling by mobile revises its decision with chance ``acceptance_rate``.
  It accepts mobile payment when the sales it expects to gain are worth the fee:

      acceptance_gain * s_j  >=  acceptance_fee,

  where ``s_j`` is the share of this week's customers who were mobile payers before
  checkout (where it had none, the share of mobile payers among the consumers of its
  region). A merchant that revises and finds it not worth it stops accepting:
  acceptance can fall.
- The decision binds (mechanisms/ordering.py, rule 9): a buyer at a merchant that does
  not accept mobile payment pays another way (``payment.other_payment``) or does not
  buy; no mobile payment and no checkout adoption take place there. The merchant pays
  ``acceptance_fee`` of the goods value of each order paid by mobile to the payment
  providers (mechanisms/accounts.py). Offline retailers make the same decision on
  platforms' QR codes (mechanisms/o2o.py).
- Consumers adopt mobile payment faster where more merchants accept: their adoption
  chance (mechanisms/payment.py) is multiplied by ``1 - w + w * a_r``, with ``a_r`` the
  share of region r's mobile-selling merchants that accept and ``w`` the
  ``acceptance_weight`` (0: acceptance does not matter; ``a_r = 1`` in a region without
  mobile merchants, so a model without merchants is unchanged).

Source: docs/domain.md, Mechanisms > Mobile payment; the two-sided adoption is the
standard payment-platform argument (merchants accept when enough customers pay and the
fee is worth it). Fee default 0.6% of the order value: the standard WeChat Pay / Alipay
merchant rate (assumption as a model value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.population import count_by_region

if TYPE_CHECKING:
    from model.scenario import Payment


def customer_payment_share(
    order_merchant: np.ndarray,
    order_pays: np.ndarray,
    n_merchants: int,
    merchant_region: np.ndarray,
    region_payer_share: np.ndarray,
) -> np.ndarray:
    """Share of each merchant's customers paying by mobile (region share without orders)."""
    orders = np.bincount(order_merchant, minlength=n_merchants)
    paying = np.bincount(
        order_merchant, weights=order_pays.astype(np.float64), minlength=n_merchants
    )
    fallback = region_payer_share[merchant_region]
    return np.where(orders > 0, paying / np.maximum(orders, 1), fallback)


def decide(
    accepts: np.ndarray,
    adopted: np.ndarray,
    payer_share: np.ndarray,
    fee: float,
    gain: float,
    rate: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return each merchant's acceptance after this week's revisions."""
    if accepts.size == 0:
        return accepts.copy()
    revise = adopted & (rng.random(accepts.size) < rate)
    worth = gain * payer_share >= fee
    return np.where(revise, worth, accepts)


def acceptance_share(
    accepts: np.ndarray, adopted: np.ndarray, merchant_region: np.ndarray, n_regions: int
) -> np.ndarray:
    """Per region, share of mobile-selling merchants accepting mobile payment (1 if none)."""
    sellers = np.bincount(merchant_region[adopted], minlength=n_regions)
    accepting = np.bincount(merchant_region[adopted & accepts], minlength=n_regions)
    return np.where(sellers > 0, accepting / np.maximum(sellers, 1), 1.0)


def adoption_factor(weight: float, share: np.ndarray) -> np.ndarray:
    """Multiplier on consumers' payment adoption from merchants' acceptance."""
    return 1.0 - weight + weight * share


def acceptance_week(
    spec: Payment,
    rng: np.random.Generator,
    *,
    accepts: np.ndarray,
    adopted: np.ndarray,
    merchant_region: np.ndarray,
    consumer_region: np.ndarray,
    pays: np.ndarray,
    order_consumer: np.ndarray,
    order_merchant: np.ndarray,
    n_regions: int,
) -> np.ndarray:
    """Return each merchant's acceptance after this week's revisions (see module docstring).

    Args:
        spec: the payment section (``acceptance_fee``, ``acceptance_gain``,
            ``acceptance_rate``).
        rng: the phase's generator.
        accepts: per merchant, accepts mobile payment.
        adopted: per merchant, sells through mobile channels.
        merchant_region: per merchant, its region.
        consumer_region: per consumer, its region.
        pays: per consumer, pays by mobile.
        order_consumer: per order of the week, its consumer.
        order_merchant: per order of the week, its merchant.
        n_regions: number of regions.
    """
    residents = count_by_region(consumer_region, n_regions)
    payers = count_by_region(consumer_region, n_regions, pays)
    region_share = np.where(residents > 0, payers / np.maximum(residents, 1), 0.0)
    share = customer_payment_share(
        order_merchant, pays[order_consumer], accepts.size, merchant_region, region_share
    )
    return decide(
        accepts,
        adopted,
        share,
        spec.acceptance_fee,
        spec.acceptance_gain,
        spec.acceptance_rate,
        rng,
    )

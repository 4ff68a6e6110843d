"""Merchant adoption of mobile marketing: imitation of successful peers, promotion and training.

Rule: a merchant that does not use mobile marketing adopts it in a step with
probability

    P = min(1, promotion_rate + imitation * A_r * S_r)

where ``promotion_rate`` is its own rate plus the ``merchant_promotion`` lever,
``A_r`` the share of merchants of its region r that have adopted and
``S_r = R_r / (R_r + traditional_revenue)`` the success of those adopters
(``R_r`` their mean mobile revenue last step). Adoption is kept once made.

Source (DOMAIN.md, mechanism 3): "Adoption by merchants spreads by imitation of
successful peers and by government promotion and training"; merchant actor:
"many cling to traditional marketing".
"""

from __future__ import annotations

import numpy as np

from model.scenario import Merchants


def adoption_probability(
    spec: Merchants,
    promotion_rate: float,
    merchant_region: np.ndarray,
    adopted: np.ndarray,
    revenue: np.ndarray,
    n_regions: int,
) -> np.ndarray:
    """Per merchant chance to adopt mobile marketing this step (0 for adopters)."""
    total = np.bincount(merchant_region, minlength=n_regions).astype(np.float64)
    adopters = np.bincount(merchant_region[adopted], minlength=n_regions).astype(np.float64)
    adopter_revenue = np.bincount(
        merchant_region[adopted], weights=revenue[adopted], minlength=n_regions
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, adopters / total, 0.0)
        mean_revenue = np.where(adopters > 0, adopter_revenue / np.maximum(adopters, 1), 0.0)
    mean_revenue = np.maximum(mean_revenue, 0.0)
    success = mean_revenue / (mean_revenue + spec.traditional_revenue)
    p = np.minimum(1.0, promotion_rate + spec.imitation * share * success)[merchant_region]
    return np.where(adopted, 0.0, p)

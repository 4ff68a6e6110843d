"""Mobile access (infrastructure investment).

Rule: consumer i has usable mobile access at step t when ``u_i < a_r(t)``, where
``u_i`` is a uniform draw fixed at start and ``a_r(t)`` the access share of the
consumer's region r: the region's starting share plus natural growth
(``regions.*.access_growth`` per step), with the ``infrastructure`` lever closing
share L of the remaining gap. Access therefore only grows as the share grows, and
the same consumers stay connected.

Source (DOMAIN.md, policy levers): "infrastructure investment: share of consumers
with usable mobile access (ramping up over time)".
"""

from __future__ import annotations

import numpy as np


def mobile_access(access_draw: np.ndarray, region: np.ndarray, access_share: np.ndarray) -> np.ndarray:
    """Who has usable mobile access, given each region's access share."""
    return access_draw < access_share.astype(np.float32)[region]

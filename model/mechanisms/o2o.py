"""O2O: offline purchases paid by scanning a QR code, on the ordering's one offline channel.

Rule. The offline alternative of the weekly shopping choice (mechanisms/ordering.py,
"offline at home") is the one offline channel. With a ``platforms:`` section, each
offline purchase is paid either in cash or by scanning the retailer's QR code:

- in region r a share ``a_rp`` of the offline retailers accepts platform p's QR code
  (the retailers' decision below); a consumer pays with the wallets it holds (holding
  none, with those of the platforms it uses: mechanisms/platform.py, multi-homing) and
  shops at a retailer accepting one of them with chance ``A = 1 - prod_p (1 - a_rp)``
  over those wallets (or, with interoperability ``I`` and more than one platform,
  another platform's code works with chance ``I``: ``A + (1 - A) * I``); the wallet it
  pays with is one of its own the retailer accepts (drawn in proportion to ``a_rp``),
  else (through interoperability) the first it holds; else, when the retailer accepts
  the code of another platform it uses (chance ``B``, the same product over those
  platforms), it activates that platform's wallet with chance ``activation``
  (``platforms.checkout_activation``): in all
  ``A + (1 - A) * I + (1 - A) * (1 - I) * B * activation``;
- a platform user who already pays by mobile pays by QR with chance ``qr_payment``;
- a user who does not yet pay by mobile pays by QR for the first time with chance
  ``first_qr_payment * (1 - perceived risk)``; it then pays by mobile (it joins the
  ordering's ``adopted_at_checkout``, committed by the consumer-records phase): offline
  QR payment as the way into mobile payment, as for many in the material;
- everyone else pays cash.

The money is the same as before (the consumer pays the offline retailer); the retailer
pays the platform ``qr_fee`` of a QR payment; a payer without that wallet activates it.
A QR payer scanned a store's code: next week's mobile orders without a closer touch are
attributed to ``qr_o2o`` (mechanisms/attribution.py), and it may follow a nearby store
(mechanisms/platform.py).

Retailers' QR acceptance (:func:`qr_acceptance_week`, in the acceptance phase after the
week's sales; state ``platforms.qr_acceptance``, regions x platforms). It is the offline
retailers' version of the merchants' decision on mobile payment
(mechanisms/acceptance.py). Offline retailers are outside the model (no agents), so the
rule acts on shares: each week a share ``qr_acceptance_rate`` of region r's retailers
revises its decision on platform p's code, and a revising retailer accepts when the
sales it expects to gain are worth the fee:

    qr_acceptance_gain * q_rp  >=  qr_fee,

with ``q_rp`` the share of region r's consumers who hold platform p's wallet and pay by
mobile (the customers who would pay it by QR; retailers serve the whole region). So
``a_rp <- a_rp + qr_acceptance_rate * (1[worth] - a_rp)``: acceptance rises towards 1
where enough customers pay by QR, and falls towards 0 where the fee is not worth it.
At week 0 ``a_rp`` is ``platforms.platforms.<p>.qr_acceptance`` in every region (the
starting share). The rule draws no random numbers.

Location (LBS) within a region (:func:`draw_districts`, :func:`merchant_districts`,
:func:`tier_kernel`). Each region is split into ``marketing.districts`` districts on a
line; the distance tier between two districts d and d' is ``|d - d'|`` (0: the same
district). A consumer's district is drawn uniformly at build; merchant slot j's is
``j mod districts`` (no draw, so entrants have one too). A location-based channel
(``distance_decay`` < 1, e.g. the QR/O2O entrance) lands a merchant's home impressions on
district d' in proportion to ``distance_decay ** tier`` (mechanisms/marketing.py): nearby
consumers see more of a store's location-based ads. Source: field experiments on mobile
location-based advertising find response falling with the distance to the store
(Molitor, Reichhart, Spann & Ghose 2020, "Measuring the effectiveness of location-based
advertising: a randomized field experiment", Journal of Retailing 96(1); Fong, Fang & Luo
2015, "Geo-conquesting: competitive locational targeting of mobile promotions", Journal
of Marketing Research 52(5); Ghose, Li & Liu 2019, "Mobile targeting using customer
trajectory patterns", Management Science 65(11)); the size of the decay per tier is an
assumption (scenarios/baseline.yaml).

Source: docs/domain.md, Mechanisms > Mobile payment (offline QR payment first; the
two-sided argument: sellers accept a payment means when enough customers use it and the
fee is worth it) and Social commerce (QR codes, location-based discovery of nearby
businesses). ``qr_acceptance_gain`` and ``qr_acceptance_rate`` are assumptions, set
like the merchants' ``acceptance_gain`` and ``acceptance_rate`` (scenarios/baseline.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.scenario import O2O

if TYPE_CHECKING:
    from model.scenario import Platforms


@dataclass
class QrWeek:
    """One week's offline payments by QR code.

    Attributes:
        payer: consumers who paid offline by QR this week.
        value: per QR payer, the amount paid.
        platform: per QR payer, the platform wallet it paid with.
        first_time: consumers whose QR payment was their first mobile payment.
    """

    payer: np.ndarray
    value: np.ndarray
    platform: np.ndarray
    first_time: np.ndarray


def initial_qr_acceptance(spec: Platforms, n_regions: int) -> np.ndarray:
    """Regions x platforms: the starting share of retailers accepting each platform's code."""
    start = np.array([p.qr_acceptance for p in spec.platforms.values()], dtype=np.float64)
    return np.tile(start, (n_regions, 1))


def split_offline(
    spec: O2O,
    rng: np.random.Generator,
    buyers: np.ndarray,
    value: np.ndarray,
    user: np.ndarray,
    pays: np.ndarray,
    risk: np.ndarray,
    qr_acceptance: np.ndarray,
    interoperability: float,
    home: np.ndarray,
    activation: float = 0.0,
) -> QrWeek:
    """Which offline purchases are paid by QR (see module docstring).

    Args:
        spec: the O2O parameters.
        rng: the phase's generator.
        buyers: consumers who bought offline this week.
        value: per buyer, the amount paid.
        user: per consumer, its platform (-1 none); or the pair (member, wallet) of
            n x P tables (platform use and wallets held; multi-homing).
        pays: per consumer, pays by mobile.
        risk: per consumer, perceived payment risk.
        qr_acceptance: regions x platforms, share of retailers accepting each code.
        interoperability: chance another platform's code works.
        home: per buyer, its region (where it shops offline).
        activation: chance a user activates the wallet of another platform it uses
            when the retailer accepts only that platform's code.
    """
    n_platforms = qr_acceptance.shape[1]
    member, held = _tables(user, n_platforms)
    member, held = member[buyers], held[buyers]
    means = held | (member & ~held.any(axis=1)[:, None])
    is_user = member.any(axis=1)
    draws = rng.random((2, buyers.size))
    shares = qr_acceptance[home.astype(np.int64)]
    rates = np.where(means, shares, 0.0)
    single = means.sum(axis=1) <= 1  # one wallet: its platform's share (exactly)
    own = np.where(single, rates.sum(axis=1), 1.0 - np.prod(1.0 - rates, axis=1))
    new_rates = np.where(member & ~means, shares, 0.0)  # codes of its other platforms
    interop = (1.0 - own) * interoperability * (n_platforms > 1)
    via_interop = own + interop
    new = (1.0 - via_interop) * (1.0 - np.prod(1.0 - new_rates, axis=1)) * activation
    accept = via_interop + new
    takes_qr = is_user & (draws[0] < accept)
    payer = pays[buyers]
    wants = np.where(payer, spec.qr_payment, spec.first_qr_payment * (1.0 - risk[buyers]))
    qr = takes_qr & (draws[1] < wants)
    p = means.argmax(axis=1)  # through interoperability: the first wallet it holds
    if n_platforms > 1 and qr.any():  # which wallet: one the retailer takes
        pos = np.flatnonzero(qr)
        u = draws[0][pos]
        fresh = u >= via_interop[pos]  # a new wallet, of a platform whose code it takes
        table = np.where(fresh[:, None], new_rates[pos], rates[pos])
        cdf = np.cumsum(table, axis=1)
        pick = rng.random(pos.size) * cdf[:, -1]
        chosen = np.minimum((cdf < pick[:, None]).sum(axis=1), n_platforms - 1)
        p[pos] = np.where(fresh | (u < own[pos]), chosen, p[pos])
    return QrWeek(
        payer=buyers[qr],
        value=value[qr],
        platform=p[qr],
        first_time=buyers[qr & ~payer],
    )


def _tables(user, n_platforms: int) -> tuple[np.ndarray, np.ndarray]:
    """(member, wallet) n x P tables from a platform code per consumer or the pair itself.

    A code per consumer (-1 none) is one platform per consumer, whose wallet it holds.
    """
    if isinstance(user, tuple):
        return user
    code = np.asarray(user).astype(np.int64)
    table = code[:, None] == np.arange(n_platforms)[None, :]
    return table, table


def qr_payer_share(
    user: np.ndarray, pays: np.ndarray, region: np.ndarray, n_regions: int, n_platforms: int
) -> np.ndarray:
    """Regions x platforms: share of the region's consumers who hold its wallet and pay."""
    residents = np.bincount(region, minlength=n_regions).astype(np.float64)
    _, held = _tables(user, n_platforms)
    ok = held & pays[:, None]
    counts = np.zeros((n_regions, n_platforms))
    for p in range(n_platforms):
        counts[:, p] = np.bincount(region[ok[:, p]], minlength=n_regions)
    return counts / np.maximum(residents, 1.0)[:, None]


def qr_acceptance_week(
    spec: O2O,
    qr_acceptance: np.ndarray,
    *,
    user: np.ndarray,
    pays: np.ndarray,
    region: np.ndarray,
) -> np.ndarray:
    """Return regions x platforms QR acceptance after this week's revisions (see docstring).

    Args:
        spec: the O2O parameters (``qr_fee``, ``qr_acceptance_gain``,
            ``qr_acceptance_rate``).
        qr_acceptance: regions x platforms, the share accepting at the start of the week.
        user: per consumer, its platform (-1 none), or the pair (member, wallet) of
            n x P tables (the wallets held count).
        pays: per consumer, pays by mobile.
        region: per consumer, its region.
    """
    n_regions, n_platforms = qr_acceptance.shape
    share = qr_payer_share(user, pays, region, n_regions, n_platforms)
    worth = (spec.qr_acceptance_gain * share >= spec.qr_fee).astype(np.float64)
    return qr_acceptance + spec.qr_acceptance_rate * (worth - qr_acceptance)


def draw_districts(n: int, districts: int, rng: np.random.Generator) -> np.ndarray:
    """Per consumer, its district within its region (uniform; uint8)."""
    if districts <= 1:
        return np.zeros(n, dtype=np.uint8)
    return rng.integers(0, districts, size=n, dtype=np.uint8)


def merchant_districts(n_slots: int, districts: int) -> np.ndarray:
    """Per merchant slot, its district within its region: ``slot mod districts`` (no draw)."""
    return (np.arange(n_slots) % max(1, districts)).astype(np.intp)


def tier_kernel(districts: int, decay: float) -> np.ndarray:
    """Districts x districts: share of a merchant's home impressions landing on each district.

    Row d (the merchant's district) is ``decay ** |d - d'|``, normalised to sum 1.
    """
    d = np.arange(max(1, districts))
    k = float(decay) ** np.abs(d[:, None] - d[None, :]).astype(np.float64)
    return k / k.sum(axis=1, keepdims=True)

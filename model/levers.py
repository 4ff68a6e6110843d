"""The policy levers a scenario may switch on, the marketing channels, and each lever's cap.

This module is the one place the names live. Both the scenario schema
(model/scenario.py, which validates an intervention's strength against
``LEVER_MAX``) and the policy timeline (model/policy.py, which turns levels into
effective parameters) import it; neither imports the other.
"""

from __future__ import annotations

CHANNELS: tuple[str, ...] = ("qr_o2o", "app_market", "mobile_search", "short_video", "kol_campaign")
"""Mobile marketing channels (docs/domain.md, 'Policy levers': marketing innovation)."""

LEVER_MAX: dict[str, float] = {
    "infrastructure": 1.0,
    "payment_security": 1.0,
    "merchant_promotion": 1.0,
    "integrity": 1.0,
    **{f"channel_{c}": 10.0 for c in CHANNELS},
    "cross_border_facilitation": 1.0,
    "consumer_incentives": 0.9,
    "kol_disclosure": 1.0,
    "rigid_demand": 1.0,
    # platform levers (policy.py applies them; no effect without a ``platforms:`` section)
    "platform_fee": 1.0,
    "platform_verification": 1.0,
    "interoperability": 1.0,
    "spam_control": 1.0,
}
"""Each lever's maximum level (overlapping interventions are capped here)."""

LEVERS: tuple[str, ...] = tuple(LEVER_MAX)
"""Every policy lever a scenario may switch on (see model/policy.py for their meaning)."""

COUNTRY_LEVERS: tuple[str, ...] = (
    "infrastructure",
    "cross_border_facilitation",
    "payment_security",
    "integrity",
    "merchant_promotion",
    "rigid_demand",
)
"""Levers an intervention may restrict to some countries (``countries:``; model/policy.py).

These act through per-region parameters, read by each agent's region: access and
transaction reliability (infrastructure), the [origin, destination] trade matrices
(facilitation: the importing country's pairs), fraud rate and perceived payment risk
and the rigid-demand adoption chance (payment_security, rigid_demand: the consumer's
region), verification rate, detection and the promotion chance (integrity,
merchant_promotion: the merchant's region). Their costs are paid where their activity
is (mechanisms/accounts.py). The other levers act through one number for the whole
world; scoping one needs the mechanism that reads the number to read it per region."""

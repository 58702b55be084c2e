"""The monitor's fixed vocabularies, defined once: check reasons and their outcomes, outcomes, health states,
and which of them count as working or failing.

Plain values with no imports, so the crawlers, the models, the services, the OpenAPI document, the roll-up
trigger SQL and the label tables (portal/formatting.py) all derive from here. docs/architecture.md explains
each reason.
"""

from __future__ import annotations

REASON_OUTCOMES: dict[str, str] = {
    "ok": "up",
    "slow": "degraded",
    "http_error": "down",
    "not_found": "down",
    "maintenance": "down",
    "timeout": "down",
    "dns_error": "down",
    "connection_error": "down",
    "tls_error": "down",
    "too_many_redirects": "down",
    "challenge": "degraded",
    "rate_limited": "degraded",
    "empty_response": "down",
    "blocked_address": "down",
    "invalid_url": "down",
}
REASONS = tuple(REASON_OUTCOMES)
OUTCOMES = ("up", "degraded", "down")
FAILURE_REASONS = tuple(reason for reason, outcome in REASON_OUTCOMES.items() if outcome == "down")
NETWORK_REASONS = frozenset({"dns_error", "connection_error", "timeout", "tls_error"})  # the host's, not the path's

HEALTH_STATES = ("unknown", "up", "degraded", "down", "dead")
WORKING = ("up", "degraded")  # an outcome or a health state that counts as working
FAILING = ("down", "dead")  # the health states of a service that does not work


def working_sum(row: str = "") -> str:
    """SQL adding a daily roll-up row's working checks: "NEW.up + NEW.degraded" (no row: "up + degraded")."""
    return " + ".join(f"{row}.{outcome}" if row else outcome for outcome in WORKING)

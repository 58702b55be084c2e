"""The health state machine of a service, over plain values.

- `up` after one good check; `degraded` after a check that worked but was slow or met a bot wall
  (neither counts as a failure);
- a failed check (outcome `down`) is re-checked soon, not at the next sweep; the service becomes
  `down` after `failures_to_down` consecutive failures;
- `dead` once it has been down for `dead_after`;
- a failure inferred from the host (no request made) is a first failure at most;
- becoming down opens an incident, down → dead escalates it, leaving down/dead closes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.vocabulary import FAILING, OUTCOMES, WORKING

FAILED = frozenset(FAILING)

OPEN, CLOSE, ESCALATE = "open", "close", "escalate"


@dataclass(frozen=True)
class HealthRules:
    failures_to_down: int = 2
    dead_after: timedelta = timedelta(days=7)
    recheck_after: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class HealthState:
    health: str = "unknown"
    since: datetime | None = None
    failures: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class Transition:
    """The state after a check, what to do with the incident, and whether to check again soon."""

    before: HealthState
    after: HealthState
    incident: str | None = None
    recheck_soon: bool = False

    @property
    def changed(self) -> bool:
        return self.before.health != self.after.health

    @property
    def alert(self) -> str | None:
        """The alert this transition raises: `down`, `dead`, `recovered` or None."""
        if self.incident == OPEN:
            return "down"
        if self.incident == ESCALATE:
            return "dead"
        if self.incident == CLOSE:
            return "recovered"
        return None


def next_state(state: HealthState, outcome: str, reason: str, now: datetime,
               rules: HealthRules = HealthRules(),  # noqa: B008 - frozen, immutable default
               inferred: bool = False) -> Transition:
    """Apply one check result (`outcome` ∈ up/degraded/down, `reason` from the check vocabulary).

    An `inferred` failure (the host failed for other URLs, this one was not requested) counts as a
    first failure only: the service becomes `down` after its own confirming re-check."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")

    if outcome in WORKING:
        since = state.since if state.health == outcome else now
        after = HealthState(outcome, since, 0, reason)
        return Transition(state, after, CLOSE if state.health in FAILED else None)

    failures = state.failures + 1
    if inferred and state.health not in FAILED:
        failures = min(failures, rules.failures_to_down - 1)
    if state.health == "down":
        if state.since is not None and now - state.since >= rules.dead_after:
            return Transition(state, HealthState("dead", now, failures, reason), ESCALATE)
        return Transition(state, HealthState("down", state.since, failures, reason))
    if state.health == "dead":
        return Transition(state, HealthState("dead", state.since, failures, reason))
    if failures >= rules.failures_to_down:
        return Transition(state, HealthState("down", now, failures, reason), OPEN)
    # A first failure: keep the current health, but look again soon to confirm or clear it.
    return Transition(state, HealthState(state.health, state.since, failures, state.reason), recheck_soon=True)

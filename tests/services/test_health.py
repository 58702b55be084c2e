"""The health state machine, table and property tests over plain values."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services.health import CLOSE, ESCALATE, OPEN, HealthRules, HealthState, next_state

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
RULES = HealthRules()


@pytest.mark.parametrize(
    ("before", "outcome", "reason", "health", "failures", "incident", "recheck"),
    [
        (HealthState(), "up", "ok", "up", 0, None, False),
        (HealthState(), "degraded", "slow", "degraded", 0, None, False),
        (HealthState(), "down", "timeout", "unknown", 1, None, True),
        (HealthState("unknown", None, 1), "down", "timeout", "down", 2, OPEN, False),
        (HealthState("up", T0, 0), "down", "http_error", "up", 1, None, True),
        (HealthState("up", T0, 1), "down", "http_error", "down", 2, OPEN, False),
        (HealthState("up", T0, 1), "up", "ok", "up", 0, None, False),
        (HealthState("up", T0, 0), "degraded", "challenge", "degraded", 0, None, False),
        (HealthState("degraded", T0, 1), "down", "dns_error", "down", 2, OPEN, False),
        (HealthState("down", T0, 2), "down", "timeout", "down", 3, None, False),
        (HealthState("down", T0, 2), "up", "ok", "up", 0, CLOSE, False),
        (HealthState("down", T0, 2), "degraded", "challenge", "degraded", 0, CLOSE, False),
        (HealthState("dead", T0, 50), "up", "ok", "up", 0, CLOSE, False),
        (HealthState("dead", T0, 50), "down", "timeout", "dead", 51, None, False),
    ],
)
def test_transitions(before, outcome, reason, health, failures, incident, recheck):
    step = next_state(before, outcome, reason, T0 + timedelta(hours=1), RULES)
    assert (step.after.health, step.after.failures, step.incident, step.recheck_soon) == (
        health, failures, incident, recheck)


def test_down_for_seven_days_becomes_dead_and_escalates():
    down = HealthState("down", T0, 2, "timeout")
    assert next_state(down, "down", "timeout", T0 + timedelta(days=6, hours=23), RULES).after.health == "down"
    step = next_state(down, "down", "timeout", T0 + timedelta(days=7), RULES)
    assert step.after.health == "dead"
    assert step.incident == ESCALATE
    assert step.alert == "dead"


def test_health_since_moves_only_on_change():
    up = HealthState("up", T0, 0, "ok")
    later = T0 + timedelta(hours=5)
    assert next_state(up, "up", "ok", later).after.since == T0
    assert next_state(up, "degraded", "slow", later).after.since == later
    assert next_state(up, "down", "timeout", later).after.since == T0  # unconfirmed failure


def test_unknown_outcome_is_refused():
    with pytest.raises(ValueError):
        next_state(HealthState(), "sideways", "ok", T0)


outcomes = st.sampled_from([("up", "ok"), ("degraded", "slow"), ("degraded", "challenge"), ("down", "timeout"),
                            ("down", "http_error")])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(outcomes, st.integers(min_value=1, max_value=3 * 24 * 60)), max_size=60))
def test_properties_over_any_sequence(sequence):
    state, now, open_incident = HealthState(), T0, False
    down_streak = 0
    for (outcome, reason), minutes in sequence:
        now += timedelta(minutes=minutes)
        step = next_state(state, outcome, reason, now)
        after = step.after
        down_streak = down_streak + 1 if outcome == "down" else 0
        # one good (or degraded) check ends every failure; failures count consecutive downs only
        assert after.failures == down_streak
        if outcome != "down":
            assert after.health == outcome
        # down only after two consecutive failures; dead only from down after 7 days
        if after.health == "down":
            assert down_streak >= 2
        if after.health == "dead" and state.health != "dead":
            assert state.health == "down" and now - state.since >= timedelta(days=7)
        # incidents open and close in step with leaving and entering the failing states
        if step.incident == OPEN:
            assert not open_incident
            open_incident = True
        elif step.incident == CLOSE:
            assert open_incident
            open_incident = False
        elif step.incident == ESCALATE:
            assert open_incident
        assert open_incident == (after.health in ("down", "dead"))
        # health changes between up/degraded/unknown and down/dead always come with an incident action
        if (state.health in ("down", "dead")) != (after.health in ("down", "dead")):
            assert step.incident in (OPEN, CLOSE)
        # a failure that did not (yet) make the service down is re-checked soon
        assert step.recheck_soon == (outcome == "down" and after.health not in ("down", "dead"))
        state = after

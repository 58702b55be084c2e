"""Sanity checks on a new set of crawled figures before it is accepted; problems hold it for review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Figures = Mapping[str, int | float | None]

NEGATIVE = "negative"
ONLINE_EXCEEDS_TOTAL = "online_exceeds_total"
ON_TIME_EXCEEDS_RESOLVED = "on_time_exceeds_resolved"
RATE_OUT_OF_RANGE = "rate_out_of_range"
TOTAL_DROPPED = "total_dropped"

_COUNTED = ("received_total", "received_online", "resolved", "resolved_on_time", "online_rate")


@dataclass(frozen=True)
class Problem:
    """One reason to hold a snapshot back: a stable code and a human message."""

    code: str
    message: str


def check(figures: Figures, previous: Figures | None = None) -> list[Problem]:
    """Problems with a new snapshot, compared with the last accepted one when given; empty if plausible."""
    problems: list[Problem] = []
    for name in _COUNTED:
        value = figures.get(name)
        if value is not None and value < 0:
            problems.append(Problem(NEGATIVE, f"{name} is negative ({value})"))

    total, online = figures.get("received_total"), figures.get("received_online")
    if total is not None and online is not None and online > total:
        problems.append(
            Problem(ONLINE_EXCEEDS_TOTAL, f"received_online ({online}) exceeds received_total ({total})")
        )

    resolved, on_time = figures.get("resolved"), figures.get("resolved_on_time")
    if resolved is not None and on_time is not None and on_time > resolved:
        problems.append(
            Problem(ON_TIME_EXCEEDS_RESOLVED, f"resolved_on_time ({on_time}) exceeds resolved ({resolved})")
        )

    rate = figures.get("online_rate")
    if rate is not None and not 0 <= rate <= 100:
        problems.append(Problem(RATE_OUT_OF_RANGE, f"online_rate ({rate}) is outside 0–100"))

    before = previous.get("received_total") if previous else None
    if before is not None and total is not None and before > 0 and total < before / 2:
        problems.append(
            Problem(TOTAL_DROPPED, f"received_total fell from {before} to {total}, more than half")
        )
    return problems

"""Storage that scales: daily roll-ups of raw checks (kept for ever), retention of raw checks, uptime.

A day is a calendar day in Vietnam (Asia/Ho_Chi_Minh, UTC+7, no daylight saving). Uptime over a window
reads the roll-ups of the whole days before today plus today's raw checks; the 24-hour figure reads the
raw checks directly. "Working" means outcome up or degraded, as on the agency pages.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from portal.models import Check, DailyRollup, Service, utcnow
from portal.services.periods import VIETNAM, local_day
from portal.vocabulary import OUTCOMES, WORKING

DAY_ZONE = VIETNAM
WINDOWS = (("24h", 1), ("7d", 7), ("30d", 30), ("90d", 90))

_WORKING_CHECKS = functools.reduce(operator.add, (getattr(DailyRollup, outcome) for outcome in WORKING))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a Vietnamese calendar day, in UTC."""
    start = datetime.combine(day, time.min, tzinfo=DAY_ZONE).astimezone(UTC)
    return start, start + timedelta(days=1)


def _percentile(sorted_values: list[int], share: float) -> int | None:
    """Nearest-rank percentile, the same definition as PostgreSQL's percentile_disc."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def rollup_day(session: Session, day: date) -> int:
    """(Re)compute the roll-ups of every service checked on `day`; idempotent. Commits; returns rows."""
    start, end = day_bounds(day)
    in_day = (Check.checked_at >= start, Check.checked_at < end, Check.monitor_fault_id.is_(None))
    counts: dict[int, dict[str, Any]] = {}
    for service_id, outcome, reason, n in session.execute(
        select(Check.service_id, Check.outcome, Check.reason, func.count())
        .where(*in_day)
        .group_by(Check.service_id, Check.outcome, Check.reason)
    ):
        row = counts.setdefault(service_id, {"checks": 0, "up": 0, "degraded": 0, "down": 0, "reasons": {}})
        row["checks"] += n
        if outcome in OUTCOMES:
            row[outcome] += n
        row["reasons"][reason] = row["reasons"].get(reason, 0) + n

    latencies: dict[int, tuple[int | None, int | None]] = {}
    if session.get_bind().dialect.name == "postgresql":
        for service_id, p50, p95 in session.execute(
            select(
                Check.service_id,
                func.percentile_disc(0.5).within_group(Check.elapsed_ms),
                func.percentile_disc(0.95).within_group(Check.elapsed_ms),
            ).where(*in_day).group_by(Check.service_id)
        ):
            latencies[service_id] = (p50, p95)
    else:
        current: int | None = None
        values: list[int] = []
        rows = session.execute(
            select(Check.service_id, Check.elapsed_ms).where(*in_day).order_by(Check.service_id, Check.elapsed_ms)
        )
        for service_id, elapsed in [*rows, (None, None)]:
            if service_id != current:
                if current is not None:
                    latencies[current] = (_percentile(values, 0.5), _percentile(values, 0.95))
                current, values = service_id, []
            if elapsed is not None:
                values.append(elapsed)

    session.execute(delete(DailyRollup).where(DailyRollup.day == day))
    session.add_all(
        DailyRollup(service_id=service_id, day=day, p50_ms=latencies.get(service_id, (None, None))[0],
                    p95_ms=latencies.get(service_id, (None, None))[1], **row)
        for service_id, row in counts.items()
    )
    session.commit()
    return len(counts)


def purge_checks(session: Session, retention_days: int, now: datetime | None = None, *, batch: int = 10_000) -> int:
    """Delete raw checks older than the retention window, in batches. Commits; returns rows deleted."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    total = 0
    while True:
        ids = select(Check.id).where(Check.checked_at < cutoff).limit(batch).scalar_subquery()
        deleted = session.execute(delete(Check).where(Check.id.in_(ids)), execution_options={
            "synchronize_session": False}).rowcount
        session.commit()
        total += deleted
        if deleted < batch:
            return total


def _share(good: int, total: int) -> float | None:
    return round(100.0 * good / total, 2) if total else None


def _raw_counts(session: Session, service_id: int, since: datetime) -> tuple[int, int]:
    total, good = session.execute(
        select(func.count(), func.sum(case((Check.outcome != "down", 1), else_=0)))
        .where(Check.service_id == service_id, Check.checked_at >= since, Check.monitor_fault_id.is_(None))
    ).one()
    return total or 0, good or 0


def _window_counts(session: Session, service_id: int, now: datetime) -> dict[str, tuple[int, int, int]]:
    """{window: (checks, working checks, days with checks)} for the 24 h / 7 d / 30 d / 90 d windows."""
    today = local_day(now)
    today_start, _ = day_bounds(today)
    day_total, day_good = _raw_counts(session, service_id, now - timedelta(hours=24))
    result = {"24h": (day_total, day_good, 1 if day_total else 0)}
    today_total, today_good = _raw_counts(session, service_id, today_start)
    rows = session.execute(
        select(DailyRollup.day, DailyRollup.checks, _WORKING_CHECKS)
        .where(DailyRollup.service_id == service_id, DailyRollup.day >= today - timedelta(days=89),
               DailyRollup.day < today)
    ).all()
    for label, days in WINDOWS[1:]:
        first = today - timedelta(days=days - 1)
        inside = [(checks, ok) for day, checks, ok in rows if day >= first and checks]
        result[label] = (today_total + sum(c for c, _ in inside), today_good + sum(ok for _, ok in inside),
                         len(inside) + (1 if today_total else 0))
    return result


def uptime_summary(session: Session, service: Service, now: datetime | None = None) -> dict[str, float | None]:
    """Share of checks that found the service working over 24 h / 7 d / 30 d / 90 d (None: no checks)."""
    counts = _window_counts(session, service.id, now or utcnow())
    return {label: _share(good, total) for label, (total, good, _days) in counts.items()}


@dataclass(frozen=True)
class WindowEvidence:
    """One availability figure with what it rests on; `enough` is False below the evidence minimum."""

    label: str
    length_days: int
    share: float | None
    checks: int
    days: int
    enough: bool


def enough_evidence(checks: int, days: int, length_days: int, *, min_checks: int, min_days: int) -> bool:
    """At least `min_checks` checks on at least `min_days` days (or every day of a shorter window)."""
    return checks >= min_checks and days >= min(min_days, length_days)


def monitored_since(session: Session, service_id: int) -> date | None:
    """The first Vietnamese day the service was checked (roll-ups are kept for ever, raw checks for a while)."""
    first_day = session.execute(select(func.min(DailyRollup.day)).where(DailyRollup.service_id == service_id)).scalar()
    first_check = session.execute(select(func.min(Check.checked_at)).where(Check.service_id == service_id)).scalar()
    if first_check is not None:
        first_check = local_day(first_check if first_check.tzinfo else first_check.replace(tzinfo=UTC))
    days = [d for d in (first_day, first_check) if d is not None]
    return min(days) if days else None


def uptime_evidence(session: Session, service: Service, *, min_checks: int, min_days: int,
                    now: datetime | None = None) -> dict[str, Any]:
    """The service page's availability figures with their evidence: checks, days, monitored since, as of."""
    now = now or utcnow()
    counts = _window_counts(session, service.id, now)
    windows = [
        WindowEvidence(label, length, _share(good, total), total, days,
                       enough_evidence(total, days, length, min_checks=min_checks, min_days=min_days))
        for (label, length), (total, good, days) in ((w, counts[w[0]]) for w in WINDOWS)
    ]
    return {"windows": windows, "since": monitored_since(session, service.id), "as_of": now,
            "min_checks": min_checks, "min_days": min_days}


@dataclass(frozen=True)
class DayAvailability:
    day: date
    checks: int
    working: int
    down: int
    uptime: float | None

    @property
    def grade(self) -> str:
        """CSS class of the cell: none, good (≥ 99 %), fair (≥ 95 %), poor (≥ 80 %), bad."""
        if self.uptime is None:
            return "none"
        if self.uptime >= 99:
            return "good"
        if self.uptime >= 95:
            return "fair"
        return "poor" if self.uptime >= 80 else "bad"


def daily_availability(session: Session, service: Service, days: int = 90,
                       now: datetime | None = None) -> list[DayAvailability]:
    """One entry per day, oldest first, ending today (today from raw checks, earlier days from roll-ups)."""
    now = now or utcnow()
    today = local_day(now)
    first = today - timedelta(days=days - 1)
    rolled = {
        day: (checks, ok, down)
        for day, checks, ok, down in session.execute(
            select(DailyRollup.day, DailyRollup.checks, _WORKING_CHECKS, DailyRollup.down)
            .where(DailyRollup.service_id == service.id, DailyRollup.day >= first, DailyRollup.day < today)
        )
    }
    total, good = _raw_counts(session, service.id, day_bounds(today)[0])
    rolled[today] = (total, good, total - good)
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        checks, ok, down = rolled.get(day, (0, 0, 0))
        out.append(DayAvailability(day, checks, ok, down, _share(ok, checks)))
    return out

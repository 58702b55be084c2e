"""Reported and crawled figures of a quarter side by side, with the disagreements above the margin."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    Agency,
    ApplicationStat,
    QuarterlyReport,
)
from portal.services import periods
from portal.services.figures import online_share

TARGETS = {3: 40.0, 4: 30.0}  # % of applications handled online (Government's 2018 targets)
COMPARED = ("received_total", "received_online", "online_rate")


def _difference(reported: float | int | None, crawled: float | int | None) -> float | None:
    """Relative difference |r − c| / max(|r|, |c|): 0 when equal, 1 when one of them is 0."""
    if reported is None or crawled is None:
        return None
    largest = max(abs(reported), abs(crawled))
    return 0.0 if largest == 0 else round(abs(reported - crawled) / largest, 4)


def _reported_json(stat: ApplicationStat, report: QuarterlyReport | None) -> dict[str, Any]:
    levels = []
    if report is not None:
        for level in (3, 4):
            received, online = getattr(report, f"received_l{level}"), getattr(report, f"online_l{level}")
            rate = online_share(online, received)
            levels.append({
                "level": level,
                "services": getattr(report, f"services_l{level}"),
                "new_services": getattr(report, f"new_services_l{level}"),
                "received": received,
                "online": online,
                "online_rate": rate,
                "target": TARGETS[level],
                "meets_target": None if rate is None else rate >= TARGETS[level],
            })
    return {
        "received_total": stat.received_total,
        "received_online": stat.received_online,
        "online_rate": stat.online_rate,
        "levels": levels,
        "submitted_at": report.submitted_at if report else stat.observed_at,
        "locked": bool(report and report.is_locked),
    }


def _crawled_json(stat: ApplicationStat) -> dict[str, Any]:
    rate = stat.online_rate if stat.online_rate is not None else online_share(stat.received_online, stat.received_total)
    return {
        "received_total": stat.received_total,
        "received_online": stat.received_online,
        "resolved": stat.resolved,
        "resolved_on_time": stat.resolved_on_time,
        "online_rate": rate,
        "number_format": stat.number_format,
        "observed_at": stat.observed_at,
        "source_url": stat.source_url,
        "evidence": stat.evidence,
    }


def side_by_side(session: Session, agency: Agency, *, margin: float = 0.2) -> list[dict[str, Any]]:
    """Per quarter, newest first: the reported figures and the crawled ones next to each other.

    Times are datetimes here (for templates); the API's shape (services/api/shapes.py) turns them into ISO strings.

    Reported: the agency's quarterly report (provenance "reported"), with each level's online rate
    against its target. Crawled: the newest published snapshot of the agency's own statistics pages
    (sources not tied to one service) observed during the quarter. `differences` holds the relative
    difference of each figure both sides have; `disagreement` is true when one exceeds `margin`.
    """
    stmt = select(ApplicationStat).where(
        ApplicationStat.agency_id == agency.id, ApplicationStat.service_id.is_(None),
        ApplicationStat.status == "published", ApplicationStat.provenance.in_(("reported", "crawled")),
    ).order_by(ApplicationStat.observed_at, ApplicationStat.id)
    reported: dict[str, ApplicationStat] = {}
    crawled: dict[str, ApplicationStat] = {}
    for stat in session.execute(stmt).scalars():
        if periods.is_quarter(stat.period):
            (reported if stat.provenance == "reported" else crawled)[stat.period] = stat
    reports = {
        r.period: r
        for r in session.execute(select(QuarterlyReport).where(QuarterlyReport.agency_id == agency.id)).scalars()
    }
    rows = []
    for period in sorted(set(reported) | set(crawled), reverse=True):
        mine = _reported_json(reported[period], reports.get(period)) if period in reported else None
        seen = _crawled_json(crawled[period]) if period in crawled else None
        differences = {
            name: _difference(mine[name], seen[name]) if mine and seen else None for name in COMPARED
        }
        rows.append({
            "period": period,
            "reported": mine,
            "crawled": seen,
            "differences": differences,
            "disagreement": any(d is not None and d > margin for d in differences.values()),
        })
    return rows

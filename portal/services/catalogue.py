"""Read models for the public catalogue: national figures, summaries and JSON shapes."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Agency, Check, Incident, ReportFigure, Service
from portal.services.memo import memo
from portal.vocabulary import WORKING

_SAMPLE = memo(60)


def national_figures(session: Session) -> dict[str, Any]:
    """Counts for the home page: verified (registered, working now) next to the 2016 reported totals."""
    by_level = dict(
        session.execute(
            select(Service.level, func.count()).where(Service.status == "active").group_by(Service.level)
        ).all()
    )
    by_health = dict(
        session.execute(
            select(Service.health, func.count()).where(Service.status == "active").group_by(Service.health)
        ).all()
    )
    reported = session.execute(
        select(
            Agency.kind,
            func.sum(ReportFigure.services_l3),
            func.sum(ReportFigure.services_l4),
            func.sum(ReportFigure.online_applications),
        )
        .join(ReportFigure.agency)
        .where(ReportFigure.period == "2016")
        .group_by(Agency.kind)
    ).all()
    agencies = session.execute(select(Agency).where(Agency.parent_id.is_(None))).scalars().all()
    first_checked, last_checked = session.execute(
        select(func.min(Service.last_checked_at), func.max(Service.last_checked_at)).where(Service.status == "active")
    ).one()
    total = sum(by_level.values())
    checked = total - by_health.get("unknown", 0)
    working = sum(by_health.get(state, 0) for state in WORKING)
    return {
        "services": total,
        "services_l3": by_level.get(3, 0),
        "services_l4": by_level.get(4, 0),
        "health": by_health,
        "checked": checked,
        "working_share": (100.0 * working / checked) if checked else None,
        "checked_from": first_checked,
        "checked_to": last_checked,
        "agencies_current": sum(1 for a in agencies if a.is_current()),
        "reported_2016": {
            kind: {"services_l3": l3 or 0, "services_l4": l4 or 0, "online_applications": apps}
            for kind, l3, l4, apps in reported
        },
    }


def service_address(service: Service) -> dict[str, Any]:
    """Where the start button leads, and whether that is only the agency's portal (an address with a #fragment
    on the agency's home page, as the demo data has), which the page then says instead of claiming it."""
    base, _sep, fragment = service.url.partition("#")
    portal = (service.agency.portal_url or "").rstrip("/")
    portal_only = bool(fragment) and bool(portal) and base.rstrip("/") == portal
    return {"url": base if portal_only else service.url, "portal_only": portal_only,
            "host": urlsplit(service.url).hostname or service.url}


def sample_counts(session: Session) -> dict[str, int]:
    """How many active services are sample data, of how many (memoised for a minute per process)."""

    def compute() -> dict[str, int]:
        total, sample = session.execute(
            select(func.count(), func.count().filter(Service.is_sample)).where(Service.status == "active")
        ).one()
        return {"total": total, "sample": sample or 0}

    return _SAMPLE.get("services", compute)


def sample_share_by_agency(
    session: Session, agencies: list[Agency], level: int | None = None
) -> dict[str, tuple[int, int]]:
    """{today's agency code: (sample services, all services)} of the active services (at `level` when given),
    summed into today's agencies as the rankings sum them."""
    from portal.services.agencies import counts_for_current_agencies

    stmt = select(Service.agency_id, func.count(), func.count().filter(Service.is_sample)).where(
        Service.status == "active")
    if level is not None:
        stmt = stmt.where(Service.level == level)
    rows = session.execute(stmt.group_by(Service.agency_id)).all()
    totals = counts_for_current_agencies({a: n for a, n, _ in rows}, agencies)
    samples = counts_for_current_agencies({a: s or 0 for a, _, s in rows}, agencies)
    codes = {a.id: a.code for a in agencies}
    return {codes[a]: (samples.get(a, 0), n) for a, n in totals.items()}


def active_service_counts(session: Session) -> dict[int, int]:
    return dict(
        session.execute(
            select(Service.agency_id, func.count()).where(Service.status == "active").group_by(Service.agency_id)
        ).all()
    )


def agency_summary(services: list[Service]) -> dict[str, Any]:
    """Level and health counts of an agency's active services, and the share working now."""
    levels = Counter(s.level for s in services)
    health = Counter(s.health for s in services)
    checked = len(services) - health.get("unknown", 0)
    working = sum(health.get(state, 0) for state in WORKING)
    return {
        "total": len(services),
        "l3": levels.get(3, 0),
        "l4": levels.get(4, 0),
        "health": dict(health),
        "checked": checked,
        "working_share": (100.0 * working / checked) if checked else None,
    }


def service_history(session: Session, service: Service, *, limit: int = 20) -> dict[str, Any]:
    """Recent raw checks and incidents of a service, newest first."""
    checks = session.execute(
        select(Check).where(Check.service_id == service.id).order_by(Check.checked_at.desc()).limit(limit)
    ).scalars().all()
    incidents = session.execute(
        select(Incident).where(Incident.service_id == service.id).order_by(Incident.started_at.desc()).limit(limit)
    ).scalars().all()
    return {"checks": checks, "incidents": incidents}

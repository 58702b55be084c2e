"""Read models of the status page: services down or dead now, per agency, and the incident feed."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from portal.models import AGENCY_KINDS, Agency, Incident, Service, utcnow
from portal.services import agencies as agency_service
from portal.services.search import QueryError
from portal.vocabulary import FAILING, FAILURE_REASONS, WORKING

REASONS = FAILURE_REASONS
ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class StatusQuery:
    agency: str | None = None
    kind: str | None = None
    health: str | None = None
    reason: str | None = None
    page: int = 1
    per_page: int = 50

    def filters(self) -> dict[str, str]:
        values = {"agency": self.agency, "kind": self.kind, "health": self.health, "reason": self.reason}
        return {k: v for k, v in values.items() if v}


@dataclass
class StatusPage:
    items: list[Service]
    total: int
    page: int
    per_page: int
    query: StatusQuery = field(default_factory=StatusQuery)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def parse_status_query(args: Mapping[str, str], *, per_page: int = 50) -> StatusQuery:
    """Validate the filters of /status; raises QueryError naming the bad parameter."""
    query = StatusQuery(per_page=per_page)
    for name, allowed in (("kind", AGENCY_KINDS), ("health", FAILING), ("reason", REASONS)):
        value = (args.get(name) or "").strip()
        if value and value not in allowed:
            raise QueryError(name, f"'{name}' must be one of {', '.join(allowed)}")
        setattr(query, name, value or None)
    query.agency = (args.get("agency") or "").strip()[:80] or None
    raw_page = (args.get("page") or "1").strip()
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 100_000:
        raise QueryError("page", "'page' must be a whole number from 1")
    query.page = int(raw_page)
    return query


def failing_services(session: Session, query: StatusQuery) -> StatusPage:
    """Active services whose health is down or dead now, longest-failing first."""
    conditions: list[Any] = [Service.status == "active", Service.health.in_([query.health] if query.health
                                                                              else FAILING)]
    if query.reason:
        conditions.append(Service.health_reason == query.reason)
    if query.agency:
        agency = agency_service.get_by_code(session, query.agency)
        if agency is None:
            raise QueryError("agency", "unknown agency code")
        conditions.append(Service.agency_id.in_(agency_service.subunit_ids(session, agency)))
    stmt = select(Service).where(*conditions)
    count = select(func.count()).select_from(Service).where(*conditions)
    if query.kind:
        stmt = stmt.join(Service.agency).where(Agency.kind == query.kind)
        count = count.join(Agency, Agency.id == Service.agency_id).where(Agency.kind == query.kind)
    total = session.execute(count).scalar_one()
    items = list(session.execute(
        stmt.options(joinedload(Service.agency))
        .order_by(Service.health_since.asc(), Service.id)
        .limit(query.per_page).offset((query.page - 1) * query.per_page)
    ).scalars())
    return StatusPage(items, total, query.page, query.per_page, query)


def health_by_agency(session: Session) -> list[dict[str, Any]]:
    """Per top-level agency: active services, checked, working, down, dead and the working share —
    the same definition as the agency page (working = up or degraded, among checked services)."""
    rows = session.execute(
        select(Service.agency_id, Service.health, func.count())
        .where(Service.status == "active")
        .group_by(Service.agency_id, Service.health)
    ).all()
    agencies = {a.id: a for a in session.execute(select(Agency)).scalars()}
    totals: dict[int, dict[str, int]] = {}
    for agency_id, health, n in rows:
        agency = agencies[agency_id]
        while agency.parent_id is not None and agency.parent_id in agencies:
            agency = agencies[agency.parent_id]
        agency = agency.final_successor() or agency  # a merged agency's services count for today's agency
        counts = totals.setdefault(agency.id, {})
        counts[health] = counts.get(health, 0) + n
    out = []
    for agency_id, counts in totals.items():
        total = sum(counts.values())
        checked = total - counts.get("unknown", 0)
        working = sum(counts.get(state, 0) for state in WORKING)
        down, dead = counts.get("down", 0), counts.get("dead", 0)
        if down or dead:
            out.append({
                "agency": agencies[agency_id], "total": total, "checked": checked, "working": working,
                "down": down, "dead": dead, "working_share": (100.0 * working / checked) if checked else None,
            })
    out.sort(key=lambda row: (-(row["down"] + row["dead"]), row["agency"].name_folded))
    return out


def recent_incidents(session: Session, limit: int = 20, agency_code: str | None = None) -> list[Incident]:
    """The latest incidents, of one agency (and its sub-units) when `agency_code` is given."""
    stmt = select(Incident).options(joinedload(Incident.service).joinedload(Service.agency))
    if agency_code:
        agency = agency_service.get_by_code(session, agency_code)
        ids = agency_service.subunit_ids(session, agency) if agency else []
        stmt = stmt.where(Incident.service_id.in_(select(Service.id).where(Service.agency_id.in_(ids))))
    return list(session.execute(stmt.order_by(Incident.started_at.desc(), Incident.id.desc()).limit(limit))
                .scalars())


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def incidents_atom(incidents: list[Incident], *, feed_url: str, site_url: str, service_url: Any,
                   title: str, labels: Mapping[str, str], now: datetime | None = None) -> bytes:
    """An Atom 1.0 feed of incidents (ElementTree escapes every text). `service_url(id)` gives a page URL;
    `labels` maps states and reasons to display text."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _NOT_XML.sub("", v) for k, v in attrs.items()})
        if text is not None:
            element.text = _NOT_XML.sub("", text)
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", feed_url)
    sub(feed, "title", title)
    sub(feed, "link", rel="self", href=feed_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=site_url, type="text/html")
    updates = [i.ended_at or i.started_at for i in incidents]
    sub(feed, "updated", _stamp(max(updates) if updates else (now or utcnow())))
    author = sub(feed, "author")
    sub(author, "name", title)
    for incident in incidents:
        service = incident.service
        entry = sub(feed, "entry")
        sub(entry, "id", f"{feed_url}#incident-{incident.id}")
        state = labels.get(incident.state, incident.state)
        if incident.ended_at:
            state = f"{labels.get('recovered', 'recovered')} ({state})"
        sub(entry, "title", f"{service.name} — {state}")
        sub(entry, "link", rel="alternate", href=service_url(service.id), type="text/html")
        sub(entry, "published", _stamp(incident.started_at))
        sub(entry, "updated", _stamp(incident.ended_at or incident.started_at))
        # the reason's label only: the checker's technical detail (resolved addresses, library errors)
        # stays on staff pages
        summary = [service.agency.name, f"{labels.get('reason', 'reason')}: "
                   f"{labels.get(incident.reason, incident.reason)}", service.url]
        sub(entry, "summary", " · ".join(summary))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)

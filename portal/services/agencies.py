"""Agency directory: current and former agencies, sub-units, Vietnamese order."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AGENCY_KINDS, Agency, ReportFigure
from portal.services.memo import database_key, memo
from portal.text import place_sort_key


def get_by_code(session: Session, code: str) -> Agency | None:
    return session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()


def directory(
    session: Session, *, kind: str | None = None, include_former: bool = False, on: date | None = None
) -> list[Agency]:
    """Top-level agencies in Vietnamese alphabetical order; today's agencies unless include_former."""
    stmt = select(Agency).where(Agency.parent_id.is_(None))
    if kind:
        stmt = stmt.where(Agency.kind == kind)
    agencies = session.execute(stmt).scalars().all()
    if not include_former:
        agencies = [a for a in agencies if a.is_current(on)]
    return sorted(agencies, key=lambda a: (AGENCY_KINDS.index(a.kind), place_sort_key(a.name)))


_OPTIONS = memo(300)


def agency_options(session: Session) -> list[tuple[str, str, bool]]:
    """(code, name, is current) of every top-level agency in directory order, memoised for a few minutes."""

    def compute() -> list[tuple[str, str, bool]]:
        return [(a.code, a.name, a.is_current()) for a in directory(session, include_former=True)]

    return _OPTIONS.get(database_key(session), compute)


def subunit_ids(session: Session, agency: Agency) -> list[int]:
    """The agency's id and the ids of all its sub-units, at any depth."""
    rows = session.execute(select(Agency.id, Agency.parent_id).where(Agency.parent_id.is_not(None))).all()
    children: dict[int, list[int]] = {}
    for child_id, parent_id in rows:
        children.setdefault(parent_id, []).append(child_id)
    ids, stack = [], [agency.id]
    while stack:
        current = stack.pop()
        ids.append(current)
        stack.extend(children.get(current, []))
    return ids


def counts_for_current_agencies(counts: dict[int, int], agencies: list[Agency]) -> dict[int, int]:
    """Per-agency counts summed into today's agencies: sub-units into their top agency, then merged agencies into
    their successor, as the rankings sum them (a former agency keeps nothing of its own)."""
    out: dict[int, int] = {}
    by_id = {a.id: a for a in agencies}
    for agency_id, n in counts.items():
        agency = by_id.get(agency_id)
        if agency is None:
            continue
        agency = agency.top()
        agency = agency.final_successor() or agency
        out[agency.id] = out.get(agency.id, 0) + n
    return out


def merged_unit_ids(session: Session, agency: Agency) -> list[int]:
    """The agency, its sub-units and every agency merged into it (at any remove) with theirs: the units whose
    services count for it, as the rankings count them."""
    rows = session.execute(select(Agency.id, Agency.successor_id)).all()
    absorbed: dict[int, list[int]] = {}
    for agency_id, successor_id in rows:
        if successor_id is not None and successor_id != agency_id:
            absorbed.setdefault(successor_id, []).append(agency_id)
    heads, stack = [], [agency.id]
    while stack:
        current = stack.pop()
        if current in heads:
            continue
        heads.append(current)
        stack.extend(absorbed.get(current, []))
    ids: list[int] = []
    for head in heads:
        ids.extend(subunit_ids(session, session.get(Agency, head)))
    return ids


def predecessors(session: Session, agency: Agency) -> list[Agency]:
    """Agencies that were merged into this one."""
    rows = session.execute(
        select(Agency).where(Agency.successor_id == agency.id, Agency.id != agency.id)
    ).scalars()
    return sorted(rows, key=lambda a: place_sort_key(a.name))


def report_figures(session: Session, agency: Agency) -> list[ReportFigure]:
    stmt = select(ReportFigure).where(ReportFigure.agency_id == agency.id).order_by(ReportFigure.period.desc())
    return list(session.execute(stmt).scalars())

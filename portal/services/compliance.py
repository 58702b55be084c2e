"""Decision 846 compliance: which required procedures each agency has online at the required level.

Computed in the database. A recursive CTE maps every agency to today's top agency (a sub-unit to its
parent, a merged agency to its successor); active services are grouped by that agency and procedure
(the best level online), and left-joined to the catalogue entries each agency must offer: every
entry of its scope, or only those naming it (or a predecessor) as the responsible agency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import CTE, Subquery, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from portal.models import Agency, CatalogueEntry, Service
from portal.services.procedures import catalogue_entries
from portal.services.ranking_rules import RankRow, rank_rows
from portal.text import place_sort_key

ONLINE, LOWER, MISSING, NOT_REQUIRED = "online", "lower_level", "missing", "not_required"
STATES = (ONLINE, LOWER, MISSING, NOT_REQUIRED)
NONE_ONLINE = "none_online"
_GAPS_FIRST = (MISSING, LOWER, ONLINE)
KIND_SCOPE = {"ministry": "ministry", "government_agency": "ministry", "province": "province"}
_MAX_HOPS = 8


def scope_for_kind(kind: str) -> str:
    """The catalogue scope whose entries agencies of `kind` must offer."""
    return KIND_SCOPE[kind]


def _is_current(agency: Any, on: date):
    return and_(
        or_(agency.valid_from.is_(None), agency.valid_from <= on),
        or_(agency.valid_to.is_(None), agency.valid_to > on),
    )


def rollup_cte(on: date) -> CTE:
    """(agency_id, top_id): each agency and the current top-level agency its services count for."""
    step = aliased(Agency, name="step_agency")
    chain = select(
        Agency.id.label("agency_id"), Agency.id.label("node_id"), literal_column("0").label("hops")
    ).cte("agency_chain", recursive=True)
    chain = chain.union_all(
        select(chain.c.agency_id, func.coalesce(step.parent_id, step.successor_id), chain.c.hops + 1)
        .select_from(chain)
        .join(step, step.id == chain.c.node_id)
        .where(
            chain.c.hops < _MAX_HOPS,
            or_(
                step.parent_id.is_not(None),
                and_(step.successor_id.is_not(None), step.successor_id != step.id,
                     step.valid_to.is_not(None), step.valid_to <= on),
            ),
        )
    )
    top = aliased(Agency, name="top_agency")
    return (
        select(chain.c.agency_id, chain.c.node_id.label("top_id"))
        .select_from(chain)
        .join(top, top.id == chain.c.node_id)
        .where(top.parent_id.is_(None), _is_current(top, on))
        .cte("agency_rollup")
    )


def _entry_filter(catalogue: str, scope: str):
    return and_(CatalogueEntry.catalogue == catalogue, CatalogueEntry.scope == scope)


def _best_levels(catalogue: str, scope: str, rollup: CTE) -> Subquery:
    """(top_id, procedure_id, level): the best level of the active services of each agency and procedure."""
    return (
        select(rollup.c.top_id, Service.procedure_id, func.max(Service.level).label("level"))
        .select_from(Service)
        .join(rollup, rollup.c.agency_id == Service.agency_id)
        .where(
            Service.status == "active",
            Service.procedure_id.in_(select(CatalogueEntry.procedure_id).where(_entry_filter(catalogue, scope))),
        )
        .group_by(rollup.c.top_id, Service.procedure_id)
        .subquery("best")
    )


def _required(catalogue: str, kind: str, rollup: CTE, on: date, agency_id: int | None = None) -> Subquery:
    """(agency_id, entry_id, procedure_id, required_level): the entries each current agency of `kind` must offer."""
    target = aliased(Agency, name="target")
    responsible = rollup.alias("responsible")
    stmt = (
        select(
            target.id.label("agency_id"), CatalogueEntry.id.label("entry_id"), CatalogueEntry.procedure_id,
            CatalogueEntry.required_level,
        )
        .select_from(CatalogueEntry)
        .join(target, and_(target.kind == kind, target.parent_id.is_(None), _is_current(target, on)))
        .outerjoin(responsible, responsible.c.agency_id == CatalogueEntry.agency_id)
        .where(
            _entry_filter(catalogue, scope_for_kind(kind)),
            or_(CatalogueEntry.agency_id.is_(None), responsible.c.top_id == target.id),
        )
    )
    if agency_id is not None:
        stmt = stmt.where(target.id == agency_id)
    return stmt.subquery("required")


def _joined(catalogue: str, kind: str, on: date, agency_id: int | None = None) -> tuple[Subquery, Subquery]:
    rollup = rollup_cte(on)
    return _required(catalogue, kind, rollup, on, agency_id), _best_levels(catalogue, scope_for_kind(kind), rollup)


@dataclass
class AgencyCompliance:
    agency: Agency
    required: int
    online: int
    lower_level: int
    missing: int

    @property
    def share(self) -> float | None:
        """Percent (0–100) of the required procedures online at the required level or above."""
        return 100.0 * self.online / self.required if self.required else None


def current_agencies(session: Session, kind: str, on: date | None = None) -> list[Agency]:
    """Today's top-level agencies of a kind, in Vietnamese order."""
    on = on or date.today()
    agencies = session.execute(
        select(Agency).where(Agency.kind == kind, Agency.parent_id.is_(None), _is_current(Agency, on))
    ).scalars().all()
    return sorted(agencies, key=lambda a: place_sort_key(a.name))


def agency_counts(
    session: Session, catalogue: str, kind: str, on: date | None = None
) -> list[AgencyCompliance]:
    """Per current agency of `kind` with at least one required procedure: required/online/lower/missing counts."""
    on = on or date.today()
    required, best = _joined(catalogue, kind, on)
    level_ok = best.c.level >= required.c.required_level
    rows = session.execute(
        select(
            required.c.agency_id,
            func.count(),
            func.sum(case((level_ok, 1), else_=0)),
            func.sum(case((best.c.level < required.c.required_level, 1), else_=0)),
            func.sum(case((best.c.level.is_(None), 1), else_=0)),
        )
        .select_from(required)
        .outerjoin(best, and_(best.c.top_id == required.c.agency_id, best.c.procedure_id == required.c.procedure_id))
        .group_by(required.c.agency_id)
    ).all()
    counts = {agency_id: tuple(int(v or 0) for v in values) for agency_id, *values in rows}
    return [
        AgencyCompliance(agency, *counts[agency.id])
        for agency in current_agencies(session, kind, on) if agency.id in counts
    ]


def ranking(session: Session, catalogue: str, kind: str, on: date | None = None) -> list[RankRow]:
    """The compliance ranking: share online at the required level, ties broken by the number online.

    Agencies with nothing online at the required level come last, marked `none_online`; agencies the
    catalogue requires nothing of are not in the table. `extra` holds the counts and the Agency.
    """
    rows = [
        RankRow(
            agency_code=item.agency.code, agency_name=item.agency.name, value=item.share, tiebreak=item.online,
            extra={"required": item.required, "online": item.online, "lower_level": item.lower_level,
                   "missing": item.missing, "agency": item.agency},
        )
        for item in agency_counts(session, catalogue, kind, on)
    ]
    return rank_rows(rows, zero_note=NONE_ONLINE)


@dataclass
class Cell:
    state: str
    required_level: int | None = None
    best_level: int | None = None


@dataclass
class MatrixRow:
    agency: Agency
    standing: RankRow
    cells: list[Cell] = field(default_factory=list)

    def with_state(self, entries: list[CatalogueEntry], *states: str) -> list[tuple[CatalogueEntry, Cell]]:
        return [(e, c) for e, c in zip(entries, self.cells, strict=True) if c.state in states]


@dataclass
class Matrix:
    catalogue: str
    kind: str
    scope: str
    entries: list[CatalogueEntry]
    rows: list[MatrixRow]
    ranking: list[RankRow]
    fields: list[str]
    field: str | None = None

    @property
    def is_sample(self) -> bool:
        return any(e.is_sample for e in self.entries)


def _cell(required_level: int | None, best_level: int | None) -> Cell:
    if required_level is None:
        return Cell(NOT_REQUIRED)
    if best_level is None:
        return Cell(MISSING, required_level)
    return Cell(ONLINE if best_level >= required_level else LOWER, required_level, best_level)


def matrix(
    session: Session,
    catalogue: str,
    kind: str,
    *,
    field_name: str | None = None,
    max_columns: int | None = None,
    on: date | None = None,
) -> Matrix:
    """Agencies (Vietnamese order) × required procedures, with the ranking.

    The columns are the procedures of `field_name` if given, else all of them; when they are more than
    `max_columns`, only the first field's.
    """
    on = on or date.today()
    scope = scope_for_kind(kind)
    all_entries = catalogue_entries(session, catalogue, scope)
    fields = sorted({e.procedure.field for e in all_entries if e.procedure.field}, key=place_sort_key)
    if field_name is None and max_columns is not None and len(all_entries) > max_columns and fields:
        field_name = fields[0]
    entries = [e for e in all_entries if field_name is None or e.procedure.field == field_name]
    standings = ranking(session, catalogue, kind, on)
    required, best = _joined(catalogue, kind, on)
    cells = {
        (agency_id, entry_id): (required_level, level)
        for agency_id, entry_id, required_level, level in session.execute(
            select(required.c.agency_id, required.c.entry_id, required.c.required_level, best.c.level)
            .select_from(required)
            .outerjoin(best, and_(best.c.top_id == required.c.agency_id,
                                  best.c.procedure_id == required.c.procedure_id))
        )
    }
    rows = []
    for standing in sorted(standings, key=lambda r: place_sort_key(r.agency_name)):
        agency = standing.extra["agency"]
        row = MatrixRow(agency, standing)
        row.cells = [_cell(*cells.get((agency.id, e.id), (None, None))) for e in entries]
        rows.append(row)
    return Matrix(catalogue, kind, scope, entries, rows, standings, fields, field_name)


@dataclass
class DetailRow:
    entry: CatalogueEntry
    cell: Cell
    services: list[Service]


def agency_detail(
    session: Session, catalogue: str, agency: Agency, on: date | None = None
) -> tuple[AgencyCompliance, list[DetailRow]]:
    """One agency's required procedures (missing first, then lower level, then online) with their services."""
    on = on or date.today()
    required, best = _joined(catalogue, agency.kind, on, agency.id)
    pairs = session.execute(
        select(required.c.entry_id, required.c.required_level, best.c.level)
        .select_from(required)
        .outerjoin(best, and_(best.c.top_id == required.c.agency_id, best.c.procedure_id == required.c.procedure_id))
    ).all()
    by_entry = {entry_id: _cell(level_required, level) for entry_id, level_required, level in pairs}
    entries = [e for e in catalogue_entries(session, catalogue, scope_for_kind(agency.kind)) if e.id in by_entry]
    rollup = rollup_cte(on)
    services = session.execute(
        select(Service)
        .join(rollup, rollup.c.agency_id == Service.agency_id)
        .where(rollup.c.top_id == agency.id, Service.status == "active",
               Service.procedure_id.in_([e.procedure_id for e in entries]))
        .order_by(Service.level.desc(), Service.name_folded, Service.id)
    ).scalars().all() if entries else []
    by_procedure: dict[int, list[Service]] = {}
    for service in services:
        by_procedure.setdefault(service.procedure_id, []).append(service)
    rows = [DetailRow(e, by_entry[e.id], by_procedure.get(e.procedure_id, [])) for e in entries]
    rows.sort(key=lambda r: _GAPS_FIRST.index(r.cell.state))
    states = [r.cell.state for r in rows]
    summary = AgencyCompliance(agency, len(rows), states.count(ONLINE), states.count(LOWER), states.count(MISSING))
    return summary, rows


def export_rows(m: Matrix, state_labels: Mapping[str, str]) -> tuple[list[str], list[list[Any]]]:
    """The ranking with one column per procedure (by code) for a CSV/XLSX export; the header's first
    columns are machine names the caller may translate."""
    header = ["rank", "agency_code", "agency_name", "required", "online", "lower_level", "missing",
              "compliance_percent", "note", *[e.procedure.code for e in m.entries]]
    by_code = {row.agency.code: row for row in m.rows}
    out = []
    for standing in m.ranking:
        row = by_code[standing.agency_code]
        extra = standing.extra
        share = round(standing.value, 1) if standing.value is not None else None
        out.append([
            standing.rank, standing.agency_code, standing.agency_name, extra["required"], extra["online"],
            extra["lower_level"], extra["missing"], share, state_labels.get(standing.note or "", standing.note),
            *[state_labels[c.state] for c in row.cells],
        ])
    return header, out

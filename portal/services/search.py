"""Service search: diacritic-insensitive full-text search with filters, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Select, case, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session, joinedload

from portal.models import AGENCY_KINDS, HEALTH_STATES, Agency, Procedure, Service
from portal.services.agencies import get_by_code, subunit_ids
from portal.services.memo import clear_all, memo
from portal.text import fold, lower_nfc, query_tokens, vietnamese_sort_key

MAX_QUERY_CHARS = 500
PROCEDURE_CODE = re.compile(r"^[12]\.\d{1,6}(\.[A-Za-z0-9]*)?$")
_FTS = table("service_search", column("rowid"))


class QueryError(ValueError):
    """A search parameter that cannot be used; `param` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass
class ServiceQuery:
    q: str = ""
    agency: str | None = None
    kind: str | None = None
    level: int | None = None
    field: str | None = None
    health: str | None = None
    page: int = 1
    per_page: int = 20

    def filters(self) -> dict[str, str | int]:
        """The active filters, for links that keep them."""
        values = {
            "q": self.q, "agency": self.agency, "kind": self.kind, "level": self.level,
            "field": self.field, "health": self.health,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class SearchPage:
    items: list[Service]
    total: int
    page: int
    per_page: int
    query: ServiceQuery = field(default_factory=ServiceQuery)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _int_param(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise QueryError(name, f"'{name}' must be a whole number between {low} and {high}")
    value = int(raw)
    if not low <= value <= high:
        raise QueryError(name, f"'{name}' must be between {low} and {high}")
    return value


def parse_query(args: Mapping[str, str], *, default_per_page: int = 20, max_per_page: int = 100) -> ServiceQuery:
    """Validate request parameters into a ServiceQuery; raises QueryError on bad input."""
    kind = (args.get("kind") or "").strip() or None
    if kind and kind not in AGENCY_KINDS:
        raise QueryError("kind", f"'kind' must be one of {', '.join(AGENCY_KINDS)}")
    level_raw = (args.get("level") or "").strip()
    if level_raw and level_raw not in {"3", "4"}:
        raise QueryError("level", "'level' must be 3 or 4")
    health = (args.get("health") or "").strip() or None
    if health and health not in HEALTH_STATES:
        raise QueryError("health", f"'health' must be one of {', '.join(HEALTH_STATES)}")
    return ServiceQuery(
        q=(args.get("q") or "").strip()[:MAX_QUERY_CHARS],
        agency=(args.get("agency") or "").strip()[:80] or None,
        kind=kind,
        level=int(level_raw) if level_raw else None,
        field=(args.get("field") or "").strip()[:255] or None,
        health=health,
        page=_int_param(args, "page", 1, 1, 100_000),
        per_page=_int_param(args, "per_page", default_per_page, 1, max_per_page),
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_query(dialect: str, tokens: list[str]) -> str:
    """All words must match, the last one as a prefix; tokens are word characters only, quoted."""
    if dialect == "postgresql":
        return " & ".join([f"'{tok}'" for tok in tokens[:-1]] + [f"'{tokens[-1]}':*"])
    return " ".join([f'"{tok}"' for tok in tokens[:-1]] + [f'"{tokens[-1]}"*'])


def _pg_match(tokens: list[str]):
    vector = func.to_tsvector(literal_column("'simple'::regconfig"), Service.name_folded)
    query = func.to_tsquery(literal_column("'simple'::regconfig"), _fts_query("postgresql", tokens))
    return vector.op("@@")(query)


def _sqlite_match(stmt: Select, tokens: list[str]) -> Select:
    return stmt.join(_FTS, _FTS.c.rowid == Service.id).where(
        text("service_search MATCH :fts_query").bindparams(fts_query=_fts_query("sqlite", tokens))
    )


def _text_filter(stmt: Select, dialect: str, tokens: list[str], *, include_retired: bool) -> Select:
    """Restrict to services whose folded name has every word; the index holds active services only."""
    if include_retired:
        words = [Service.name_folded.like(f"%{_escape_like(tok)}%", escape="\\") for tok in tokens]
        return stmt.where(*words)
    if dialect == "postgresql":
        return stmt.where(_pg_match(tokens))
    return _sqlite_match(stmt, tokens)


def _count(session: Session, stmt: Select, dialect: str, tokens: list[str], *, index_only: bool) -> int:
    if index_only and dialect == "sqlite":
        fts_count = (
            select(func.count()).select_from(_FTS)
            .where(text("service_search MATCH :fts_query").bindparams(fts_query=_fts_query("sqlite", tokens)))
        )
        return session.execute(fts_count).scalar_one()
    return session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def search_services(session: Session, query: ServiceQuery, *, include_retired: bool = False) -> SearchPage:
    """One page of services matching the query, best matches first; raises QueryError for unknown agency.

    Ranking: the name contains the query with its exact diacritics, then the whole phrase without them,
    then every word anywhere; shorter names first within a tier.
    """
    stmt = select(Service.id)
    needs_agency = bool(query.kind)
    if needs_agency:
        stmt = stmt.join(Service.agency)
    if not include_retired:
        stmt = stmt.where(Service.status == "active")
    if query.agency:
        agency = get_by_code(session, query.agency)
        if agency is None:
            raise QueryError("agency", f"unknown agency code '{query.agency}'")
        stmt = stmt.where(Service.agency_id.in_(subunit_ids(session, agency)))
    if query.kind:
        stmt = stmt.where(Agency.kind == query.kind)
    if query.level:
        stmt = stmt.where(Service.level == query.level)
    if query.field:
        stmt = stmt.where(Service.field == query.field)
    if query.health:
        stmt = stmt.where(Service.health == query.health)
    has_filters = bool(query.agency or query.kind or query.level or query.field or query.health)

    dialect = session.get_bind().dialect.name
    order_by = [Service.name_folded, Service.id]
    tokens: list[str] = []
    q = query.q
    if q and PROCEDURE_CODE.match(q):
        stmt = stmt.join(Service.procedure).where(Procedure.code.like(_escape_like(q) + "%", escape="\\"))
    elif q:
        tokens = query_tokens(fold(q))
        if tokens:
            stmt = _text_filter(stmt, dialect, tokens, include_retired=include_retired)
            tier = case(
                (Service.name_lower.like(f"%{_escape_like(lower_nfc(q))}%", escape="\\"), 0),
                (Service.name_folded.like(f"%{_escape_like(' '.join(tokens))}%", escape="\\"), 1),
                else_=2,
            )
            order_by = [tier, func.length(Service.name), Service.id]

    index_only = bool(tokens) and not has_filters and not include_retired
    total = _count(session, stmt, dialect, tokens, index_only=index_only)
    offset = (query.page - 1) * query.per_page
    ids = list(session.execute(stmt.order_by(*order_by).limit(query.per_page).offset(offset)).scalars())
    items: list[Service] = []
    if ids:
        rows = session.execute(
            select(Service).where(Service.id.in_(ids)).options(joinedload(Service.agency))
        ).unique().scalars()
        by_id = {service.id: service for service in rows}
        items = [by_id[i] for i in ids if i in by_id]
    return SearchPage(items=items, total=total, page=query.page, per_page=query.per_page, query=query)


_FIELDS = memo(300)


def fields(session: Session) -> list[str]:
    """Distinct fields (lĩnh vực) of active services in Vietnamese order, memoised for a few minutes."""

    def compute() -> list[str]:
        rows = session.execute(
            select(Service.field).where(Service.status == "active", Service.field.is_not(None)).distinct()
        ).scalars()
        return sorted(rows, key=vietnamese_sort_key)

    return _FIELDS.get(str(session.get_bind().url), compute)


def clear_caches() -> None:
    clear_all()

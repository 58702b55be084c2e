"""Service search: diacritic-insensitive full-text search with filters, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Select, case, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session, contains_eager

from portal.models import AGENCY_KINDS, HEALTH_STATES, Agency, Procedure, Service
from portal.services.agencies import get_by_code, subunit_ids
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


def _match_text(stmt: Select, dialect: str, tokens: list[str]) -> Select:
    if dialect == "postgresql":
        terms = [f"'{tok}'" for tok in tokens[:-1]] + [f"'{tokens[-1]}':*"]
        vector = func.to_tsvector(literal_column("'simple'::regconfig"), Service.name_folded)
        query = func.to_tsquery(literal_column("'simple'::regconfig"), " & ".join(terms))
        return stmt.where(vector.op("@@")(query))
    terms = [f'"{tok}"' for tok in tokens[:-1]] + [f'"{tokens[-1]}"*']
    return stmt.join(_FTS, _FTS.c.rowid == Service.id).where(
        text("service_search MATCH :fts_query").bindparams(fts_query=" ".join(terms))
    )


def search_services(session: Session, query: ServiceQuery, *, include_retired: bool = False) -> SearchPage:
    """One page of services matching the query, best matches first; raises QueryError for unknown agency."""
    stmt = select(Service).join(Service.agency).options(contains_eager(Service.agency))
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

    order_by = [Service.name_folded, Service.id]
    q = query.q
    if q and PROCEDURE_CODE.match(q):
        stmt = stmt.join(Service.procedure).where(Procedure.code.like(_escape_like(q) + "%", escape="\\"))
    elif q:
        folded = fold(q)
        tokens = query_tokens(folded)
        if tokens:
            dialect = session.get_bind().dialect.name
            stmt = _match_text(stmt, dialect, tokens)
            phrase = " ".join(tokens)
            tier = case(
                (Service.name_lower.like(f"%{_escape_like(lower_nfc(q))}%", escape="\\"), 0),
                (Service.name_folded.like(f"%{_escape_like(phrase)}%", escape="\\"), 1),
                else_=2,
            )
            order_by = [tier, func.length(Service.name), Service.name_folded, Service.id]

    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    offset = (query.page - 1) * query.per_page
    items = list(
        session.execute(stmt.order_by(*order_by).limit(query.per_page).offset(offset)).unique().scalars()
    )
    return SearchPage(items=items, total=total, page=query.page, per_page=query.per_page, query=query)


_FIELDS_CACHE: dict[str, tuple[float, list[str]]] = {}
FIELDS_TTL_SECONDS = 300.0


def fields(session: Session) -> list[str]:
    """Distinct fields (lĩnh vực) of active services in Vietnamese order, cached for a few minutes."""
    key = str(session.get_bind().url)
    cached = _FIELDS_CACHE.get(key)
    now = time.monotonic()
    if cached and now - cached[0] < FIELDS_TTL_SECONDS:
        return cached[1]
    rows = session.execute(
        select(Service.field).where(Service.status == "active", Service.field.is_not(None)).distinct()
    ).scalars()
    result = sorted(rows, key=vietnamese_sort_key)
    _FIELDS_CACHE[key] = (now, result)
    return result


def clear_caches() -> None:
    _FIELDS_CACHE.clear()

"""Service search: diacritic-insensitive full-text search with filters, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, case, column, func, literal_column, or_, select, table, text
from sqlalchemy.orm import Session, aliased, joinedload

from portal.models import AGENCY_KINDS, HEALTH_STATES, Agency, Procedure, Service
from portal.models.search import ID_BITS, ID_MASK
from portal.services.agencies import get_by_code, subunit_ids
from portal.services.memo import clear_all, database_key, memo
from portal.services.querying import (
    MIN_PREFIX,
    Terms,
    Understanding,
    best_partial_names,
    suggest_names,
    understand,
)
from portal.text import lower_nfc, query_tokens, vietnamese_sort_key

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
    exact: bool = False

    def filters(self) -> dict[str, str | int]:
        """The active filters, for links that keep them."""
        values = {
            "q": self.q, "agency": self.agency, "kind": self.kind, "level": self.level,
            "field": self.field, "health": self.health, "exact": 1 if self.exact else None,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class SearchPage:
    items: list[Service]
    total: int
    page: int
    per_page: int
    query: ServiceQuery = field(default_factory=ServiceQuery)
    understanding: Understanding | None = None

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
        exact=(args.get("exact") or "").strip().lower() in {"1", "true"},
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _segments(terms: Terms):
    """The segments with their index, a repeated segment asked for once."""
    seen = set()
    for i, seg in enumerate(terms.segments):
        if seg.alternatives not in seen:
            seen.add(seg.alternatives)
            yield i, seg


def _pg_tsquery(terms: Terms) -> str:
    """Every segment must match, each as one of its phrases; the last word typed may be a prefix.
    Words are word characters only, quoted."""
    parts = []
    for i, seg in _segments(terms):
        alts = [" <-> ".join(f"'{w}'" + (":*" if terms.prefix_word(i, alt, p) else "") for p, w in enumerate(alt))
                for alt in seg.alternatives]
        parts.append(alts[0] if len(alts) == 1 else "(" + " | ".join(f"({a})" for a in alts) + ")")
    return " & ".join(parts)


def _tier_patterns(q: str, terms: Terms) -> tuple[str, list[str]]:
    """LIKE patterns of the first two ranking tiers: the query with its exact diacritics, the whole phrase
    (one pattern per wording of it)."""
    return (f"%{_escape_like(lower_nfc(q))}%",
            [f"%{_escape_like(' '.join(phrase))}%" for phrase, _ in terms.phrases()])


def _pg_match(terms: Terms):
    vector = func.to_tsvector(literal_column("'simple'::regconfig"), Service.name_folded)
    query = func.to_tsquery(literal_column("'simple'::regconfig"), _pg_tsquery(terms))
    return vector.op("@@")(query)


def _fts_text(phrase: tuple[str, ...] | list[str], prefix: bool) -> str:
    return '"' + " ".join(phrase) + '"' + (" *" if prefix else "")


def _fts_words(terms: Terms) -> str:
    """Every segment, the last word as a prefix, in any column: a word of the name with diacritics (such as
    "bhyt") is in the folded name too, so no column filter is needed."""
    parts = []
    for i, seg in _segments(terms):
        alts = [_fts_text(alt, terms.prefix_word(i, alt, len(alt) - 1)) for alt in seg.alternatives]
        parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    return " AND ".join(parts)


def _fts_phrase(column_name: str, terms: Terms) -> str:
    return f"{column_name} : (" + " OR ".join(_fts_text(p, prefix) for p, prefix in terms.phrases()) + ")"


@dataclass(frozen=True)
class _Tiers:
    """FTS5 queries of a text search on SQLite: every match, the whole phrase, the exact diacritics (if any)."""

    every: str
    phrase: str
    exact: str | None

    @property
    def tiers(self) -> tuple[str, ...]:
        """Each ranking tier as its own query, disjoint, best first."""
        rest = f"({self.every}) NOT ({self.phrase})"
        if self.exact is None:
            return (self.phrase, rest)
        return (self.exact, f"({self.phrase}) NOT ({self.exact})", rest)


def _sqlite_tiers(q: str, terms: Terms) -> _Tiers:
    exact_tokens = query_tokens(lower_nfc(q))
    every = _fts_words(terms)
    exact = None
    if exact_tokens:
        prefix = terms.prefix and len(exact_tokens[-1]) >= MIN_PREFIX
        exact = f"(name_lower : {_fts_text(exact_tokens, prefix)}) AND ({every})"
    return _Tiers(every, _fts_phrase("name_folded", terms), exact)


def _fts_match(fts_query: str):
    return text("service_search MATCH :fts_query").bindparams(fts_query=fts_query)


def _filtered(stmt: Select, query: ServiceQuery, session: Session, *, include_retired: bool) -> Select:
    if query.kind:
        stmt = stmt.join(Agency, Agency.id == Service.agency_id).where(Agency.kind == query.kind)
    if not include_retired:
        stmt = stmt.where(Service.status == "active")
    if query.agency:
        agency = get_by_code(session, query.agency)
        if agency is None:
            raise QueryError("agency", f"unknown agency code '{query.agency}'")
        stmt = stmt.where(Service.agency_id.in_(subunit_ids(session, agency)))
    if query.level:
        stmt = stmt.where(Service.level == query.level)
    if query.field:
        stmt = stmt.where(Service.field == query.field)
    if query.health:
        stmt = stmt.where(Service.health == query.health)
    return stmt


def _sqlite_text_page(session: Session, query: ServiceQuery, tiers: _Tiers) -> tuple[int, list[int]]:
    """Total and the page's ids of a filtered search, tier by tier, each read by name length (the rowid's
    high bits), then today's agencies first, level 4 first and id, from FTS5 joined to the services."""
    rowid = _FTS.c.rowid

    def base(columns, fts_query: str) -> Select:
        stmt = select(*columns).select_from(_FTS).where(_fts_match(fts_query))
        stmt = stmt.join(Service, Service.id == rowid.op("&")(ID_MASK))
        return _filtered(stmt, query, session, include_retired=False)

    def count(fts_query: str) -> int:
        return session.execute(base([func.count()], fts_query)).scalar_one()

    total = count(tiers.every)
    skip, limit = (query.page - 1) * query.per_page, query.per_page
    ids: list[int] = []
    for position, tier in enumerate(tiers.tiers):
        if len(ids) >= limit or skip >= total:
            break
        if skip and position < len(tiers.tiers) - 1:
            size = count(tier)
            if skip >= size:
                skip -= size
                continue
        stmt = base([rowid], tier).order_by(rowid.op(">>")(ID_BITS), _former(), -Service.level, rowid)
        stmt = stmt.limit(limit - len(ids)).offset(skip)
        ids += [value & ID_MASK for value in session.execute(stmt).scalars()]
        skip = 0
    return total, ids


NAMES_MATCHED = {
    "postgresql": """
    SELECT name, length(name) AS name_length, active,
           CASE WHEN name_lower LIKE :exact ESCAPE '\\' THEN 0
                WHEN name_folded LIKE ANY (:phrases) THEN 1 ELSE 2 END AS tier  -- LIKE's default escape is backslash
    FROM service_names
    WHERE active > 0 AND to_tsvector('simple', name_folded) @@ to_tsquery('simple', :every)""",
    "sqlite": """
    SELECT n.name, length(n.name) AS name_length, n.active,
           CASE WHEN f.rowid IN (SELECT rowid FROM service_name_search WHERE service_name_search MATCH :exact) THEN 0
                WHEN f.rowid IN (SELECT rowid FROM service_name_search WHERE service_name_search MATCH :phrase)
                THEN 1 ELSE 2 END AS tier
    FROM service_name_search f JOIN service_names n ON n.id = f.rowid
    WHERE service_name_search MATCH :every AND n.active > 0""",
}
_NAMES_SERVICES = {
    "postgresql": """
    FROM groups g
    JOIN matched m ON m.tier = g.tier AND m.name_length = g.name_length
    CROSS JOIN LATERAL (
        SELECT services.id, services.level,
               CASE WHEN agencies.valid_to <= :today THEN 1 ELSE 0 END AS former
        FROM services JOIN agencies ON agencies.id = services.agency_id
        WHERE services.name = m.name AND services.status = 'active'
        ORDER BY former, services.level DESC, services.id LIMIT (:stop - g.start)
    ) s
    WHERE g.start < :stop AND g.start + g.size > :skip""",
    # CROSS JOIN fixes SQLite's join order: the page's groups, their names, each name's services by index.
    "sqlite": """
    FROM groups g CROSS JOIN matched m CROSS JOIN services s CROSS JOIN agencies a
    WHERE g.start < :stop AND g.start + g.size > :skip AND m.tier = g.tier AND m.name_length = g.name_length
      AND s.name = m.name AND s.status = 'active' AND a.id = s.agency_id""",
}
# Within a name: services of today's agencies before those of merged ones, then level 4 before 3.
_WITHIN_GROUP = {
    "postgresql": "s.former, s.level DESC, s.id",
    "sqlite": "CASE WHEN a.valid_to <= :today THEN 1 ELSE 0 END, s.level DESC, s.id",
}
_NAMES_PAGE = {dialect: text(f"""
WITH matched AS {"MATERIALIZED " if dialect == "postgresql" else ""}({NAMES_MATCHED[dialect]}
),
groups AS (
    SELECT tier, name_length, sum(active) AS size,
           sum(sum(active)) OVER (ORDER BY tier, name_length) - sum(active) AS start
    FROM matched GROUP BY tier, name_length
),
page AS (
    SELECT s.id, g.start + row_number() OVER (PARTITION BY g.tier, g.name_length ORDER BY {_WITHIN_GROUP[dialect]})
           - 1 AS position
    {_NAMES_SERVICES[dialect]}
)
SELECT total.n, page.id
FROM (SELECT coalesce(sum(active), 0) AS n FROM matched) total
LEFT JOIN page ON page.position >= :skip AND page.position < :stop
ORDER BY page.position
""") for dialect in NAMES_MATCHED}  # noqa: S608 - composed of the module's own constants


def names_params(dialect: str, q: str, terms: Terms) -> dict:
    """The text-search parameters of the queries over `service_names` (NAMES_MATCHED)."""
    if dialect == "postgresql":
        exact, phrases = _tier_patterns(q, terms)
        return {"exact": exact, "phrases": phrases, "every": _pg_tsquery(terms)}
    tiers = _sqlite_tiers(q, terms)
    return {"exact": tiers.exact or tiers.phrase, "phrase": tiers.phrase, "every": tiers.every}


def _today(dialect: str) -> date | str:
    return date.today() if dialect == "postgresql" else date.today().isoformat()


def _names_page(session: Session, dialect: str, query: ServiceQuery, terms: Terms) -> tuple[int, list[int]]:
    """Total and the page's ids of a search without filters, from the distinct active names.

    Tier and length depend on the name alone, so names are grouped by (tier, length); a running sum of
    their counts says which groups the page falls in, and only those groups' services are read from the
    (name, id) index.
    """
    params = names_params(dialect, query.q, terms)
    skip = (query.page - 1) * query.per_page
    params |= {"skip": skip, "stop": skip + query.per_page, "today": _today(dialect)}
    rows = session.execute(_NAMES_PAGE[dialect], params).all()
    return int(rows[0][0]), [row[1] for row in rows if row[1] is not None]


@dataclass(frozen=True)
class Suggestion:
    name: str
    services: int


def suggest(session: Session, q: str, *, limit: int = 8) -> tuple[list[Suggestion], Understanding | None]:
    """Service names for the search box as the citizen types, each with how many active services bear it."""
    q = q.strip()[:MAX_QUERY_CHARS]
    if not q or PROCEDURE_CODE.match(q):
        return [], None
    names, understanding = suggest_names(session, q, limit=limit)
    return [Suggestion(name, active) for name, active in names], understanding


def _former():
    """1 for a service of a merged (former) agency, else 0: such services come after today's."""
    agency = aliased(Agency)
    ended = select(agency.id).where(agency.id == Service.agency_id, agency.valid_to <= date.today()).exists()
    return case((ended, 1), else_=0)


def _ordered_page(session: Session, stmt: Select, order_by: list, query: ServiceQuery) -> tuple[int, list[int]]:
    """Total and the page's ids from one ordered query; the total rides along as a window count.

    The sort keys are computed in a materialised CTE first, so the window buffers narrow rows, not whole
    services (PostgreSQL would otherwise spill them to disk for common words).
    """
    keys = stmt.add_columns(*[key.label(f"k{i}") for i, key in enumerate(order_by)]).cte("keys")
    keys = keys.prefix_with("MATERIALIZED")
    offset = (query.page - 1) * query.per_page
    rows = session.execute(
        select(keys.c.id, func.count().over())
        .order_by(*[keys.c[f"k{i}"] for i in range(len(order_by))])
        .limit(query.per_page).offset(offset)
    ).all()
    if rows:
        return rows[0][1], [row[0] for row in rows]
    if offset == 0:
        return 0, []
    return session.execute(select(func.count()).select_from(keys)).scalar_one(), []


def search_services(session: Session, query: ServiceQuery, *, include_retired: bool = False) -> SearchPage:
    """One page of services matching the query, best matches first; raises QueryError for unknown agency.

    The query is understood first (synonyms, request words, typos; see services/querying.py) unless
    `query.exact`. Ranking: the name contains the query with its exact diacritics, then the whole phrase
    without them, then every word anywhere; shorter names first within a tier, then services of today's
    agencies before merged ones, level 4 before 3. When not every word matches, the names matching the
    most (and rarest) words are offered instead.
    """
    has_filters = bool(query.agency or query.kind or query.level or query.field or query.health)
    dialect = session.get_bind().dialect.name
    q = query.q
    understanding = None
    if q and not PROCEDURE_CODE.match(q):
        understanding = understand(session, q, exact=query.exact or include_retired)
    terms = understanding.terms if understanding else None

    if terms and not (include_retired or has_filters) and dialect in _NAMES_PAGE:
        total, ids = _names_page(session, dialect, query, terms)
    elif terms and dialect == "sqlite" and not include_retired:
        total, ids = _sqlite_text_page(session, query, _sqlite_tiers(q, terms))
    else:
        stmt = _filtered(select(Service.id), query, session, include_retired=include_retired)
        order_by = [Service.name_folded, Service.id]
        if q and PROCEDURE_CODE.match(q):
            stmt = stmt.join(Service.procedure).where(Procedure.code.like(_escape_like(q) + "%", escape="\\"))
        elif terms:
            if include_retired:
                stmt = stmt.where(*[
                    or_(*[Service.name_folded.like(f"%{_escape_like(' '.join(alt))}%", escape="\\")
                          for alt in seg.alternatives])
                    for seg in terms.segments
                ])
            else:
                stmt = stmt.where(_pg_match(terms))
            exact, phrases = _tier_patterns(q, terms)
            tier = case(
                (Service.name_lower.like(exact, escape="\\"), 0),
                (or_(*[Service.name_folded.like(p, escape="\\") for p in phrases]), 1),
                else_=2,
            )
            order_by = [tier, func.length(Service.name), _former(), -Service.level, Service.id]
        total, ids = _ordered_page(session, stmt, order_by, query)

    if terms and total == 0 and not (query.exact or include_retired):
        names, matched = best_partial_names(session, terms)
        if names:
            understanding.partial, understanding.terms = True, matched
            stmt = _filtered(select(Service.id), query, session, include_retired=False)
            stmt = stmt.where(Service.name.in_(names))
            rank = case({name: i for i, name in enumerate(names)}, value=Service.name)
            total, ids = _ordered_page(
                session, stmt, [rank, _former(), -Service.level, Service.id], query
            )

    return SearchPage(items=_load(session, ids), total=total, page=query.page, per_page=query.per_page,
                      query=query, understanding=understanding)


def _load(session: Session, ids: list[int]) -> list[Service]:
    if not ids:
        return []
    rows = session.execute(
        select(Service).where(Service.id.in_(ids)).options(joinedload(Service.agency))
    ).unique().scalars()
    by_id = {service.id: service for service in rows}
    return [by_id[i] for i in ids if i in by_id]


_FIELDS = memo(300)


def fields(session: Session) -> list[str]:
    """Distinct fields (lĩnh vực) of active services in Vietnamese order, memoised for a few minutes."""

    def compute() -> list[str]:
        rows = session.execute(
            select(Service.field).where(Service.status == "active", Service.field.is_not(None)).distinct()
        ).scalars()
        return sorted(rows, key=vietnamese_sort_key)

    return _FIELDS.get(database_key(session), compute)


def clear_caches() -> None:
    clear_all()

"""The results page: one row per procedure name with its services across agencies ("có ở 34 tỉnh"), best first:
today's agencies, then level 4. Pages over the distinct names without filters, else groups a page of services."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import column, select, table, text
from sqlalchemy.orm import Session

from portal.models import Agency, Service
from portal.services.querying import (
    Understanding,
    best_partial_names,
    understand,
)
from portal.services.search import NAMES_MATCHED, ServiceQuery, names_params, search_services
from portal.text import place_sort_key

MAX_QUERY_CHARS = 500
PROCEDURE_CODE = re.compile(r"^[12]\.\d{1,6}(\.[A-Za-z0-9]*)?$")
_FTS = table("service_search", column("rowid"))


_place_key = lru_cache(maxsize=4096)(place_sort_key)


@dataclass(frozen=True)
class GroupService:
    id: int
    level: int
    health: str
    agency_code: str
    agency_name: str
    agency_kind: str
    former: bool
    is_sample: bool
    now_in: str | None = None  # a former agency: the name of the agency it is part of now


@dataclass
class ResultGroup:
    """The services of one name (the same procedure across agencies), best first: today's agencies, level 4."""

    name: str
    services: list[GroupService]

    @property
    def best(self) -> GroupService:
        return self.services[0]

    @property
    def provinces(self) -> int:
        return len({s.agency_code for s in self.services if s.agency_kind == "province"})

    @property
    def agencies(self) -> int:
        return len({s.agency_code for s in self.services})

    @property
    def levels(self) -> list[int]:
        return sorted({s.level for s in self.services}, reverse=True)

    def picker(self) -> list[GroupService]:
        """The services by agency name, for the province picker."""
        return sorted(self.services, key=lambda s: (s.former, _place_key(s.agency_name)))

    def picker_options(self, merged: str, level_3: str, level_4: str) -> list[tuple[int, str]]:
        """(service id, "Agency (merged) · level") for the picker's <option>s."""
        return [(s.id, f"{s.agency_name}{f' ({merged})' if s.former else ''} · {level_4 if s.level == 4 else level_3}")
                for s in self.picker()]


@dataclass
class GroupPage:
    groups: list[ResultGroup]
    total: int
    names: int
    page: int
    per_page: int
    query: ServiceQuery
    understanding: Understanding | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.names / self.per_page))


_NAMES_LIST = {dialect: text(f"""
WITH matched AS ({NAMES_MATCHED[dialect]}
)
SELECT name, count(*) OVER () AS names, sum(active) OVER () AS total
FROM matched ORDER BY tier, name_length, name LIMIT :limit OFFSET :skip
""") for dialect in NAMES_MATCHED}  # noqa: S608 - composed of the module's own constants


def _group_services(session: Session, names: list[str]) -> dict[str, list[GroupService]]:
    today = date.today()
    rows = session.execute(
        select(Service.id, Service.name, Service.level, Service.health, Service.is_sample, Agency.code,
               Agency.name, Agency.kind, Agency.valid_to)
        .join(Agency, Agency.id == Service.agency_id)
        .where(Service.name.in_(names), Service.status == "active")
    ).all()
    found: dict[str, list[GroupService]] = {}
    for r in rows:
        found.setdefault(r[1], []).append(GroupService(
            id=r[0], level=r[2], health=r[3], is_sample=r[4], agency_code=r[5], agency_name=r[6],
            agency_kind=r[7], former=bool(r[8] and r[8] <= today)))
    former_codes = {s.agency_code for services in found.values() for s in services if s.former}
    if former_codes:
        now_in = {a.code: getattr(a.final_successor(), "name", None) for a in session.execute(
            select(Agency).where(Agency.code.in_(former_codes))).scalars()}
        found = {name: [dataclasses.replace(s, now_in=now_in.get(s.agency_code)) if s.former else s for s in services]
                 for name, services in found.items()}
    for services in found.values():
        services.sort(key=lambda s: (s.former, -s.level, s.id))
    return found


def search_groups(session: Session, query: ServiceQuery) -> GroupPage:
    """A page of procedure names matching the query, each with its services (one row for the same procedure
    in 34 provinces instead of 34 rows). Without filters it pages over the distinct names; with filters, or
    for the best partial matches, the services page of `search_services` is grouped by name."""
    has_filters = bool(query.agency or query.kind or query.level or query.field or query.health)
    dialect = session.get_bind().dialect.name
    q = query.q
    skip = (query.page - 1) * query.per_page
    if q and not PROCEDURE_CODE.match(q) and not has_filters and dialect in _NAMES_LIST:
        understanding = understand(session, q, exact=query.exact)
        terms = understanding.terms
        if terms is not None:
            params = names_params(dialect, q, terms) | {"limit": query.per_page, "skip": skip}
            rows = session.execute(_NAMES_LIST[dialect], params).all()
            names_total = int(rows[0][1]) if rows else 0
            total = int(rows[0][2]) if rows else 0
            names = [r[0] for r in rows]
            if not rows and not query.exact and skip == 0:
                names, matched = best_partial_names(session, terms, limit=query.per_page)
                if names:
                    understanding.partial, understanding.terms = True, matched
                    names_total = len(names)
            found = _group_services(session, names) if names else {}
            groups = [ResultGroup(n, found[n]) for n in names if n in found]
            if understanding.partial:
                total = sum(len(g.services) for g in groups)
            return GroupPage(groups, total, names_total, query.page, query.per_page, query, understanding)
    page = search_services(session, query)
    order = list(dict.fromkeys(s.name for s in page.items))
    in_page: dict[str, list[GroupService]] = {}
    today = date.today()
    for s in page.items:
        in_page.setdefault(s.name, []).append(GroupService(
            id=s.id, level=s.level, health=s.health, is_sample=s.is_sample, agency_code=s.agency.code,
            agency_name=s.agency.name, agency_kind=s.agency.kind,
            former=bool(s.agency.valid_to and s.agency.valid_to <= today),
            now_in=getattr(s.agency.final_successor(), "name", None)))
    groups = [ResultGroup(n, in_page[n]) for n in order]
    names = math.ceil(page.total / query.per_page) * query.per_page if page.total else 0
    return GroupPage(groups, page.total, names, page.page, page.per_page, query, page.understanding)

"""The results page: one row per procedure name with its services across agencies ("có ở 34 tỉnh"), best first:
today's agencies, then level 4. Pages over the distinct names without filters, else groups a page of services."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache

from sqlalchemy import bindparam, column, select, table, text
from sqlalchemy.orm import Session

from portal.models import Agency
from portal.services.memo import memo
from portal.services.querying import Understanding, best_partial_names, list_names, refresh_vocabulary, understand
from portal.services.search import ServiceQuery, search_services
from portal.text import place_sort_key

MAX_QUERY_CHARS = 500
PROCEDURE_CODE = re.compile(r"^[12]\.\d{1,6}(\.[A-Za-z0-9]*)?$")
_FTS = table("service_search", column("rowid"))


_place_key = lru_cache(maxsize=4096)(place_sort_key)


@dataclass(frozen=True, slots=True)
class GroupAgency:
    code: str
    name: str
    kind: str
    former: bool
    now_in: str | None  # a former agency: the name of the agency it is part of now


_AGENCIES = memo(300)


def group_agencies(session: Session) -> dict[int, GroupAgency]:
    """Every agency as the results page shows it, by id; memoised for a few minutes (and per day, since an
    agency becomes former on the day after its merger)."""
    today = date.today()

    def compute() -> dict[int, GroupAgency]:
        agencies = session.execute(select(Agency)).scalars().all()
        return {a.id: GroupAgency(a.code, a.name, a.kind, bool(a.valid_to and a.valid_to <= today),
                                  getattr(a.final_successor(), "name", None)) for a in agencies}

    return _AGENCIES.get((str(session.get_bind().url), today), compute)


@dataclass(frozen=True, slots=True)
class GroupService:
    id: int
    level: int
    health: str
    is_sample: bool
    agency: GroupAgency

    @property
    def agency_code(self) -> str:
        return self.agency.code

    @property
    def agency_name(self) -> str:
        return self.agency.name

    @property
    def agency_kind(self) -> str:
        return self.agency.kind

    @property
    def former(self) -> bool:
        return self.agency.former

    @property
    def now_in(self) -> str | None:
        return self.agency.now_in if self.agency.former else None


@dataclass
class ResultGroup:
    """The services of one name (the same procedure across agencies), best first: today's agencies, level 4."""

    name: str
    services: list[GroupService]

    @property
    def best(self) -> GroupService:
        return self.services[0]

    @cached_property
    def provinces(self) -> int:
        return len({s.agency.code for s in self.services if s.agency.kind == "province"})

    @cached_property
    def agencies(self) -> int:
        return len({s.agency.code for s in self.services})

    @cached_property
    def levels(self) -> list[int]:
        return sorted({s.level for s in self.services}, reverse=True)

    def picker(self) -> list[GroupService]:
        """The services by agency name, for the province picker."""
        return sorted(self.services, key=lambda s: (s.agency.former, _place_key(s.agency.name)))

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


# A plain statement: the ORM's select() costs more to build and read than the query itself (by the (name, id) index).
_SERVICES_OF_NAMES = text(
    "SELECT id, name, level, health, is_sample, agency_id FROM services WHERE name IN :names AND status = 'active'"
).bindparams(bindparam("names", expanding=True))


def _group_services(session: Session, names: list[str]) -> dict[str, list[GroupService]]:
    agencies = group_agencies(session)
    rows = session.connection().execute(_SERVICES_OF_NAMES, {"names": names}).fetchall()
    found: dict[str, list[GroupService]] = {}
    for r in rows:
        agency = agencies.get(r[5])
        if agency is None:  # an agency added since the memo was filled
            clear_agencies()
            return _group_services(session, names)
        found.setdefault(r[1], []).append(GroupService(r[0], r[2], r[3], bool(r[4]), agency))
    for services in found.values():
        services.sort(key=lambda s: (s.agency.former, -s.level, s.id))
    return found


def clear_agencies() -> None:
    _AGENCIES.clear()


def _names_page(session: Session, query: ServiceQuery, skip: int) -> GroupPage | None:
    """The page of a search without filters, from the names in memory (list_names); None without words."""
    understanding = understand(session, query.q, exact=query.exact)
    terms = understanding.terms
    if terms is None:
        return None
    listing = list_names(session, query.q, terms, skip=skip, limit=query.per_page)
    names, names_total, total = listing.names, listing.names_total, listing.services_total
    if not names_total and not query.exact and skip == 0:
        names, matched = best_partial_names(session, terms, limit=query.per_page)
        if names:
            understanding.partial, understanding.terms = True, matched
            names_total = len(names)
    found = _group_services(session, names) if names else {}
    groups = [ResultGroup(n, found.get(n, [])) for n in names]
    if understanding.partial:
        total = sum(len(g.services) for g in groups)
    return GroupPage(groups, total, names_total, query.page, query.per_page, query, understanding)


def search_groups(session: Session, query: ServiceQuery) -> GroupPage:
    """A page of procedure names matching the query, each with its services (one row for the same procedure
    in 34 provinces instead of 34 rows). Without filters it pages over the distinct names; with filters, or
    for the best partial matches, the services page of `search_services` is grouped by name."""
    has_filters = bool(query.agency or query.kind or query.level or query.field or query.health)
    q = query.q
    skip = (query.page - 1) * query.per_page
    if q and not PROCEDURE_CODE.match(q) and not has_filters:
        refresh_vocabulary(session)
        page = _names_page(session, query, skip)
        if page is not None and any(len(g.services) < 1 for g in page.groups):
            refresh_vocabulary(session, stale=True)  # a name listed from memory has no active service now
            page = _names_page(session, query, skip)
        if page is not None:
            page.groups = [g for g in page.groups if g.services]
            return page
    page = search_services(session, query)
    order = list(dict.fromkeys(s.name for s in page.items))
    in_page: dict[str, list[GroupService]] = {}
    agencies = group_agencies(session)
    if any(s.agency_id not in agencies for s in page.items):
        clear_agencies()
        agencies = group_agencies(session)
    for s in page.items:
        in_page.setdefault(s.name, []).append(GroupService(s.id, s.level, s.health, s.is_sample, agencies[s.agency_id]))
    groups = [ResultGroup(n, in_page[n]) for n in order]
    names = math.ceil(page.total / query.per_page) * query.per_page if page.total else 0
    return GroupPage(groups, page.total, names, page.page, page.per_page, query, page.understanding)

"""The results page: one row per procedure name with its services across agencies ("có ở 34 tỉnh"), best first:
today's agencies, then level 4. Pages over the distinct names without filters, else groups a page of services."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Agency
from portal.services.memo import database_key, memo
from portal.services.querying import (
    NAMES_MARK_SQL,
    Understanding,
    best_partial_names,
    forget_vocabulary,
    list_names,
    understand,
    vocabulary,
)
from portal.services.search import PROCEDURE_CODE, ServiceQuery, search_services
from portal.text import place_sort_key


@dataclass(frozen=True, slots=True)
class GroupAgency:
    code: str
    name: str
    kind: str
    former: bool
    now_in: str | None  # a former agency: the name of the agency it is part of now
    order: tuple = ()  # the picker's order: today's agencies first, then by name the Vietnamese way


_AGENCIES = memo(300)


def group_agencies(session: Session) -> dict[int, GroupAgency]:
    """Every agency as the results page shows it, by id; memoised for a few minutes (and per day, since an
    agency becomes former on the day after its merger)."""
    today = date.today()

    def compute() -> dict[int, GroupAgency]:
        agencies = session.execute(select(Agency)).scalars().all()
        found = {}
        for a in agencies:
            former = bool(a.valid_to and a.valid_to <= today)
            found[a.id] = GroupAgency(a.code, a.name, a.kind, former, getattr(a.final_successor(), "name", None),
                                      (former, place_sort_key(a.name)))
        return found

    return _AGENCIES.get((database_key(session), today), compute)


class GroupService(NamedTuple):
    """One service of a result (a tuple: a page builds a hundred-odd)."""

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
    def former(self) -> bool:
        return self.agency.former

    @property
    def now_in(self) -> str | None:
        return self.agency.now_in if self.agency.former else None


@dataclass(eq=False)
class ResultGroup:
    """The services of one name (the same procedure across agencies), best first: today's agencies, level 4.

    A group is kept and shared by every page that shows the same services (see _kept_group), so it is never
    changed once made; `kept` holds what the page built from it (its row's HTML per language)."""

    name: str
    services: list[GroupService]
    kept: dict = field(default_factory=dict, repr=False)

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
        return sorted(self.services, key=lambda s: s.agency.order)


_GROUPS: OrderedDict[tuple, tuple[dict[int, GroupAgency], ResultGroup]] = OrderedDict()
_GROUPS_KEPT = 4096
_GROUPS_LOCK = threading.Lock()


def _kept_group(agencies: dict[int, GroupAgency], rows: tuple[tuple, ...]) -> ResultGroup | None:
    """The group of one name's services, rows of (id, name, level, health, is_sample, agency_id) in a fixed
    order. The same procedure is a result of many different queries, so groups are kept, known by every row
    and by the agency records they were made with (kept alongside, so their identity cannot be reused): any
    change in what a page shows is a new key, never a stale group. None when an agency is not in `agencies`."""
    key = (id(agencies), rows)
    with _GROUPS_LOCK:
        held = _GROUPS.get(key)
        if held is not None:
            _GROUPS.move_to_end(key)
            return held[1]
    try:
        services = [GroupService(r[0], r[2], r[3], bool(r[4]), agencies[r[5]]) for r in rows]
    except KeyError:
        return None
    services.sort(key=lambda s: (s.agency.former, -s.level, s.id))
    group = ResultGroup(rows[0][1], services)
    with _GROUPS_LOCK:
        _GROUPS[key] = (agencies, group)
        if len(_GROUPS) > _GROUPS_KEPT:
            _GROUPS.popitem(last=False)
    return group


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


def _services_of_names(session: Session, names: list[str]) -> tuple[list[tuple], int | None]:
    """(id, name, level, health, is_sample, agency_id) of the active services bearing `names`, by the (name, id)
    index, and in the same round trip the mark that says whether the vocabulary in memory is current
    (querying.names_mark). Sent on the driver's own cursor: building and reading a select() costs more than
    the query itself, and this runs for every search."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    latest = f"SELECT NULL, NULL, NULL, NULL, NULL, ({NAMES_MARK_SQL['sqlite' if sqlite else 'other']})"
    sql = (f"SELECT id, name, level, health, is_sample, agency_id FROM services "  # noqa: S608 - placeholders only
           f"WHERE name IN ({', '.join([mark] * len(names))}) AND status = 'active' UNION ALL {latest}"
           if names else latest)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(names))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [r for r in rows if r[0] is not None], next((r[5] for r in rows if r[0] is None), None)


def _groups_of(session: Session, rows: list[tuple], *, again: bool = True) -> dict[str, ResultGroup]:
    """The groups of service rows (see _kept_group), by name; the agencies are read again when one was added
    since the memo was filled."""
    by_name: dict[str, list[tuple]] = {}
    for r in rows:
        by_name.setdefault(r[1], []).append(r)
    agencies = group_agencies(session)
    found = {}
    for name, held in by_name.items():
        group = _kept_group(agencies, tuple(held))
        if group is None and again:
            clear_agencies()
            return _groups_of(session, rows, again=False)
        if group is not None:
            found[name] = group
    return found


def clear_agencies() -> None:
    _AGENCIES.clear()
    with _GROUPS_LOCK:
        _GROUPS.clear()


def _names_page(session: Session, query: ServiceQuery, skip: int) -> tuple[GroupPage | None, bool]:
    """The page of a search without filters, its names listed from the vocabulary in memory (list_names); and
    whether that vocabulary was current (no new name since it was read, every listed name still active).
    None without words."""
    latest = vocabulary(session).latest
    understanding = understand(session, query.q, exact=query.exact)
    terms = understanding.terms
    if terms is None:
        return None, True
    listing = list_names(session, query.q, terms, skip=skip, limit=query.per_page)
    names, names_total, total = listing.names, listing.names_total, listing.services_total
    if not names_total and not query.exact and skip == 0:
        names, matched = best_partial_names(session, terms, limit=query.per_page)
        if names:
            understanding.partial, understanding.terms = True, matched
            names_total = len(names)
    rows, mark = _services_of_names(session, names)
    found = _groups_of(session, rows)
    groups = [found[n] for n in names if n in found]
    if understanding.partial:
        total = sum(len(g.services) for g in groups)
    page = GroupPage(groups, total, names_total, query.page, query.per_page, query, understanding)
    return page, mark == latest and len(groups) == len(names)


def search_groups(session: Session, query: ServiceQuery) -> GroupPage:
    """A page of procedure names matching the query, each with its services (one row for the same procedure
    in 34 provinces instead of 34 rows). Without filters it pages over the distinct names; with filters, or
    for the best partial matches, the services page of `search_services` is grouped by name."""
    has_filters = bool(query.agency or query.kind or query.level or query.field or query.health)
    q = query.q
    skip = (query.page - 1) * query.per_page
    if q and not PROCEDURE_CODE.match(q) and not has_filters:
        page, fresh = _names_page(session, query, skip)
        if not fresh:  # a new name since the vocabulary was read, or a listed one retired: read it again
            forget_vocabulary(session)
            page, _ = _names_page(session, query, skip)
        if page is not None:
            return page
    page = search_services(session, query)
    found = _groups_of(session, [(s.id, s.name, s.level, s.health, s.is_sample, s.agency_id) for s in page.items])
    groups = [found[n] for n in dict.fromkeys(s.name for s in page.items) if n in found]
    names = math.ceil(page.total / query.per_page) * query.per_page if page.total else 0
    return GroupPage(groups, page.total, names, page.page, page.per_page, query, page.understanding)

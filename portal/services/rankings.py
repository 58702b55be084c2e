"""Rankings from the database: reported and verified figures per agency, ranked as the official tables are.

Figures are aggregated in the database (GROUP BY agency), rolled up from sub-units to their top agency,
folded from former agencies into the agencies valid in the period (`ranking_rules.apply_successors`) and ranked
by `ranking_rules.ranking_from_report` (the official tie rules). Two sources are kept apart:

- `reported`: an official report's figures (ReportFigure, periods "2016", …) or the agencies' quarterly
  reports (QuarterlyReport, periods "2026-Q3", …); for the period `current`, the latest reported figures
  summed into today's agencies.
- `verified`: what the portal observed — registered services (active now, or registered by the end of a
  quarter), the share working now, availability (the share of checks that found the agency's services
  working, from the per-agency daily roll-up totals, over whole days: the 30 days to yesterday for `current`,
  the quarter's days so far otherwise) and the newest published crawled application counts of the period.

A ranking of a period uses the agencies valid on the period's last day (today for `current`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import (
    INDEX_COLUMNS,
    SERVICE_STATUSES,
    Agency,
    AgencyDailyRollup,
    ApplicationStat,
    QuarterlyReport,
    ReportFigure,
    Service,
    utcnow,
)
from portal.services import feedback
from portal.services.availability import day_bounds, local_day
from portal.services.ranking_choice import (
    CURRENT,
    CURRENT_DAYS,
    DEFAULT_METRIC,
    SOURCES,
    Period,
    PeriodIndex,
    Selection,
    counterpart,
    current_period,
    period_index,
    period_metrics,
)
from portal.services.ranking_rules import (
    METRICS,
    NO_ACTIVE_SERVICE,
    NO_DATA,
    RankRow,
    apply_successors,
    ranking_from_report,
)
from portal.vocabulary import WORKING

NOT_ENOUGH_DATA = "not_enough_data"


# Table 2.7 of the MIC report ranks applications only among the ministries that offer online services
# (Thanh tra Chính phủ and Ủy ban Dân tộc, with none, are not in it), while table 4.8 keeps the provinces
# without a service at the last rank. Rankings follow the report: for these kinds and metrics an agency
# with no online service at all is left out of the table (and listed as left out), not ranked last.
APPLICATION_METRICS = frozenset({"online_applications", "online_rate"})
LEFT_OUT_WITHOUT_SERVICES = frozenset({"ministry"})
NO_ONLINE_SERVICE = "no_online_service"

_VERIFIED_COUNTS = ("checks", "checks_ok", "working", "checked")
_REPORT_COLUMNS = ("services_l3", "services_l4", "online_applications", *INDEX_COLUMNS)


# ---------------------------------------------------------------- agencies valid in a period


@dataclass(frozen=True)
class _Agency:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    successor_id: int | None
    valid_from: date | None
    valid_to: date | None

    def valid_on(self, day: date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_to and day >= self.valid_to)


@dataclass
class _Frame:
    """Every agency, the top agency each one rolls up to, and the agency valid on `day` it folds into."""

    day: date
    kind: str
    agencies: dict[int, _Agency]
    top: dict[int, int]
    final: dict[int, int]  # top id -> id of the valid top agency of `kind` it counts for


def _frame(session: Session, kind: str, day: date) -> _Frame:
    agencies = {
        row.id: _Agency(*row)
        for row in session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.kind, Agency.parent_id, Agency.successor_id,
                   Agency.valid_from, Agency.valid_to)
        )
    }

    def top_of(agency_id: int) -> int:
        seen = set()
        while agencies[agency_id].parent_id is not None and agency_id not in seen:
            seen.add(agency_id)
            agency_id = agencies[agency_id].parent_id  # type: ignore[assignment]
        return agency_id

    top = {agency_id: top_of(agency_id) for agency_id in agencies}
    final: dict[int, int] = {}
    for top_id in set(top.values()):
        current, seen = top_id, set()
        while not agencies[current].valid_on(day) and agencies[current].successor_id and current not in seen:
            seen.add(current)
            current = top[agencies[current].successor_id]  # type: ignore[index]
        if agencies[current].valid_on(day) and agencies[current].kind == kind:
            final[top_id] = current
    return _Frame(day, kind, agencies, top, final)


# ---------------------------------------------------------------- figures from the database


_COUNT_CAP = 10_000


def _new_counts() -> dict[str, int]:
    return {"services_l3": 0, "services_l4": 0, "working": 0, "checked": 0}


def _add_levels(session: Session, out: dict[int, dict[str, int]], condition: tuple, sign: int) -> None:
    """Add (sign 1) or take away (-1) the services matching `condition`, per agency and level."""
    # materialised first, so that the planner picks the index by the WHERE clause, not by the GROUP BY
    matching = select(Service.agency_id, Service.level).where(*condition).cte("matching").prefix_with("MATERIALIZED")
    stmt = select(matching.c.agency_id, matching.c.level, func.count()).group_by(matching.c.agency_id,
                                                                               matching.c.level)
    for agency_id, level, n in session.execute(stmt):
        out.setdefault(agency_id, _new_counts())["services_l3" if level == 3 else "services_l4"] += sign * n


def _service_counts(session: Session, period: Period) -> dict[int, dict[str, int]]:
    """Active services per agency and level, and how many work now (health counts only make sense now).

    For a quarter: the services registered by its end and not retired by then. Whichever is smaller is read —
    the active services registered before the end, or (active now) less those registered since — plus those
    retired since; so a ranking reads few services one by one, however large the catalogue.
    """
    out: dict[int, dict[str, int]] = {}
    if period.kind == CURRENT:
        stmt = (
            select(Service.agency_id, Service.level, Service.health, func.count())
            .where(Service.status == "active")
            .group_by(Service.agency_id, Service.level, Service.health)
        )
        for agency_id, level, health, n in session.execute(stmt):
            row = out.setdefault(agency_id, _new_counts())
            row["services_l3" if level == 3 else "services_l4"] += n
            if health in WORKING:
                row["working"] += n
            if health != "unknown":
                row["checked"] += n
        return out
    end = day_bounds(period.last_day)[1]
    before = (Service.status == "active", Service.created_at < end)
    since = (Service.status == "active", Service.created_at >= end)
    newer, older = (  # which side is smaller; counting further than that costs time for nothing
        session.execute(select(func.count()).select_from(
            select(Service.id).where(*condition).limit(_COUNT_CAP).subquery())).scalar_one()
        for condition in (since, before)
    )
    if older < newer:
        _add_levels(session, out, before, 1)
    else:
        out = {agency_id: {**row, "working": 0, "checked": 0}
               for agency_id, row in _service_counts(session, current_period(period.last_day)).items()}
        _add_levels(session, out, since, -1)
    retired = (Service.status.in_([s for s in SERVICE_STATUSES if s != "active"]), Service.created_at < end,
               Service.retired_at >= end)
    _add_levels(session, out, retired, 1)
    return out


def availability_days(period: Period, today: date) -> tuple[date, date]:
    """The whole days an availability ranking covers: the 30 days to yesterday, or the quarter's days so far."""
    yesterday = today - timedelta(days=1)
    if period.kind == CURRENT:
        return today - timedelta(days=CURRENT_DAYS), yesterday
    return period.first_day, min(period.last_day, yesterday)


def _availability_counts(session: Session, period: Period, today: date) -> dict[int, dict[str, int]]:
    """Checks and working checks per agency over the period's whole days, from the per-agency daily totals."""
    first, last = availability_days(period, today)
    stmt = (
        select(AgencyDailyRollup.agency_id, func.sum(AgencyDailyRollup.checks), func.sum(AgencyDailyRollup.working))
        .where(AgencyDailyRollup.day >= first, AgencyDailyRollup.day <= last)
        .group_by(AgencyDailyRollup.agency_id)
    )
    return {agency_id: {"checks": int(checks or 0), "checks_ok": int(ok or 0)}
            for agency_id, checks, ok in session.execute(stmt)}


def _reply_times(session: Session, period: Period, today: date, now: datetime) -> dict[int, dict[str, list]]:
    """Hours to a first reply of the citizens' reports made over the period's days, per agency."""
    first, last = availability_days(period, today)
    times = feedback.reply_times(session, day_bounds(first)[0], day_bounds(last)[1], now)
    return {agency_id: {"reply_times": values} for agency_id, values in times.items()}


def _crawled(session: Session, quarter: str) -> dict[int, dict[str, Any]]:
    """The newest published crawled snapshot of each agency's own statistics pages observed in the quarter."""
    newest = func.row_number().over(
        partition_by=ApplicationStat.agency_id,
        order_by=(ApplicationStat.observed_at.desc(), ApplicationStat.id.desc()),
    ).label("newest")
    inner = (
        select(ApplicationStat.agency_id, ApplicationStat.received_total, ApplicationStat.received_online,
               ApplicationStat.online_rate, newest)
        .where(ApplicationStat.provenance == "crawled", ApplicationStat.status == "published",
               ApplicationStat.service_id.is_(None), ApplicationStat.period == quarter)
        .subquery()
    )
    out: dict[int, dict[str, Any]] = {}
    for agency_id, total, online, rate in session.execute(
        select(inner.c.agency_id, inner.c.received_total, inner.c.received_online, inner.c.online_rate)
        .where(inner.c.newest == 1)
    ):
        row: dict[str, Any] = {"online_applications": online, "received_online": online, "received_total": total}
        if (online is None or not total) and rate is not None:
            row["online_rate"] = rate / 100
        out[agency_id] = row
    return out


def _report_year(session: Session, period: str) -> dict[int, dict[str, Any]]:
    columns = [getattr(ReportFigure, name) for name in _REPORT_COLUMNS]
    return {
        agency_id: dict(zip(_REPORT_COLUMNS, values, strict=True))
        for agency_id, *values in session.execute(
            select(ReportFigure.agency_id, *columns).where(ReportFigure.period == period)
        )
    }


def _report_quarter(session: Session, period: str) -> dict[int, dict[str, Any]]:
    stmt = select(
        QuarterlyReport.agency_id, QuarterlyReport.services_l3, QuarterlyReport.services_l4,
        QuarterlyReport.online_l3 + QuarterlyReport.online_l4,
        QuarterlyReport.received_l3 + QuarterlyReport.received_l4,
    ).where(QuarterlyReport.period == period)
    return {
        agency_id: {"services_l3": l3, "services_l4": l4, "online_applications": online,
                    "received_online": online, "received_total": received}
        for agency_id, l3, l4, online, received in session.execute(stmt)
    }


def _sum_or_none(values: Iterable[Any]) -> Any:
    values = list(values)
    return None if not values or any(v is None for v in values) else sum(values)


def _roll_up(frame: _Frame, figures: Mapping[int, Mapping[str, Any]], *, own_first: bool) -> dict[int, dict]:
    """Figures per top agency. `own_first`: a top agency's own figures stand for it when it has them (a report
    or a statistics page covers the whole agency); otherwise (and always for counts of services and checks)
    its sub-units' figures are added up."""
    parts: dict[int, list[tuple[int, Mapping[str, Any]]]] = {}
    for agency_id, values in figures.items():
        if agency_id in frame.top:
            parts.setdefault(frame.top[agency_id], []).append((agency_id, values))
    out: dict[int, dict] = {}
    for top_id, rows in parts.items():
        own = next((values for agency_id, values in rows if agency_id == top_id), None)
        if own is not None and (own_first or len(rows) == 1):
            out[top_id] = dict(own)
            continue
        keys = {k for _, values in rows for k in values}
        out[top_id] = {
            k: None if k in INDEX_COLUMNS or k == "online_rate" else _sum_or_none(v.get(k) for _, v in rows)
            for k in keys
        }
    return out


@dataclass
class Inputs:
    """Folded figures of one source and period, one row per agency of the table, before ranking."""

    selection: Selection
    rows: list[dict[str, Any]]
    merges: dict[str, list[str]]
    names: dict[str, str]
    day: date


def _verified_figures(session: Session, frame: _Frame, period: Period, metrics: set[str],
                      today: date, now: datetime | None = None) -> dict[int, dict[str, Any]]:
    counts = _roll_up(frame, _service_counts(session, period), own_first=False)
    figures: dict[int, dict[str, Any]] = {
        top_id: {"services_l3": 0, "services_l4": 0, "working": 0, "checked": 0, **counts.get(top_id, {})}
        for top_id in frame.final
    }
    if metrics & {"availability"}:
        uptime = _roll_up(frame, _availability_counts(session, period, today), own_first=False)
        for top_id, row in figures.items():
            row.update({"checks": 0, "checks_ok": 0, **uptime.get(top_id, {})})
    if "reply_hours" in metrics:
        replies: dict[int, list] = {}
        for agency_id, values in _reply_times(session, period, today, now).items():
            if agency_id in frame.top:
                replies.setdefault(frame.top[agency_id], []).extend(values["reply_times"])
        for top_id, row in figures.items():
            row["reply_times"] = replies.get(top_id, [])
    if metrics & APPLICATION_METRICS:
        quarter = period.key if period.kind == "quarter" else f"{today.year}-Q{(today.month - 1) // 3 + 1}"
        crawled = _roll_up(frame, _crawled(session, quarter), own_first=True)
        for top_id, row in figures.items():
            if top_id in crawled:
                row.update(crawled[top_id])
            elif frame.final[top_id] == top_id:
                row.update({"online_applications": None, "received_online": None, "received_total": None})
            else:  # a former agency publishes nothing in the period: its successor's pages count it
                row.update({"online_applications": 0, "received_online": 0, "received_total": 0})
    return figures


def inputs(session: Session, selection: Selection, *, metrics: Iterable[str] | None = None,
           now: datetime | None = None) -> Inputs:
    """The table's rows for `selection` (all metrics of its source when `metrics` is None)."""
    now = now or utcnow()
    today = local_day(now)
    period = selection.period
    frame = _frame(session, selection.kind, period.last_day)
    wanted = set(metrics) if metrics is not None else set(period_metrics(selection.source, period))
    if selection.source == "reported":
        basis = selection.basis or period
        raw = _report_year(session, basis.key) if basis.kind == "year" else _report_quarter(session, basis.key)
        figures = {k: v for k, v in _roll_up(frame, raw, own_first=True).items() if k in frame.final}
        hosts = {frame.final[top_id] for top_id in figures}
        keys = {k for values in figures.values() for k in values}
        for top_id, final_id in frame.final.items():
            # an agency of the report's time without figures makes its successor's sums unknown, not smaller
            if top_id not in figures and final_id in hosts and frame.agencies[top_id].valid_on(basis.last_day):
                figures[top_id] = dict.fromkeys(keys)
    else:
        figures = _verified_figures(session, frame, period, wanted, today, now)
    agencies = frame.agencies
    rows = [{"code": agencies[top_id].code, "name": agencies[top_id].name, **values}
            for top_id, values in figures.items()]
    successor_map = {agencies[t].code: agencies[f].code for t, f in frame.final.items() if t != f}
    names = {a.code: a.name for a in agencies.values()}
    merged, merges = apply_successors(rows, successor_map, successor_names=names)
    if selection.source == "verified":
        by_code = {row["code"]: row for row in rows}
        for row in merged:
            for key in _VERIFIED_COUNTS:
                row[key] = sum(by_code[c].get(key) or 0 for c in row["merged_from"])
            row["working_share"] = row["working"] / row["checked"] if row["checked"] else None
            if "checks" in by_code[row["merged_from"][0]]:
                row["availability"] = row["checks_ok"] / row["checks"] if row["checks"] else None
            if "reply_times" in by_code[row["merged_from"][0]]:
                row["reply_hours"] = feedback.median_or_none(
                    t for c in row["merged_from"] for t in by_code[c].get("reply_times") or [])
    return Inputs(selection, merged, merges, names, frame.day)


# ---------------------------------------------------------------- ranking


@dataclass
class Ranking:
    selection: Selection
    rows: list[RankRow]
    merges: dict[str, list[str]]
    names: dict[str, str]
    day: date
    left_out: list[tuple[str, str, str]] = field(default_factory=list)  # (code, name, reason)
    counterpart: Ranking | None = None
    days: tuple[date, date] | None = None  # the whole days an availability ranking covers

    def by_code(self) -> dict[str, RankRow]:
        return {row.agency_code: row for row in self.rows}

    def merged(self) -> list[tuple[str, list[str]]]:
        """(successor code, codes merged into it) for the agencies of the table that absorbed others."""
        shown = {row.agency_code for row in self.rows}
        return [(code, parts) for code, parts in sorted(self.merges.items()) if code in shown]

    def movement(self, code: str) -> int | None:
        """Rank under verified minus rank under reported (negative: placed higher by the portal's figures); None
        when the two sources measure different periods, where a movement would compare unlike things."""
        if self.counterpart is None or not comparable(self):
            return None
        other = self.counterpart.by_code().get(code)
        mine = self.by_code().get(code)
        if other is None or mine is None:
            return None
        verified, reported = (mine, other) if self.selection.source == "verified" else (other, mine)
        return verified.rank - reported.rank  # type: ignore[operator]


def rank(data: Inputs, metric: str, *, min_checks: int = 0) -> Ranking:
    """Rank the rows of `data` by `metric` (the official tie rule), leaving out who the report leaves out and,
    for availability, agencies with fewer than `min_checks` checks in the period (not enough evidence)."""
    kind = data.selection.kind
    rows, left_out = data.rows, []
    if metric == "availability" and min_checks > 0:
        kept = []
        for row in rows:
            if (row.get("checks") or 0) < min_checks:
                left_out.append((row["code"], row["name"], NOT_ENOUGH_DATA))
            else:
                kept.append(row)
        rows = kept
    if metric in APPLICATION_METRICS and kind in LEFT_OUT_WITHOUT_SERVICES:
        kept = []
        for row in rows:
            if row.get("services_l3") == 0 and row.get("services_l4") == 0:
                left_out.append((row["code"], row["name"], NO_ONLINE_SERVICE))
            else:
                kept.append(row)
        rows = kept
    ranked = ranking_from_report(rows, metric)
    by_code = {row["code"]: row for row in rows}
    for row in ranked:
        figures = by_code[row.agency_code]
        if metric in ("availability", "working_share") and row.note == NO_DATA and (
            figures.get("services_l3") == 0 == figures.get("services_l4")
        ):
            row.note = NO_ACTIVE_SERVICE
        row.extra["merged_from"] = figures.get("merged_from") or [row.agency_code]
    selection = Selection(metric, kind, data.selection.source, data.selection.period, data.selection.basis)
    return Ranking(selection, ranked, data.merges, data.names, data.day, sorted(left_out, key=lambda r: r[1]))


def ranking(session: Session, selection: Selection, *, with_counterpart: bool = True,
            index: PeriodIndex | None = None, now: datetime | None = None, min_checks: int = 0) -> Ranking:
    """The ranking of `selection`, with the other source's ranking of the same period when it has one."""
    result = rank(inputs(session, selection, metrics={selection.metric}, now=now), selection.metric,
                  min_checks=min_checks)
    if selection.metric == "availability":
        result.days = availability_days(selection.period, local_day(now or utcnow()))
    if with_counterpart:
        other = counterpart(selection, index or period_index(session, local_day(now or utcnow())))
        if other is not None:
            result.counterpart = rank(inputs(session, other, metrics={other.metric}, now=now), other.metric)
    return result


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    value: Any
    rank: int | None
    total: int
    note: str | None = None
    counted_in: tuple[str, str] | None = None  # (code, name) of the agency whose figures include this one


def comparable(result: Ranking) -> bool:
    """Whether rank movement means something: both sources measured over the same period (not, say, the 2016
    report summed into today's agencies next to today's registry)."""
    other = result.counterpart
    if other is None:
        return False
    mine = (result.selection.basis or result.selection.period).key
    theirs = (other.selection.basis or other.selection.period).key
    return mine == theirs


def agency_trend(session: Session, agency: Agency, *, now: datetime | None = None,
                 min_checks: int = 0) -> dict[str, dict[str, list]]:
    """{metric: {source: [TrendPoint oldest first]}} for the agency's top agency, in every period with figures.

    Reported: the report years and quarters; verified: the quarters and `current`. A period in which the
    agency did not exist any more gives a point without value, `counted_in` naming its successor.
    """
    now = now or utcnow()
    index = period_index(session, local_day(now))
    top = agency.top()
    out: dict[str, dict[str, list[TrendPoint]]] = {m: {s: [] for s in SOURCES} for m in METRICS}
    for period in index.periods:
        for source in index.sources(period):
            if source == "reported" and period.kind == CURRENT:
                continue
            data = inputs(session, Selection(DEFAULT_METRIC, top.kind, source, period), now=now)
            for metric in sorted(period_metrics(source, period)):
                result = rank(data, metric, min_checks=min_checks)
                row = result.by_code().get(top.code)
                if row is not None:
                    point = TrendPoint(period, row.value, row.rank, len(result.rows), row.note)
                else:
                    host = next((r.agency_code for r in result.rows if top.code in r.extra["merged_from"]), None)
                    left_out = next((reason for code, _, reason in result.left_out if code == top.code), None)
                    if host is None and left_out is None:
                        continue
                    counted_in = (host, result.names.get(host, host)) if host else None
                    point = TrendPoint(period, None, None, len(result.rows), left_out, counted_in)
                out[metric][source].append(point)
    return out

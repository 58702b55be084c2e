"""Which rankings exist and which one is asked for: sources, kinds and the periods with figures, the defaults, and
the counterpart shown beside a ranking. `rankings.py` computes the chosen ranking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    AGENCY_KINDS,
    INDEX_COLUMNS,
    Agency,
    ApplicationStat,
    QuarterlyReport,
    ReportFigure,
    utcnow,
)
from portal.services.availability import local_day
from portal.services.periods import bounds, is_quarter, is_year
from portal.services.ranking_rules import (
    METRICS,
)
from portal.services.search import QueryError

SOURCES = ("reported", "verified")
CURRENT = "current"
DEFAULT_KIND = AGENCY_KINDS[0]
DEFAULT_METRIC = "services_total"
CURRENT_DAYS = 30

_SERVICE_METRICS = ("services_total", "services_l3", "services_l4")
SUPPORTED: dict[tuple[str, str], frozenset[str]] = {
    ("reported", "year"): frozenset({*_SERVICE_METRICS, "online_applications", *INDEX_COLUMNS}),
    ("reported", "quarter"): frozenset({*_SERVICE_METRICS, "online_applications", "online_rate"}),
    ("reported", CURRENT): frozenset({*_SERVICE_METRICS, "online_applications", "online_rate", *INDEX_COLUMNS}),
    ("verified", "quarter"): frozenset(
        {*_SERVICE_METRICS, "online_applications", "online_rate", "availability", "reply_hours"}
    ),
    ("verified", CURRENT): frozenset(
        {*_SERVICE_METRICS, "online_applications", "online_rate", "availability", "working_share", "reply_hours"}
    ),
}


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    key: str
    kind: str  # "year", "quarter" or "current"
    first_day: date
    last_day: date

    @property
    def sort_key(self) -> tuple[date, int]:
        return self.last_day, {"quarter": 0, "year": 1, CURRENT: 2}[self.kind]


def year_period(key: str) -> Period:
    return Period(key, "year", *bounds(key))


def quarter_period(key: str) -> Period:
    return Period(key, "quarter", *bounds(key))


def current_period(today: date) -> Period:
    return Period(CURRENT, CURRENT, today - timedelta(days=CURRENT_DAYS - 1), today)


@dataclass
class PeriodIndex:
    """The periods with figures: report years, quarters with reports or crawled figures, and `current`."""

    periods: list[Period]
    reported: dict[str, set[str]]  # period key -> kinds of agency with reported figures
    crawled_quarters: set[str]

    def get(self, key: str) -> Period | None:
        return next((p for p in self.periods if p.key == key), None)

    def keys(self) -> list[str]:
        return [p.key for p in self.periods]

    def sources(self, period: Period) -> list[str]:
        """Sources with figures for the period."""
        out = []
        if period.kind == CURRENT or period.key in self.reported:
            out.append("reported")
        if period.kind != "year":
            out.append("verified")
        return out


def period_index(session: Session, today: date | None = None) -> PeriodIndex:
    today = today or local_day(utcnow())
    reported: dict[str, set[str]] = {}
    periods: dict[str, Period] = {}
    for key, kind in session.execute(
        select(ReportFigure.period, Agency.kind).join(Agency, Agency.id == ReportFigure.agency_id).distinct()
    ):
        if is_year(key):
            periods[key] = year_period(key)
            reported.setdefault(key, set()).add(kind)
    for key, kind in session.execute(
        select(QuarterlyReport.period, Agency.kind).join(Agency, Agency.id == QuarterlyReport.agency_id).distinct()
    ):
        if is_quarter(key):
            periods[key] = quarter_period(key)
            reported.setdefault(key, set()).add(kind)
    crawled = set()
    for (key,) in session.execute(
        select(ApplicationStat.period)
        .where(ApplicationStat.provenance == "crawled", ApplicationStat.status == "published")
        .distinct()
    ):
        if is_quarter(key):
            periods.setdefault(key, quarter_period(key))
            crawled.add(key)
    ordered = sorted(periods.values(), key=lambda p: p.sort_key)
    return PeriodIndex([*ordered, current_period(today)], reported, crawled)


def period_metrics(source: str, period: Period) -> frozenset[str]:
    return SUPPORTED.get((source, period.kind), frozenset())


def supports(source: str, metric: str, period: Period) -> bool:
    return metric in period_metrics(source, period)


class RankingError(QueryError):
    """A ranking request that cannot be answered; `reason` is a code the pages translate."""

    def __init__(self, param: str, reason: str, message: str, period: str | None = None) -> None:
        super().__init__(param, message)
        self.reason = reason
        self.period = period


def unsupported(source: str, metric: str, period: Period, index: PeriodIndex) -> tuple[str, str] | None:
    """(reason code, message) when the combination has no ranking; None when it has one."""
    key = period.key
    if supports(source, metric, period):
        if source == "reported" and period.kind == "quarter" and key not in index.reported:
            return "no_reports", f"no agency reported figures for {key}; try source=verified"
        return None
    if source == "verified" and period.kind == "year":
        return "not_observed", (f"the portal did not observe {key}: verified figures exist for quarters and "
                                f"period=current; use source=reported for the {key} report")
    if source == "verified" and metric in INDEX_COLUMNS:
        return "index_not_observed", (f"{metric} is an index of the official reports, not observed by the "
                                      "portal; use source=reported")
    if source == "reported" and metric in ("availability", "working_share"):
        return "not_reported", f"{metric} is observed by the portal, not reported; use source=verified"
    if metric == "working_share":
        return "now_only", "the share of services working is observed now only; use period=current"
    if metric == "online_rate" and period.kind == "year":
        return "no_rate_in_report", f"the {key} report publishes no online rate; use a quarter or period=current"
    return "annual_only", f"{metric} is published in the annual reports only; use a report year or period=current"


def answers(index: PeriodIndex, metric: str, kind: str, source: str, period: Period) -> bool:
    """Whether `choose` answers this combination (reported + current needs a report to sum into today's agencies)."""
    if unsupported(source, metric, period, index) is not None:
        return False
    return not (source == "reported" and period.kind == CURRENT and latest_reported(index, metric, kind) is None)


def alternatives(index: PeriodIndex, metric: str, kind: str = DEFAULT_KIND) -> list[tuple[str, str]]:
    """(source, period) pairs that have a ranking of the metric for the kind, newest period first."""
    return [
        (source, period.key)
        for period in reversed(index.periods)
        for source in SOURCES
        if answers(index, metric, kind, source, period)
    ]


# ---------------------------------------------------------------- choosing a ranking


@dataclass(frozen=True)
class Selection:
    """A validated ranking request; `basis` is the report period shown for reported/current."""

    metric: str
    kind: str
    source: str
    period: Period
    basis: Period | None = None

    def params(self) -> dict[str, str]:
        return {"metric": self.metric, "kind": self.kind, "source": self.source, "period": self.period.key}


def latest_reported(index: PeriodIndex, metric: str, kind: str) -> Period | None:
    """The newest report period with the metric, preferring one with figures of agencies of the kind."""
    candidates = [
        p for p in index.periods
        if p.kind != CURRENT and p.key in index.reported and supports("reported", metric, p)
    ]
    of_kind = [p for p in candidates if kind in index.reported[p.key]]
    chosen = of_kind or candidates
    return chosen[-1] if chosen else None


def choose(
    session: Session,
    *,
    metric: str | None,
    kind: str | None = None,
    source: str | None = None,
    period: str | None = None,
    today: date | None = None,
    index: PeriodIndex | None = None,
) -> Selection:
    """Validate and complete a request; RankingError (a QueryError naming the parameter) when it has no ranking.

    Defaults: kind `ministry`; source `verified` for what the portal observes, `reported` for the report
    indices (or whichever has figures for the given period); period: the latest report period for
    `reported`, `current` for `verified`.
    """
    metric = (metric or DEFAULT_METRIC).strip()
    if metric not in METRICS:
        raise RankingError("metric", "unknown_metric", f"unknown metric {metric[:40]!r}; expected one of "
                           f"{', '.join(METRICS)}")
    kind = (kind or "").strip() or DEFAULT_KIND
    if kind not in AGENCY_KINDS:
        raise RankingError("kind", "bad_kind", f"'kind' must be one of {', '.join(AGENCY_KINDS)}")
    source = (source or "").strip() or None
    if source is not None and source not in SOURCES:
        raise RankingError("source", "bad_source", f"'source' must be one of {', '.join(SOURCES)}")
    index = index or period_index(session, today)
    key = (period or "").strip() or None
    chosen: Period | None = None
    if key is not None:
        chosen = index.get(key)
        if chosen is None:
            raise RankingError("period", "unknown_period",
                               f"no figures for period {key[:40]!r}; periods: {', '.join(index.keys())}")
    if source is None:
        if chosen is not None:
            usable = [s for s in ("verified", "reported") if not unsupported(s, metric, chosen, index)]
            source = usable[0] if usable else ("reported" if chosen.kind == "year" else "verified")
        else:
            source = "verified" if metric in SUPPORTED[("verified", CURRENT)] else "reported"
    if chosen is None:
        if source == "verified":
            chosen = index.periods[-1]
        else:
            latest = latest_reported(index, metric, kind)
            if latest is None:
                reason, message = unsupported("reported", metric, index.periods[-1], index) or (
                    "no_reported_figures", f"no reported figures for {metric} yet; try source=verified")
                raise RankingError("source", reason, message)
            chosen = latest
    problem = unsupported(source, metric, chosen, index)
    if problem:
        raise RankingError("source" if key is None else "period", *problem, period=chosen.key)
    basis = None
    if source == "reported" and chosen.kind == CURRENT:
        basis = latest_reported(index, metric, kind)
        if basis is None:
            raise RankingError("period", "no_reported_figures",
                               f"no reported figures for {metric} yet; try source=verified")
    return Selection(metric, kind, source, chosen, basis)


def counterpart(selection: Selection, index: PeriodIndex) -> Selection | None:
    """The same ranking from the other source, when that source has it for the same period."""
    other = "verified" if selection.source == "reported" else "reported"
    if unsupported(other, selection.metric, selection.period, index) is not None:
        return None
    basis = None
    if other == "reported" and selection.period.kind == CURRENT:
        basis = latest_reported(index, selection.metric, selection.kind)
        if basis is None:
            return None
    return Selection(selection.metric, selection.kind, other, selection.period, basis)

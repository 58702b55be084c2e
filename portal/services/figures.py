"""Application figures: stat sources and their crawl, held figures, quarterly reports, reported vs crawled.

Two kinds of figure are kept apart: `reported` (an agency's quarterly report, mirrored as an
ApplicationStat with provenance "reported") and `crawled` (snapshots of the agency's statistics page).
The side-by-side view puts them next to each other and flags a disagreement; it never merges them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.crawlers import plausibility
from portal.crawlers.checker import CheckerConfig, FetchResult, fetch
from portal.crawlers.probe import ProbeResult, read_page
from portal.crawlers.stats import FIGURES, find_period, validate_rule
from portal.models import (
    Agency,
    ApplicationStat,
    Service,
    StatSource,
    User,
)
from portal.services import agencies as agency_service
from portal.services import audit, periods

SOURCE_AUDIT_FIELDS = ("agency_id", "service_id", "label", "url", "rule", "period", "is_enabled")
STAT_AUDIT_FIELDS = ("status", *FIGURES, "problems", "period", "source_id")


class FiguresError(Exception):
    """A change the rules refuse; `errors` maps a field (or "") to a message."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


def online_share(part: int | float | None, whole: int | float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 2)


# ---------------------------------------------------------------- stat sources


def build_rule(extractor: str, specs: Mapping[str, str | None]) -> dict[str, Any]:
    """A stat-source rule from a form: the extractor and the non-empty figure specs."""
    figures = {name: spec.strip() for name in FIGURES if (spec := specs.get(name)) and spec.strip()}
    return {"extractor": extractor, "figures": figures} if figures else {"extractor": extractor}


def source_errors(session: Session, *, agency: Agency | None, service_id: int | None, url: str,
                  rule: Any, period: str | None = None) -> dict[str, str]:
    """What is wrong with a stat source before it is saved (empty when it may be saved)."""
    errors: dict[str, str] = {}
    if period and period.strip() and (len(period.strip()) > 40 or find_period(period) is None):
        errors["period"] = "Không nhận ra kỳ số liệu; ví dụ: Lũy kế, Tháng 10, Quý 3/2024, Năm 2024."
    if agency is None:
        errors["agency"] = "Không tìm thấy cơ quan."
    if not re.match(r"^https?://[^\s/]+", url or "", re.IGNORECASE):
        errors["url"] = "Địa chỉ phải bắt đầu bằng http:// hoặc https://."
    if service_id is not None:
        service = session.get(Service, service_id)
        if service is None:
            errors["service_id"] = "Không tìm thấy dịch vụ."
        elif agency is not None and service.agency_id not in agency_service.subunit_ids(session, agency):
            errors["service_id"] = "Dịch vụ không thuộc cơ quan đã chọn."
    rule_errors = validate_rule(rule)
    if rule_errors:
        errors["rule"] = "; ".join(rule_errors)
    return errors


def save_source(
    session: Session,
    source: StatSource | None,
    *,
    agency: Agency | None,
    url: str,
    rule: dict[str, Any],
    service_id: int | None = None,
    label: str | None = None,
    period: str | None = None,
    user: User | None = None,
    ip: str | None = None,
) -> StatSource:
    """Create (source None) or update a stat source, audited; FiguresError when invalid.

    `period` names the period to read on a page showing several ("Lũy kế", "Tháng 10"); empty: none.
    """
    url = (url or "").strip()
    errors = source_errors(session, agency=agency, service_id=service_id, url=url, rule=rule, period=period)
    if errors:
        raise FiguresError("invalid stat source", errors)
    assert agency is not None  # noqa: S101 - checked by source_errors
    before = audit.snapshot(source, SOURCE_AUDIT_FIELDS) if source is not None else None
    if source is None:
        source = StatSource(is_enabled=True)
        session.add(source)
    source.agency_id, source.service_id = agency.id, service_id
    source.url, source.rule, source.label = url, rule, (label or "").strip() or None
    source.period = (period or "").strip() or None
    session.flush()
    audit.record(
        session, action="stat_source.create" if before is None else "stat_source.update",
        entity_type="stat_source", entity_id=source.id, user=user, agency_id=agency.id,
        before=before, after=audit.snapshot(source, SOURCE_AUDIT_FIELDS), ip=ip,
    )
    session.commit()
    return source


def set_source_enabled(session: Session, source: StatSource, enabled: bool, *, user: User | None = None,
                       ip: str | None = None) -> None:
    before = audit.snapshot(source, SOURCE_AUDIT_FIELDS)
    source.is_enabled = enabled
    audit.record(
        session, action="stat_source.enable" if enabled else "stat_source.disable", entity_type="stat_source",
        entity_id=source.id, user=user, agency_id=source.agency_id, before=before,
        after=audit.snapshot(source, SOURCE_AUDIT_FIELDS), ip=ip,
    )
    session.commit()


def list_sources(session: Session, agency_ids: Iterable[int] | None = None) -> list[StatSource]:
    """Stat sources, enabled first; only those of the given agencies when agency_ids is not None."""
    stmt = select(StatSource).join(Agency, StatSource.agency_id == Agency.id).order_by(
        StatSource.is_enabled.desc(), Agency.name_folded, StatSource.id
    )
    if agency_ids is not None:
        stmt = stmt.where(StatSource.agency_id.in_(list(agency_ids)))
    return list(session.execute(stmt).scalars())


# ---------------------------------------------------------------- crawl


def checker_config(settings: Mapping[str, Any]) -> CheckerConfig:
    """Checker settings from the application's PORTAL_CHECK_*, PORTAL_ALLOW_PRIVATE_ADDRESSES and
    PORTAL_CONTACT_URL settings (read and validated in config.py)."""
    return CheckerConfig.from_env(settings)


@dataclass
class CrawlSummary:
    sources: int = 0
    published: int = 0
    held: int = 0
    empty: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("sources", "published", "held", "empty", "failed")}


def last_published(session: Session, source_id: int) -> ApplicationStat | None:
    """The newest published crawled snapshot of a source: what a new one is compared with."""
    stmt = (
        select(ApplicationStat)
        .where(ApplicationStat.source_id == source_id, ApplicationStat.provenance == "crawled",
               ApplicationStat.status == "published")
        .order_by(ApplicationStat.observed_at.desc(), ApplicationStat.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def _stat_figures(stat: ApplicationStat | None) -> dict[str, int | float | None] | None:
    return None if stat is None else {name: getattr(stat, name) for name in FIGURES}


def record_snapshot(session: Session, source: StatSource, result: ProbeResult, now: datetime) -> ApplicationStat:
    """Store one crawled snapshot; held for review when plausibility checks find a problem."""
    figures = result.figures
    previous = last_published(session, source.id)
    problems = plausibility.check(figures, _stat_figures(previous))
    period = periods.quarter_of(now)
    start, end = periods.bounds(period)
    stat = ApplicationStat(
        agency_id=source.agency_id, service_id=source.service_id, source_id=source.id,
        period=period, period_start=start, period_end=end, provenance="crawled",
        number_format=result.extraction.number_format if result.extraction else None,
        status="held" if problems else "published",
        problems=[f"{p.code}: {p.message}" for p in problems] or None,
        source_url=(result.fetched.final_url if result.fetched else None) or source.url,
        evidence=result.evidence if result.found_any else None,
        observed_at=now, **figures,
    )
    session.add(stat)
    return stat


def _sources_to_crawl(session: Session, agency: Agency | str | None) -> list[StatSource]:
    stmt = select(StatSource).where(StatSource.is_enabled.is_(True)).order_by(StatSource.id)
    if agency is not None:
        if isinstance(agency, str):
            found = agency_service.get_by_code(session, agency)
            if found is None:
                raise LookupError(f"no agency with code {agency!r}")
            agency = found
        stmt = stmt.where(StatSource.agency_id.in_(agency_service.subunit_ids(session, agency)))
    return list(session.execute(stmt).scalars())


def run_stats_crawl(
    session: Session,
    *,
    agency: Agency | str | None = None,
    config: CheckerConfig | None = None,
    now: datetime | None = None,
    cancel: threading.Event | None = None,
) -> CrawlSummary:
    """One pass over the enabled stat sources (of one agency and its sub-units when given).

    The pages are fetched by the checks' engine (portal.crawlers.dispatch.fetch_pages): per-host queues and
    limits, Retry-After waits, a host's remaining pages inferred after its host-wide failures. Each page's
    figures are extracted with its source's rule, checked against the last published snapshot of the same
    source, and stored: published when plausible, held for review otherwise. A page without any figure, or one
    that cannot be fetched, stores no snapshot; the source's last_status says why. One failing source never
    stops the pass; each source is committed on its own, and the summary lists them in id order. Once `cancel`
    is set the pages not yet fetched are left for the next pass.
    """
    from portal.crawlers.dispatch import fetch_pages

    summary = CrawlSummary()
    config = config or CheckerConfig()
    by_url: dict[str, list[StatSource]] = {}
    for source in _sources_to_crawl(session, agency):
        by_url.setdefault(source.url, []).append(source)
    lines: dict[int, str] = {}
    for fetched in fetch_pages(list(by_url), config, cancel=cancel):
        for source in by_url.pop(fetched.url, []):
            lines[source.id] = _read_page(session, source, lambda page=fetched: page, now, summary)[0]
    summary.lines = [lines[source_id] for source_id in sorted(lines)]
    return summary


def read_source(session: Session, source: StatSource, config: CheckerConfig, *, now: datetime | None = None,
                summary: CrawlSummary | None = None) -> ApplicationStat | None:
    """Read one stat source now: its snapshot is stored (published or held) and last_status/last_message
    say how it went; committed. Returns the snapshot, or None when the page gave no figure or failed."""
    summary = summary if summary is not None else CrawlSummary()
    line, stat = _read_page(session, source, lambda: fetch(source.url, config), now, summary)
    summary.lines.append(line)
    return stat


def _read_page(session: Session, source: StatSource, page: Callable[[], FetchResult], now: datetime | None,
               summary: CrawlSummary) -> tuple[str, ApplicationStat | None]:
    """Extract, check and store a source's page (`page` fetches it, or hands over one fetched already);
    committed. Returns the summary's line and the snapshot stored, if any."""
    summary.sources += 1
    moment = now or datetime.now(UTC)
    stat = None
    try:
        result: ProbeResult | None = read_page(page(), source.rule or None, source.period)
    except Exception as exc:  # noqa: BLE001 - one bad source (e.g. a rule edited by hand) never stops a pass
        result, error = None, f"{type(exc).__name__}: {exc}"
    else:
        error = None if result.ok else result.to_dict()["warnings"][0]
    source.last_run_at = moment
    if result is None or not result.ok:
        summary.failed += 1
        source.last_status = "failed" if result is None else (result.error or {}).get("reason", "failed")
        source.last_message = error
        line = f"failed     #{source.id} {source.url}: {error}"
    elif not result.found_any:
        summary.empty += 1
        source.last_status = "no_figures"
        source.last_message = "; ".join(result.extraction.warnings) if result.extraction else None
        line = f"no figures #{source.id} {source.url}"
    else:
        stat = record_snapshot(session, source, result, moment)
        source.last_status = stat.status
        source.last_message = "; ".join([*(stat.problems or []), *result.extraction.warnings]) or None
        if stat.status == "held":
            summary.held += 1
        else:
            summary.published += 1
        line = f"{stat.status:<10} #{source.id} {source.url}"
    session.commit()
    return line, stat


# ---------------------------------------------------------------- review of held figures


def held_stats(session: Session) -> list[ApplicationStat]:
    stmt = (
        select(ApplicationStat)
        .where(ApplicationStat.status == "held")
        .order_by(ApplicationStat.observed_at.desc(), ApplicationStat.id.desc())
    )
    return list(session.execute(stmt).scalars())


def review_stat(session: Session, stat: ApplicationStat, *, approve: bool, user: User | None = None,
                ip: str | None = None, now: datetime | None = None) -> None:
    """Publish (approve) or reject a held figure, audited; FiguresError if it is not held."""
    if stat.status != "held":
        raise FiguresError("only a held figure can be reviewed", {"": "Số liệu này không ở trạng thái chờ duyệt."})
    before = audit.snapshot(stat, STAT_AUDIT_FIELDS)
    stat.status = "published" if approve else "rejected"
    stat.reviewed_at = now or datetime.now(UTC)
    stat.reviewed_by_id = user.id if user is not None else None
    audit.record(
        session, action="figure.approve" if approve else "figure.reject", entity_type="application_stat",
        entity_id=stat.id, user=user, agency_id=stat.agency_id, before=before,
        after=audit.snapshot(stat, STAT_AUDIT_FIELDS), ip=ip,
    )
    session.commit()

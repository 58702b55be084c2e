"""Application figures: stat sources and their crawl, held figures, quarterly reports, reported vs crawled.

Two kinds of figure are kept apart: `reported` (an agency's quarterly report, mirrored as an
ApplicationStat with provenance "reported") and `crawled` (snapshots of the agency's statistics page).
The side-by-side view puts them next to each other and flags a disagreement; it never merges them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.crawlers import plausibility
from portal.crawlers.checker import CheckerConfig
from portal.crawlers.probe import ProbeResult, probe
from portal.crawlers.stats import FIGURES, find_period, validate_rule
from portal.models import (
    AGENCY_KINDS,
    Agency,
    ApplicationStat,
    QuarterLock,
    QuarterlyReport,
    Service,
    StatSource,
    User,
)
from portal.services import agencies as agency_service
from portal.services import audit, periods
from portal.services.exports import neutralise

VIETNAM = periods.VIETNAM
TARGETS = {3: 40.0, 4: 30.0}  # % of applications handled online (Government's 2018 targets)
COMPARED = ("received_total", "received_online", "online_rate")

REPORT_FIELDS = (
    "services_l3",
    "services_l4",
    "new_services_l3",
    "new_services_l4",
    "received_l3",
    "received_l4",
    "online_l3",
    "online_l4",
)
SOURCE_AUDIT_FIELDS = ("agency_id", "service_id", "label", "url", "rule", "period", "is_enabled")
STAT_AUDIT_FIELDS = ("status", *FIGURES, "problems", "period", "source_id")
REPORT_AUDIT_FIELDS = (*REPORT_FIELDS, "note", "period", "agency_id")
_KIND_NAMES = {
    "ministry": "Bộ, cơ quan ngang bộ",
    "government_agency": "Cơ quan thuộc Chính phủ",
    "province": "Tỉnh, thành phố",
}


class FiguresError(Exception):
    """A change the rules refuse; `errors` maps a field (or "") to a message."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


class QuarterLocked(FiguresError):
    """The quarter is locked: its reports can no longer be changed."""


# ---------------------------------------------------------------- periods (portal.services.periods)

parse_period = periods.parse_quarter
is_period = periods.is_quarter
period_bounds = periods.bounds
period_of = periods.quarter_of
period_label = periods.label
recent_periods = periods.recent_quarters


def _rate(part: int | float | None, whole: int | float | None) -> float | None:
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
    period = period_of(now)
    start, end = period_bounds(period)
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
) -> CrawlSummary:
    """One pass over the enabled stat sources (of one agency and its sub-units when given).

    Each source is fetched through the guarded checker, its figures extracted with its rule, checked
    against the last published snapshot of the same source, and stored: published when plausible,
    held for review otherwise. A page without any figure, or one that cannot be fetched, stores no
    snapshot; the source's last_status says why. One failing source never stops the pass; each
    source is committed on its own.
    """
    summary = CrawlSummary()
    config = config or CheckerConfig()
    for source in _sources_to_crawl(session, agency):
        read_source(session, source, config, now=now, summary=summary)
    return summary


def read_source(session: Session, source: StatSource, config: CheckerConfig, *, now: datetime | None = None,
                summary: CrawlSummary | None = None) -> ApplicationStat | None:
    """Read one stat source now: its snapshot is stored (published or held) and last_status/last_message
    say how it went; committed. Returns the snapshot, or None when the page gave no figure or failed."""
    summary = summary if summary is not None else CrawlSummary()
    summary.sources += 1
    moment = now or datetime.now(UTC)
    stat = None
    try:
        result = probe(source.url, source.rule or None, config, source.period)
    except Exception as exc:  # noqa: BLE001 - one bad source (e.g. a rule edited by hand) never stops a pass
        result, error = None, f"{type(exc).__name__}: {exc}"
    else:
        error = None if result.ok else result.to_dict()["warnings"][0]
    source.last_run_at = moment
    if result is None or not result.ok:
        summary.failed += 1
        source.last_status = "failed" if result is None else (result.error or {}).get("reason", "failed")
        source.last_message = error
        summary.lines.append(f"failed     #{source.id} {source.url}: {error}")
    elif not result.found_any:
        summary.empty += 1
        source.last_status = "no_figures"
        source.last_message = "; ".join(result.extraction.warnings) if result.extraction else None
        summary.lines.append(f"no figures #{source.id} {source.url}")
    else:
        stat = record_snapshot(session, source, result, moment)
        source.last_status = stat.status
        source.last_message = "; ".join([*(stat.problems or []), *result.extraction.warnings]) or None
        if stat.status == "held":
            summary.held += 1
        else:
            summary.published += 1
        summary.lines.append(f"{stat.status:<10} #{source.id} {source.url}")
    session.commit()
    return stat


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


# ---------------------------------------------------------------- quarterly reports


def report_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Errors of a report's figures: whole numbers ≥ 0, online ≤ received, new ≤ total, per level."""
    errors: dict[str, str] = {}
    for name in REPORT_FIELDS:
        value = values.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            errors[name] = "Nhập một số nguyên."
        elif value < 0:
            errors[name] = "Số liệu không được âm."
    for level in (3, 4):
        online, received = values.get(f"online_l{level}"), values.get(f"received_l{level}")
        new, total = values.get(f"new_services_l{level}"), values.get(f"services_l{level}")
        if f"online_l{level}" not in errors and f"received_l{level}" not in errors and online > received:
            errors[f"online_l{level}"] = (
                f"Số hồ sơ trực tuyến mức {level} không được lớn hơn tổng số hồ sơ tiếp nhận mức {level}."
            )
        if f"new_services_l{level}" not in errors and f"services_l{level}" not in errors and new > total:
            errors[f"new_services_l{level}"] = (
                f"Số dịch vụ mức {level} triển khai trong quý không được lớn hơn số dịch vụ mức {level} hiện có."
            )
    return errors


def report_prefill(session: Session, agency: Agency, period: str) -> dict[str, tuple[int, str]]:
    """Figures a new report can start from, field → (value, where it comes from): services registered
    for the agency and its sub-units (by level, at the quarter's end; new ones in the quarter) and the
    application counts imported for the quarter. Fields the portal knows nothing about are left out."""
    ids = agency_service.subunit_ids(session, agency)
    start, end = period_bounds(period)
    opens = datetime.combine(start, datetime.min.time(), periods.VIETNAM).astimezone(UTC)
    closes = datetime.combine(end + timedelta(days=1), datetime.min.time(), periods.VIETNAM).astimezone(UTC)
    live = (Service.agency_id.in_(ids), Service.created_at < closes,
            or_(Service.status == "active", Service.retired_at >= closes))
    found: dict[str, tuple[int, str]] = {}
    counts = dict(session.execute(select(Service.level, func.count()).where(*live).group_by(Service.level)).all())
    new = dict(session.execute(select(Service.level, func.count()).where(*live, Service.created_at >= opens)
                               .group_by(Service.level)).all())
    stmt = (select(Service.level, func.count(), func.sum(ApplicationStat.received_total),
                   func.sum(ApplicationStat.received_online))
            .join(Service, Service.id == ApplicationStat.service_id)
            .where(ApplicationStat.provenance == "imported", ApplicationStat.period == period,
                   Service.agency_id.in_(ids))
            .group_by(Service.level))
    imported = {level: (n, total, online) for level, n, total, online in session.execute(stmt)}
    for level in (3, 4):
        found[f"services_l{level}"] = (counts.get(level, 0), "registry")
        found[f"new_services_l{level}"] = (new.get(level, 0), "registry")
        if level in imported:
            n, total, online = imported[level]
            if total is not None:
                found[f"received_l{level}"] = (int(total), "imported")
            if online is not None:
                found[f"online_l{level}"] = (int(online), "imported")
    return found


def lock_of(session: Session, period: str) -> tuple[QuarterLock, User | None] | None:
    """The lock on a quarter and who set it, or None."""
    lock = session.get(QuarterLock, period)
    if lock is None:
        return None
    return lock, session.get(User, lock.locked_by_id) if lock.locked_by_id else None


def is_locked(session: Session, period: str) -> bool:
    return session.get(QuarterLock, period) is not None


def get_report(session: Session, agency: Agency, period: str) -> QuarterlyReport | None:
    stmt = select(QuarterlyReport).where(QuarterlyReport.agency_id == agency.id, QuarterlyReport.period == period)
    return session.execute(stmt).scalar_one_or_none()


def _mirror(session: Session, report: QuarterlyReport, now: datetime) -> ApplicationStat:
    """The report's totals as an ApplicationStat with provenance "reported" (one per agency and quarter)."""
    stmt = select(ApplicationStat).where(
        ApplicationStat.agency_id == report.agency_id, ApplicationStat.period == report.period,
        ApplicationStat.provenance == "reported", ApplicationStat.service_id.is_(None),
    )
    stat = session.execute(stmt).scalars().first()
    if stat is None:
        start, end = period_bounds(report.period)
        stat = ApplicationStat(agency_id=report.agency_id, period=report.period, period_start=start,
                               period_end=end, provenance="reported", status="published")
        session.add(stat)
    stat.received_total = report.received_l3 + report.received_l4
    stat.received_online = report.online_l3 + report.online_l4
    stat.online_rate = _rate(stat.received_online, stat.received_total)
    stat.observed_at = now
    return stat


def save_report(
    session: Session,
    *,
    agency: Agency,
    period: str,
    values: Mapping[str, Any],
    note: str | None = None,
    user: User | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    actor: str | None = None,
    commit: bool = True,
) -> QuarterlyReport:
    """Submit or edit an agency's report for a quarter, audited, with its reported mirror.

    QuarterLocked when an admin has locked the quarter; FiguresError when the figures are invalid.
    Who may report for which agency is the caller's check (portal.security.can_manage_agency).
    With commit=False the caller commits (an import writes many reports at once).
    """
    parse_period(period)
    if is_locked(session, period):
        raise QuarterLocked("quarter locked", {"": "Quý này đã bị khóa, không thể sửa báo cáo."})
    errors = report_errors(values)
    if errors:
        raise FiguresError("invalid report", errors)
    now = now or datetime.now(UTC)
    report = get_report(session, agency, period)
    before = audit.snapshot(report, REPORT_AUDIT_FIELDS) if report is not None else None
    if report is None:
        report = QuarterlyReport(agency_id=agency.id, period=period)
        session.add(report)
    for name in REPORT_FIELDS:
        setattr(report, name, values[name])
    report.note = (note or "").strip() or None
    report.submitted_by_id = user.id if user is not None else None
    report.submitted_at = now
    _mirror(session, report, now)
    session.flush()
    audit.record(
        session, action="report.submit" if before is None else "report.update", entity_type="quarterly_report",
        entity_id=report.id, user=user, actor=actor, agency_id=agency.id, before=before,
        after=audit.snapshot(report, REPORT_AUDIT_FIELDS), ip=ip,
    )
    if commit:
        session.commit()
    return report


def set_locked(session: Session, period: str, locked: bool, *, user: User | None = None,
               ip: str | None = None) -> bool:
    """Lock or unlock a quarter, audited; False when it already was in that state."""
    parse_period(period)
    lock = session.get(QuarterLock, period)
    if (lock is not None) == locked:
        return False
    if locked:
        session.add(QuarterLock(period=period, locked_by_id=user.id if user is not None else None))
    else:
        session.delete(lock)
    reports = session.execute(select(QuarterlyReport).where(QuarterlyReport.period == period)).scalars()
    for report in reports:
        report.is_locked = locked
    audit.record(
        session, action="quarter.lock" if locked else "quarter.unlock", entity_type="quarter",
        entity_id=period, user=user, before={"locked": not locked}, after={"locked": locked}, ip=ip,
    )
    session.commit()
    return True


def reports_for_period(session: Session, period: str,
                       agency_ids: Iterable[int] | None = None) -> dict[int, QuarterlyReport]:
    """Reports of a quarter by agency id (only the given agencies when agency_ids is not None)."""
    stmt = select(QuarterlyReport).where(QuarterlyReport.period == period)
    if agency_ids is not None:
        stmt = stmt.where(QuarterlyReport.agency_id.in_(list(agency_ids)))
    return {r.agency_id: r for r in session.execute(stmt).scalars()}


def reportable_agencies(session: Session, agency_ids: list[int] | None) -> list[Agency]:
    """Agencies a user may report for: every current top-level agency (admin), or the officer's scope."""
    if agency_ids is None:
        return agency_service.directory(session)
    agencies = session.execute(select(Agency).where(Agency.id.in_(agency_ids))).scalars().all()
    return sorted(agencies, key=lambda a: (a.parent_id is not None, AGENCY_KINDS.index(a.kind), a.name_folded))


EXPORT_TOP_HEADER = (
    "STT",
    "Cơ quan",
    "Loại cơ quan",
    "Số lượng DVCTT mức 3, 4 hiện tại",
    None,
    "Số lượng DVCTT xây dựng, triển khai {quarter}",
    None,
    "Số lượng HS tiếp nhận, giải quyết trực tuyến",
    None,
    "Tổng số HS tiếp nhận (trực tuyến và trực tiếp)",
    None,
    "Ghi chú",
)
EXPORT_SUB_HEADER = (None, None, None, "Mức 3", "Mức 4", "Mức độ 3", "Mức độ 4", "Mức độ 3", "Mức độ 4",
                     "Mức độ 3", "Mức độ 4", None)
EXPORT_COLUMNS = ("services_l3", "services_l4", "new_services_l3", "new_services_l4", "online_l3", "online_l4",
                  "received_l3", "received_l4")


def export_rows(session: Session, period: str) -> list[list[Any]]:
    """One row per current top-level agency (and any other agency that reported), template column order."""
    reports = reports_for_period(session, period)
    agencies = agency_service.directory(session)
    listed = {a.id for a in agencies}
    extra = [r.agency for r in reports.values() if r.agency_id not in listed]
    rows = []
    for number, agency in enumerate([*agencies, *sorted(extra, key=lambda a: a.name_folded)], start=1):
        report = reports.get(agency.id)
        cells = [getattr(report, name) for name in EXPORT_COLUMNS] if report else [None] * len(EXPORT_COLUMNS)
        note = (report.note or "") if report else "Chưa báo cáo"
        rows.append([number, agency.name, _KIND_NAMES.get(agency.kind, agency.kind), *cells, note])
    return rows


def export_xlsx(session: Session, period: str) -> bytes:
    """All agencies' reports of a quarter as XLSX in the Government Office table layout.

    Row 1 is a title, rows 2–3 the two-level header (merged like the template), data from row 4.
    Text cells go through exports.neutralise, so nothing an officer typed is read as a formula.
    """
    label = period_label(period)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = period
    title = f"Kết quả triển khai dịch vụ công trực tuyến {label}"
    sheet.append([title])
    sheet.append([h.format(quarter=label) if h else None for h in EXPORT_TOP_HEADER])
    sheet.append(list(EXPORT_SUB_HEADER))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(EXPORT_TOP_HEADER))
    for column in (1, 2, 3, 12):
        sheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
    for column in (4, 6, 8, 10):
        sheet.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + 1)
    for row in sheet.iter_rows(min_row=1, max_row=3):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in export_rows(session, period):
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for letter, width in zip("ABCDEFGHIJKL", (6, 40, 24, 11, 11, 11, 11, 14, 14, 14, 14, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C4"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- side by side


def _difference(reported: float | int | None, crawled: float | int | None) -> float | None:
    """Relative difference |r − c| / max(|r|, |c|): 0 when equal, 1 when one of them is 0."""
    if reported is None or crawled is None:
        return None
    largest = max(abs(reported), abs(crawled))
    return 0.0 if largest == 0 else round(abs(reported - crawled) / largest, 4)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _reported_json(stat: ApplicationStat, report: QuarterlyReport | None) -> dict[str, Any]:
    levels = []
    if report is not None:
        for level in (3, 4):
            received, online = getattr(report, f"received_l{level}"), getattr(report, f"online_l{level}")
            rate = _rate(online, received)
            levels.append({
                "level": level,
                "services": getattr(report, f"services_l{level}"),
                "new_services": getattr(report, f"new_services_l{level}"),
                "received": received,
                "online": online,
                "online_rate": rate,
                "target": TARGETS[level],
                "meets_target": None if rate is None else rate >= TARGETS[level],
            })
    return {
        "received_total": stat.received_total,
        "received_online": stat.received_online,
        "online_rate": stat.online_rate,
        "levels": levels,
        "submitted_at": report.submitted_at if report else stat.observed_at,
        "locked": bool(report and report.is_locked),
    }


def _crawled_json(stat: ApplicationStat) -> dict[str, Any]:
    rate = stat.online_rate if stat.online_rate is not None else _rate(stat.received_online, stat.received_total)
    return {
        "received_total": stat.received_total,
        "received_online": stat.received_online,
        "resolved": stat.resolved,
        "resolved_on_time": stat.resolved_on_time,
        "online_rate": rate,
        "number_format": stat.number_format,
        "observed_at": stat.observed_at,
        "source_url": stat.source_url,
        "evidence": stat.evidence,
    }


def side_by_side(session: Session, agency: Agency, *, margin: float = 0.2) -> list[dict[str, Any]]:
    """Per quarter, newest first: the reported figures and the crawled ones next to each other.

    Times are datetimes here (for templates); agency_figures_json turns them into ISO strings.

    Reported: the agency's quarterly report (provenance "reported"), with each level's online rate
    against its target. Crawled: the newest published snapshot of the agency's own statistics pages
    (sources not tied to one service) observed during the quarter. `differences` holds the relative
    difference of each figure both sides have; `disagreement` is true when one exceeds `margin`.
    """
    stmt = select(ApplicationStat).where(
        ApplicationStat.agency_id == agency.id, ApplicationStat.service_id.is_(None),
        ApplicationStat.status == "published", ApplicationStat.provenance.in_(("reported", "crawled")),
    ).order_by(ApplicationStat.observed_at, ApplicationStat.id)
    reported: dict[str, ApplicationStat] = {}
    crawled: dict[str, ApplicationStat] = {}
    for stat in session.execute(stmt).scalars():
        if is_period(stat.period):
            (reported if stat.provenance == "reported" else crawled)[stat.period] = stat
    reports = {
        r.period: r
        for r in session.execute(select(QuarterlyReport).where(QuarterlyReport.agency_id == agency.id)).scalars()
    }
    rows = []
    for period in sorted(set(reported) | set(crawled), reverse=True):
        mine = _reported_json(reported[period], reports.get(period)) if period in reported else None
        seen = _crawled_json(crawled[period]) if period in crawled else None
        differences = {
            name: _difference(mine[name], seen[name]) if mine and seen else None for name in COMPARED
        }
        rows.append({
            "period": period,
            "reported": mine,
            "crawled": seen,
            "differences": differences,
            "disagreement": any(d is not None and d > margin for d in differences.values()),
        })
    return rows


def agency_figures_json(session: Session, agency: Agency, *, margin: float = 0.2) -> dict[str, Any]:
    """The body of GET /api/v1/agencies/<code>/figures."""
    return {
        "agency": {"code": agency.code, "name": agency.name},
        "margin": margin,
        "targets": {"level_3": TARGETS[3], "level_4": TARGETS[4]},
        "periods": _jsonable(side_by_side(session, agency, margin=margin)),
    }

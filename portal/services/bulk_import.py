"""Bulk imports written to the database: agencies' service lists and official report figures.

portal.services.importing reads and validates a file; this module matches its rows with what is
registered (a service on agency + address, else agency + procedure code), plans the changes — a dry
run stops there — and applies them in one transaction: every row or none. Importing the same file
again changes nothing. Columns missing from a file leave the matching values alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from portal.models import Agency, ApplicationStat, Procedure, Service, User, utcnow
from portal.services import audit, importing, periods, registry
from portal.services.addresses import url_key
from portal.services.importing import ROW_KEY, RowError, ServiceRow

COUNT_FIELDS = {"online_applications": "received_online", "total_applications": "received_total"}
ACTIONS = ("add", "update", "unchanged")
IMPORT_ATTEMPTS = 3
CONFLICT_MESSAGE = ("Một lần nhập khác đang ghi cùng các địa chỉ này; không có gì được ghi. "
                    "Hãy thử lại sau ít phút.")


@dataclass
class PlannedRow:
    """What importing one row does: add, update (with the changes, field → (before, after)) or nothing."""

    row: int
    action: str
    agency_code: str
    label: str
    entity_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    retired: bool = False


@dataclass
class ImportOutcome:
    kind: str
    filename: str
    sha256: str = ""
    period: str | None = None
    dry_run: bool = True
    errors: list[RowError] = field(default_factory=list)
    planned: list[PlannedRow] = field(default_factory=list)
    counts_ignored: int = 0
    written: bool = False
    skipped: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for p in self.planned if p.action == action)

    def summary(self) -> dict[str, int]:
        return {"added": self.count("add"), "updated": self.count("update"), "unchanged": self.count("unchanged")}


def _sorted_errors(errors: Iterable[RowError]) -> list[RowError]:
    return sorted(errors, key=lambda e: e.row)


def canonical_period(period: str | None, outcome: ImportOutcome) -> str | None:
    """The period's canonical key ("Quý III/2017" → "2017-Q3"); a file error when it is not a period."""
    if period is None or not period.strip():
        return None
    try:
        outcome.period = periods.normalize(period)
    except ValueError:
        outcome.errors.append(RowError(0, "period", f"Kỳ “{period}” phải có dạng {periods.EXAMPLES}."))
        return None
    return outcome.period


def _record_rejection(session: Session, outcome: ImportOutcome, *, user: User | None, actor: str | None,
                      ip: str | None, agency_id: int | None) -> None:
    note = "; ".join(importing.iter_errors_text(outcome.errors[:5]))
    audit.record(session, action="import.rejected", entity_type="import", entity_id=outcome.filename[:80],
                 user=user, actor=actor, agency_id=agency_id, before=None,
                 after={"kind": outcome.kind, "file": outcome.filename, "sha256": outcome.sha256,
                        "errors": len(outcome.errors)}, ip=ip, note=note)
    session.commit()


def finish_import(session: Session, outcome: ImportOutcome, write: Callable[[], None], *, dry_run: bool,
            user: User | None, actor: str | None, ip: str | None, agency_id: int | None) -> ImportOutcome:
    """All or nothing: a file with any error is rejected (and that is audited); a dry run writes nothing;
    otherwise `write` adds every change and the whole file is committed at once."""
    outcome.errors = _sorted_errors(outcome.errors)
    if not outcome.ok:
        outcome.planned = []
        if not dry_run:
            _record_rejection(session, outcome, user=user, actor=actor, ip=ip, agency_id=agency_id)
        return outcome
    if dry_run:
        session.rollback()
        return outcome
    try:
        write()
        session.commit()
    except Exception:
        session.rollback()
        raise
    outcome.written = True
    return outcome


def read_rows(data: bytes, filename: str, outcome: ImportOutcome) -> list[importing.Row] | None:
    try:
        table = importing.read_table(data, filename)
    except importing.ImportFileError as exc:
        outcome.errors.append(RowError(0, "", str(exc)))
        return None
    outcome.skipped = table.skipped
    return table


# ---------------------------------------------------------------- services


@dataclass
class _Work:
    plan: PlannedRow
    values: registry.ServiceValues
    service: Service | None
    counts: dict[str, int | None] | None
    stat: ApplicationStat | None = None


def _values_for(row: ServiceRow, agency: Agency, service: Service | None, present: set[str]) -> registry.ServiceValues:
    def pick(name: str, value: Any, current: Any) -> Any:
        return value if service is None or name in present else current

    return registry.ServiceValues.clean(
        agency, name=row.name, level=row.level, url=row.url,
        procedure_code=pick("procedure_code", row.procedure_code,
                            service.procedure.code if service is not None and service.procedure else None),
        field=pick("field", row.field, service.field if service else None),
        legal_basis=pick("legal_basis", row.legal_basis, service.legal_basis if service else None),
    )


def _service_changes(service: Service, values: registry.ServiceValues) -> dict[str, tuple[Any, Any]]:
    current = {
        "name": service.name, "level": service.level, "url": service.url, "field": service.field,
        "legal_basis": service.legal_basis,
        "procedure_code": service.procedure.code if service.procedure is not None else None,
    }
    return {name: (old, getattr(values, name)) for name, old in current.items() if old != getattr(values, name)}


def _new_values(values: registry.ServiceValues) -> dict[str, tuple[Any, Any]]:
    """What a new service will hold, as changes from nothing (the preview shows them)."""
    names = ("name", "level", "url", "procedure_code", "field", "legal_basis")
    return {name: (None, getattr(values, name)) for name in names if getattr(values, name) is not None}


class _AgencyIndex:
    """An agency's registered services by address key and by procedure code."""

    def __init__(self, session: Session, agency: Agency) -> None:
        services = session.execute(
            select(Service).where(Service.agency_id == agency.id).options(selectinload(Service.procedure))
        ).scalars().all()
        self.by_url = {s.url_key: s for s in services}
        self.by_code: dict[str, list[Service]] = {}
        for service in services:
            if service.procedure is not None:
                self.by_code.setdefault(service.procedure.code, []).append(service)

    def match(self, row: ServiceRow) -> Service | None:
        service = self.by_url.get(url_key(row.url))
        if service is None and row.procedure_code:
            candidates = self.by_code.get(row.procedure_code, [])
            service = candidates[0] if len(candidates) == 1 else None
        return service


def _plan_services(session: Session, rows: list[ServiceRow], present: set[str], agencies: dict[str, Agency],
                   *, scope: list[int] | None, allow_private: bool, period: str | None,
                   outcome: ImportOutcome) -> list[_Work]:
    indexes: dict[int, _AgencyIndex] = {}
    claimed: dict[int, int] = {}
    work: list[_Work] = []
    for row in rows:
        agency = agencies[row.agency_code]
        if scope is not None and agency.id not in scope:
            outcome.errors.append(RowError(row.row, "agency", (
                f"Bạn không quản lý cơ quan “{row.agency_code}”; không thể nhập dịch vụ cho cơ quan này"
            )))
            continue
        problem = registry.url_problem(row.url, allow_private=allow_private)
        if problem:
            outcome.errors.append(RowError(row.row, "url", f"{problem.rstrip('.')}: “{row.url}”"))
            continue
        index = indexes.get(agency.id) or indexes.setdefault(agency.id, _AgencyIndex(session, agency))
        service = index.match(row)
        if service is not None:
            if service.id in claimed:
                outcome.errors.append(RowError(row.row, "url", (
                    f"Dòng {claimed[service.id]} và dòng này cùng khớp dịch vụ #{service.id} “{service.name}”"
                )))
                continue
            claimed[service.id] = row.row
        values = _values_for(row, agency, service, present)
        changes = _service_changes(service, values) if service is not None else _new_values(values)
        counts = None
        if row.online_applications is not None or row.total_applications is not None:
            if period is None:
                outcome.counts_ignored += 1
            else:
                counts = {"online_applications": row.online_applications,
                          "total_applications": row.total_applications}
        plan = PlannedRow(row=row.row, action="add" if service is None else "update", agency_code=agency.code,
                          label=values.name, entity_id=service.id if service else None, changes=changes,
                          retired=service is not None and service.status == "retired")
        work.append(_Work(plan, values, service, counts))

    if period is not None:
        matched = [w.service.id for w in work if w.service is not None and w.counts is not None]
        stats = {
            s.service_id: s for s in session.execute(select(ApplicationStat).where(
                ApplicationStat.provenance == "imported", ApplicationStat.period == period,
                ApplicationStat.service_id.in_(matched),
            )).scalars()
        } if matched else {}
        for item in work:
            if item.counts is None:
                continue
            if item.service is None:
                item.plan.changes |= {k: (None, v) for k, v in item.counts.items() if v is not None}
                continue
            item.stat = stats.get(item.service.id)
            for name, column in COUNT_FIELDS.items():
                old = getattr(item.stat, column) if item.stat is not None else None
                if old != item.counts[name]:
                    item.plan.changes[name] = (old, item.counts[name])
    for item in work:
        if item.service is not None and not item.plan.changes:
            item.plan.action = "unchanged"
    return work


def _counts_snapshot(stat: ApplicationStat | None) -> dict[str, int | None]:
    return {name: getattr(stat, column) if stat is not None else None for name, column in COUNT_FIELDS.items()}


def _apply_services(session: Session, work: list[_Work], *, period: str | None, user: User | None,
                    actor: str | None, ip: str | None, note: str, now: datetime) -> None:
    procedures: dict[str, Procedure] = {}
    pending = [w for w in work if w.plan.action != "unchanged"]
    befores: list[dict[str, Any] | None] = []
    for item in pending:
        service = item.service
        before = registry.service_snapshot(service) if service is not None else None
        if before is not None and period is not None and item.counts is not None:
            before |= _counts_snapshot(item.stat)
        befores.append(before)
        code = item.values.procedure_code
        if code and code not in procedures:
            procedures[code] = registry.procedure_for(session, code, name=item.values.name, field=item.values.field,
                                                      user=user, actor=actor, ip=ip)
        if service is None:
            service = item.service = Service(status="active", url="")
        registry.apply_values(session, service, dataclasses.replace(item.values, procedure_code=None),
                              user=user, actor=actor, ip=ip)
        service.procedure = procedures[code] if code else None
        session.add(service)
    session.flush()
    for item, before in zip(pending, befores, strict=True):
        service = item.service
        assert service is not None  # noqa: S101 - created above
        after = registry.service_snapshot(service)
        if period is not None and item.counts is not None:
            if item.stat is None:
                start, end = periods.bounds(period)
                item.stat = ApplicationStat(agency_id=service.agency_id, service_id=service.id, period=period,
                                            period_start=start, period_end=end, provenance="imported",
                                            status="published")
                session.add(item.stat)
            item.stat.received_online = item.counts["online_applications"]
            item.stat.received_total = item.counts["total_applications"]
            total, online = item.stat.received_total, item.stat.received_online
            item.stat.online_rate = round(100.0 * online / total, 2) if total and online is not None else None
            item.stat.observed_at = now
            after |= _counts_snapshot(item.stat)
        item.plan.entity_id = service.id
        audit.record(session, action="service.create" if before is None else "service.update",
                     entity_type="service", entity_id=service.id, user=user, actor=actor,
                     agency_id=service.agency_id, before=before, after=after, ip=ip, note=note)


def import_services(session: Session, data: bytes, filename: str, **options: Any) -> ImportOutcome:
    """Import an agency's service list: `_import_services_once`, planned again when a concurrent import
    registered one of its addresses first (the unique index refused ours), so a file that raced another
    ends with each address once; after IMPORT_ATTEMPTS it is refused with a message, nothing written."""
    for _attempt in range(IMPORT_ATTEMPTS):
        try:
            return _import_services_once(session, data, filename, **options)
        except (IntegrityError, OperationalError) as exc:
            session.rollback()
            if isinstance(exc, OperationalError) and "locked" not in str(exc).lower():
                raise
    outcome = ImportOutcome("services", filename, sha256=hashlib.sha256(data).hexdigest(),
                            period=options.get("period"), dry_run=bool(options.get("dry_run")))
    outcome.errors.append(RowError(0, "", CONFLICT_MESSAGE))
    return outcome


def _import_services_once(
    session: Session,
    data: bytes,
    filename: str,
    *,
    default_agency: str | None = None,
    scope: list[int] | None = None,
    user: User | None = None,
    actor: str | None = None,
    ip: str | None = None,
    allow_private: bool = False,
    period: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportOutcome:
    """Import an agency's service list (CSV/XLSX reporting template): all rows or none, audited.

    `default_agency` is the agency code for rows without a "Mã cơ quan" column; `scope` the agency ids
    the importer manages (rows for other agencies are errors). With `period` (2017 or 2017-Q3) the
    application counts are kept as imported figures of each service; without it they are not stored
    (`counts_ignored`). A dry run, or a file with any error, writes nothing (a rejected file is audited).
    """
    outcome = ImportOutcome("services", filename, sha256=hashlib.sha256(data).hexdigest(), period=period,
                            dry_run=dry_run)
    agencies = {a.code: a for a in session.execute(select(Agency)).scalars()}
    default = agencies.get(default_agency or "")
    if default_agency and default is None:
        outcome.errors.append(RowError(0, "agency", f"Không có cơ quan mã “{default_agency}”"))
    elif default is not None and scope is not None and default.id not in scope:
        outcome.errors.append(RowError(0, "agency", f"Bạn không quản lý cơ quan “{default_agency}”"))
    period = canonical_period(period, outcome)
    rows = read_rows(data, filename, outcome) if outcome.ok else None
    work: list[_Work] = []
    if rows is not None:
        parsed = importing.parse_services(rows, default_agency=default_agency, known_agencies=set(agencies))
        outcome.errors.extend(parsed.errors)
        present = {importing.service_field_for_header(h) for h in rows[0] if h != ROW_KEY} if rows else set()
        work = _plan_services(session, parsed.rows, {p for p in present if p}, agencies, scope=scope,
                              allow_private=allow_private, period=period, outcome=outcome)
        outcome.planned = [w.plan for w in work]
    agency_id = default.id if default is not None else None

    def write() -> None:
        _apply_services(session, work, period=period, user=user, actor=actor, ip=ip,
                        note=f"nhập từ tệp {filename}", now=now or utcnow())
        audit.record(session, action="import.services", entity_type="import", entity_id=filename[:80], user=user,
                     actor=actor, agency_id=agency_id, before=None,
                     after={"file": filename, "sha256": outcome.sha256, "rows": len(work), "period": period,
                            **outcome.summary()}, ip=ip)

    return finish_import(session, outcome, write, dry_run=dry_run, user=user, actor=actor, ip=ip, agency_id=agency_id)


# ---------------------------------------------------------------- uploads awaiting confirmation


class PendingUploads:
    """Uploaded files kept between the preview and the confirmation, on disk so every worker sees them."""

    TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

    def __init__(self, directory: Path, max_age_seconds: int = 6 * 3600) -> None:
        self.directory = directory
        self.max_age = max_age_seconds

    def save(self, data: bytes, meta: dict[str, Any]) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.purge()
        token = secrets.token_urlsafe(24)
        (self.directory / f"{token}.bin").write_bytes(data)
        (self.directory / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
        return token

    def claim(self, token: str, user_id: int) -> tuple[bytes, dict[str, Any]] | None:
        """Take the upload for confirming, once: of two confirmations at the same moment (a double click,
        two workers) one gets it and the other None. The claim is an atomic rename of the metadata file."""
        if not self.TOKEN_RE.match(token or ""):
            return None
        meta, body = self.directory / f"{token}.json", self.directory / f"{token}.bin"
        claimed = self.directory / f"{token}.{secrets.token_hex(8)}.claimed"
        try:
            meta.rename(claimed)
        except FileNotFoundError:
            return None
        try:
            info = json.loads(claimed.read_text(encoding="utf-8"))
            if info.get("user_id") != user_id:
                claimed.rename(meta)
                return None
            if time.time() - claimed.stat().st_mtime > self.max_age or not body.is_file():
                return None
            return body.read_bytes(), info
        finally:
            if claimed.exists():
                claimed.unlink(missing_ok=True)
                body.unlink(missing_ok=True)

    def discard(self, token: str) -> None:
        if self.TOKEN_RE.match(token or ""):
            for suffix in (".bin", ".json"):
                (self.directory / f"{token}{suffix}").unlink(missing_ok=True)

    def purge(self) -> None:
        """Forget uploads older than max_age."""
        cutoff = time.time() - self.max_age
        for path in self.directory.glob("*.json"):
            if path.stat().st_mtime < cutoff:
                self.discard(path.stem)

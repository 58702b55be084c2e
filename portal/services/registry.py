"""The registry of agencies and their services: register, edit, retire, restore; agencies and mergers.

Every change is audited with before/after values and committed here. Who may touch which agency is
checked by the caller (portal.security) and again here through `scope` (agency ids, None = all).
Messages are Vietnamese, keyed by form field ("" for the form as a whole).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from portal.crawlers.guard import GuardError, parse_target, resolve_public
from portal.models import (
    AGENCY_KINDS,
    SERVICE_STATUSES,
    Agency,
    ApplicationStat,
    Incident,
    Procedure,
    Service,
    User,
    utcnow,
)
from portal.services import audit, importing, monitor
from portal.services.addresses import url_key
from portal.text import fold, query_tokens
from portal.vocabulary import FAILING

SERVICE_AUDIT_FIELDS = ("agency_id", "name", "level", "url", "field", "legal_basis", "status", "retired_at")
AGENCY_AUDIT_FIELDS = (
    "code", "name", "kind", "portal_url", "parent_id", "valid_from", "valid_to", "successor_id",
    "reorganisation_basis", "check_interval_minutes",
)
RESOLVE_SECONDS = 3.0
BLOCKED_MESSAGE = "Địa chỉ trỏ tới mạng nội bộ (loopback, mạng riêng); cổng không kiểm tra được địa chỉ này."
AGENCY_CODE_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class RegistryError(Exception):
    """A change the rules refuse; `errors` maps a field (or "") to a message."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


# ---------------------------------------------------------------- addresses


def url_problem(url: str, *, allow_private: bool = False) -> str | None:
    """Why an address cannot be registered: not http(s), malformed, or refused by the crawler's guard — a
    literal non-public address, or a name that resolves to one (resolved here, not only at crawl time)."""
    problem = importing.check_url(url)
    if problem:
        return problem + "."
    try:
        target = parse_target(url, allow_private=allow_private)
    except GuardError as exc:
        if exc.reason == "blocked_address":
            return BLOCKED_MESSAGE
        return "Địa chỉ không hợp lệ."
    if not allow_private and target.ip is None and _resolves_to_private(target.scheme, target.host, target.port,
                                                                        int(time.time() // 300)):
        return BLOCKED_MESSAGE
    return None


@lru_cache(maxsize=4096)
def _resolves_to_private(scheme: str, host: str, port: int, period: int) -> bool:
    """Whether the host resolves to a non-public address now (remembered for the 5-minute `period`, so an
    import of many rows on few hosts resolves each host once). A name that does not resolve is accepted:
    the sweeps report it like any unreachable service."""
    try:
        resolve_public(f"{scheme}://{host}:{port}/", timeout=RESOLVE_SECONDS)
    except GuardError:
        return True
    except OSError:
        return False
    return False


def procedure_code_problem(code: str) -> str | None:
    problem = importing.procedure_code_problem(code)
    return problem.split(" — ")[0] + "." if problem else None


# ---------------------------------------------------------------- services


@dataclass(frozen=True)
class ServiceValues:
    """What a form or an import row says a service should be."""

    agency: Agency
    name: str
    level: int
    url: str
    procedure_code: str | None = None
    field: str | None = None
    legal_basis: str | None = None

    @classmethod
    def clean(cls, agency: Agency, *, name: str, level: int, url: str, procedure_code: str | None = None,
              field: str | None = None, legal_basis: str | None = None) -> ServiceValues:
        """Whitespace trimmed, empty optional values as None, the procedure code upper-case."""
        return cls(
            agency=agency, name=" ".join((name or "").split()), level=level, url=(url or "").strip(),
            procedure_code=importing.procedure_code(procedure_code),
            field=" ".join((field or "").split()) or None, legal_basis=(legal_basis or "").strip() or None,
        )


def service_snapshot(service: Service) -> dict[str, Any]:
    """The audited fields of a service, with its procedure code."""
    values = audit.snapshot(service, SERVICE_AUDIT_FIELDS)
    values["procedure_code"] = service.procedure.code if service.procedure is not None else None
    return values


def find_by_url(session: Session, agency_id: int, url: str, *, exclude_id: int | None = None) -> Service | None:
    """The agency's service (active or retired) registered at the same address (by the unique index)."""
    return session.execute(
        select(Service).where(Service.agency_id == agency_id, Service.url_key == url_key(url),
                              Service.id != (exclude_id or 0))
    ).scalar_one_or_none()


def service_errors(session: Session, values: ServiceValues, *, service: Service | None = None,
                   scope: list[int] | None = None, allow_private: bool = False) -> dict[str, str]:
    """What is wrong with the values (empty when they may be saved)."""
    errors: dict[str, str] = {}
    if scope is not None and values.agency.id not in scope:
        errors["agency"] = "Bạn không quản lý cơ quan này."
    if not values.name:
        errors["name"] = "Bắt buộc nhập tên dịch vụ."
    elif len(values.name) > importing.MAX_NAME_LENGTH:
        errors["name"] = f"Tên dịch vụ dài quá {importing.MAX_NAME_LENGTH} ký tự."
    if values.level not in (3, 4):
        errors["level"] = "Mức độ phải là 3 hoặc 4."
    problem = url_problem(values.url, allow_private=allow_private) if values.url else "Bắt buộc nhập địa chỉ."
    if problem:
        errors["url"] = problem
    else:
        other = find_by_url(session, values.agency.id, values.url, exclude_id=service.id if service else None)
        if other is not None:
            state = " (đã ngừng; hãy khôi phục dịch vụ đó)" if other.status == "retired" else ""
            errors["url"] = f"Địa chỉ này đã dùng cho dịch vụ #{other.id} “{other.name}” của cơ quan{state}."
    if values.procedure_code and (problem := procedure_code_problem(values.procedure_code)):
        errors["procedure_code"] = problem
    return errors


def procedure_for(session: Session, code: str, *, name: str, field: str | None, user: User | None = None,
                  actor: str | None = None, ip: str | None = None) -> Procedure:
    """The catalogue's procedure with this code, created (audited) from the service when it is new."""
    procedure = session.execute(select(Procedure).where(Procedure.code == code)).scalar_one_or_none()
    if procedure is None:
        procedure = Procedure(code=code, name=name, field=field)
        session.add(procedure)
        session.flush()
        audit.record(session, action="procedure.create", entity_type="procedure", entity_id=procedure.id,
                     user=user, actor=actor, before=None, after={"code": code, "name": name, "field": field},
                     ip=ip, note="tạo từ dịch vụ")
    return procedure


def apply_values(session: Session, service: Service, values: ServiceValues, *, user: User | None = None,
                 actor: str | None = None, ip: str | None = None) -> None:
    """Set the service's fields; a new address is checked at the next sweep. Nothing is added or committed.

    The procedure (found or created by code) is resolved first, so a new service is not flushed half-filled.
    """
    procedure = None
    if values.procedure_code:
        procedure = procedure_for(session, values.procedure_code, name=values.name, field=values.field,
                                  user=user, actor=actor, ip=ip)
    if service.url and url_key(service.url) != url_key(values.url):
        service.next_check_at = None
    service.agency = values.agency
    service.name, service.level, service.url = values.name, values.level, values.url
    service.field, service.legal_basis = values.field, values.legal_basis
    service.procedure = procedure


def save_service(session: Session, service: Service | None, values: ServiceValues, *, user: User | None = None,
                 ip: str | None = None, scope: list[int] | None = None, allow_private: bool = False) -> Service:
    """Register (service None) or edit a service, audited; RegistryError when the values are refused."""
    errors = service_errors(session, values, service=service, scope=scope, allow_private=allow_private)
    if service is not None and scope is not None and service.agency_id not in scope:
        errors[""] = "Bạn không quản lý dịch vụ này."
    if errors:
        raise RegistryError("invalid service", errors)
    before = service_snapshot(service) if service is not None else None
    if service is None:
        service = Service(status="active", url="")
    apply_values(session, service, values, user=user, ip=ip)
    session.add(service)
    session.flush()
    after = service_snapshot(service)
    if before != after:
        audit.record(session, action="service.create" if before is None else "service.update",
                     entity_type="service", entity_id=service.id, user=user, agency_id=service.agency_id,
                     before=before, after=after, ip=ip)
    session.commit()
    return service


def set_retired(session: Session, service: Service, retired: bool, *, user: User | None = None,
                ip: str | None = None) -> bool:
    """Retire (leaves the public listing, history kept) or restore a service, audited; False if unchanged."""
    if (service.status == "retired") == retired:
        return False
    before = service_snapshot(service)
    service.status = "retired" if retired else "active"
    service.retired_at = utcnow() if retired else None
    monitor.end_monitoring(session, service)
    audit.record(session, action="service.retire" if retired else "service.restore", entity_type="service",
                 entity_id=service.id, user=user, agency_id=service.agency_id, before=before,
                 after=service_snapshot(service), ip=ip)
    session.commit()
    return True


def staff_record(session: Session, service: Service) -> dict[str, Any]:
    """What staff see beside a service's form: its audited history, newest imported counts and latest incident."""
    return {
        "history": session.execute(audit.entries(entity=("service", str(service.id))).limit(20)).scalars().all(),
        "imported": imported_counts(session, [service.id]).get(service.id),
        "incident": session.execute(select(Incident).where(Incident.service_id == service.id)
                                    .order_by(Incident.started_at.desc()).limit(1)).scalar_one_or_none(),
    }


def imported_counts(session: Session, service_ids: list[int]) -> dict[int, ApplicationStat]:
    """The newest imported application counts of each service (by period end), by service id."""
    found: dict[int, ApplicationStat] = {}
    for start in range(0, len(service_ids), 500):
        chunk = service_ids[start:start + 500]
        stmt = (select(ApplicationStat)
                .where(ApplicationStat.provenance == "imported", ApplicationStat.service_id.in_(chunk))
                .order_by(ApplicationStat.period_end, ApplicationStat.observed_at, ApplicationStat.id))
        for stat in session.execute(stmt).scalars():
            found[stat.service_id] = stat  # type: ignore[index] - filtered on service_id
    return found


def services_query(*, scope: list[int] | None, agency_ids: list[int] | None = None, status: str | None = None,
                   q: str | None = None) -> Select:
    """Services an admin page lists: within `scope`, of the given agencies, by status, names containing q."""
    stmt = select(Service).options(joinedload(Service.agency), joinedload(Service.procedure))
    if scope is not None:
        stmt = stmt.where(Service.agency_id.in_(scope))
    if agency_ids is not None:
        stmt = stmt.where(Service.agency_id.in_(agency_ids))
    if status in SERVICE_STATUSES:
        stmt = stmt.where(Service.status == status)
    for token in query_tokens(fold(q or "")):
        stmt = stmt.where(Service.name_folded.contains(token, autoescape=True))
    return stmt.order_by(Service.status, Service.name_folded, Service.id)


def service_counts(session: Session, scope: list[int] | None) -> dict[str, int]:
    """Active, retired and not-working (down or dead) services within scope."""
    stmt = select(Service.status, Service.health, func.count()).group_by(Service.status, Service.health)
    if scope is not None:
        stmt = stmt.where(Service.agency_id.in_(scope))
    counts = {"active": 0, "retired": 0, "failing": 0}
    for status, health, count in session.execute(stmt):
        counts[status] = counts.get(status, 0) + count
        if status == "active" and health in FAILING:
            counts["failing"] += count
    return counts


# ---------------------------------------------------------------- agencies


@dataclass(frozen=True)
class AgencyValues:
    code: str
    name: str
    kind: str
    portal_url: str | None = None
    parent: Agency | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    successor: Agency | None = None
    reorganisation_basis: str | None = None
    check_interval_minutes: int = 60


def _reaches(start: Agency | None, target_id: int | None, step: str) -> bool:
    """True when following `step` (parent or successor) from start arrives at target_id."""
    seen: set[int] = set()
    current = start
    while current is not None and current.id not in seen:
        if current.id == target_id:
            return True
        seen.add(current.id)
        current = getattr(current, step)
    return False


def agency_errors(session: Session, values: AgencyValues, agency: Agency | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if agency is None or values.code != agency.code:
        if not AGENCY_CODE_RE.match(values.code or ""):
            errors["code"] = "Mã chỉ gồm chữ thường không dấu, số và dấu gạch ngang."
        elif session.execute(select(Agency.id).where(Agency.code == values.code)).first() is not None:
            errors["code"] = f"Đã có cơ quan mã “{values.code}”."
    if not values.name:
        errors["name"] = "Bắt buộc nhập tên."
    if values.kind not in AGENCY_KINDS:
        errors["kind"] = "Loại cơ quan không hợp lệ."
    if values.portal_url and (problem := importing.check_url(values.portal_url)):
        errors["portal_url"] = problem + "."
    own_id = agency.id if agency is not None else None
    if values.parent is not None and own_id is not None and _reaches(values.parent, own_id, "parent"):
        errors["parent"] = "Không thể trực thuộc chính nó hoặc một đơn vị trực thuộc của nó."
    if values.successor is not None:
        if own_id is not None and values.successor.id == own_id:
            errors["successor"] = "Cơ quan kế thừa không thể là chính nó."
        elif own_id is not None and _reaches(values.successor, own_id, "successor"):
            errors["successor"] = "Cơ quan kế thừa đã sáp nhập (trực tiếp hoặc gián tiếp) vào cơ quan này."
        if values.valid_to is None:
            errors["valid_to"] = "Khi sáp nhập, hãy nhập ngày hết hiệu lực."
    if values.valid_from and values.valid_to and values.valid_to <= values.valid_from:
        errors["valid_to"] = "Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực."
    if not 5 <= values.check_interval_minutes <= 10080:
        errors["check_interval_minutes"] = "Chu kỳ kiểm tra từ 5 đến 10080 phút."
    return errors


def save_agency(session: Session, agency: Agency | None, values: AgencyValues, *, user: User | None = None,
                ip: str | None = None) -> Agency:
    """Create or edit an agency, audited as agency.merge when it gains or changes its successor."""
    errors = agency_errors(session, values, agency)
    if errors:
        raise RegistryError("invalid agency", errors)
    before = audit.snapshot(agency, AGENCY_AUDIT_FIELDS) if agency is not None else None
    if agency is None:
        agency = Agency(code=values.code)
        session.add(agency)
    agency.code, agency.name, agency.kind = values.code, values.name, values.kind
    agency.portal_url = values.portal_url or None
    agency.parent = values.parent
    agency.valid_from, agency.valid_to = values.valid_from, values.valid_to
    agency.successor = values.successor
    agency.reorganisation_basis = values.reorganisation_basis or None
    agency.check_interval_minutes = values.check_interval_minutes
    session.flush()
    after = audit.snapshot(agency, AGENCY_AUDIT_FIELDS)
    if before is None:
        action = "agency.create"
    elif after["successor_id"] is not None and after["successor_id"] != before["successor_id"]:
        action = "agency.merge"
    else:
        action = "agency.update"
    if before != after:
        audit.record(session, action=action, entity_type="agency", entity_id=agency.code, user=user,
                     agency_id=agency.id, before=before, after=after, ip=ip)
    session.commit()
    return agency

"""Administrative procedures and the catalogues that list them: all-or-nothing import, editing, listing.

A catalogue is a name (``qd-846-2017`` for Decision 846/QĐ-TTg) shared by its CatalogueEntry rows; an
entry says that a procedure must be online at a level for a scope ("ministry" or "province"),
optionally for one responsible agency only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from portal.models import Agency, CatalogueEntry, Procedure, User
from portal.services import audit
from portal.services.importing import (
    MAX_NAME_LENGTH,
    SCOPES,
    ImportFileError,
    ProcedureRow,
    RowError,
    parse_procedures,
    procedure_code,
    procedure_code_problem,
    read_table,
)
from portal.text import fold, query_tokens, vietnamese_sort_key

CATALOGUE_846 = "qd-846-2017"
SAMPLE_CATALOGUE = "qd-846-2017-sample"
SAMPLE_FILE = Path(__file__).resolve().parent.parent / "data" / "procedures_sample_846.csv"
CATALOGUE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


def N_(message: str) -> str:  # noqa: N802 - Babel's marker: extracted for translation, translated where shown
    return message


CATALOGUE_LABELS = {
    CATALOGUE_846: N_("Quyết định 846/QĐ-TTg (2017)"),
    SAMPLE_CATALOGUE: N_("Danh mục mẫu theo Quyết định 846/QĐ-TTg (không chính thức)"),
}
PROCEDURE_AUDIT_FIELDS = ("code", "name", "field")
ENTRY_AUDIT_FIELDS = ("catalogue", "procedure_id", "scope", "required_level", "agency_id", "is_sample")


class ProcedureError(Exception):
    """A change the rules refuse; `errors` maps a field (or "") to a message."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


def catalogue_label(name: str) -> str:
    """The catalogue's title in Vietnamese (templates translate it), or its name."""
    return CATALOGUE_LABELS.get(name, name)


def catalogue_problem(name: str) -> str | None:
    """A message if `name` cannot be a catalogue name (lower-case letters, digits, . _ -), else None."""
    if CATALOGUE_RE.match(name or ""):
        return None
    return "Tên danh mục chỉ gồm chữ thường không dấu, chữ số và . _ - (ví dụ qd-846-2017), tối đa 80 ký tự"


# ---------------------------------------------------------------- catalogues


@dataclass
class CatalogueInfo:
    name: str
    label: str
    entries: int
    is_sample: bool
    scopes: dict[str, int] = field(default_factory=dict)


def catalogues(session: Session) -> list[CatalogueInfo]:
    """Every catalogue with its entry count per scope; the official one first, then by name."""
    rows = session.execute(
        select(
            CatalogueEntry.catalogue, CatalogueEntry.scope, func.count(),
            func.max(case((CatalogueEntry.is_sample, 1), else_=0)),
        ).group_by(CatalogueEntry.catalogue, CatalogueEntry.scope)
    ).all()
    found: dict[str, CatalogueInfo] = {}
    for name, scope, count, sample in rows:
        info = found.setdefault(name, CatalogueInfo(name, catalogue_label(name), 0, False))
        info.entries += count
        info.scopes[scope] = count
        info.is_sample = info.is_sample or bool(sample)
    return sorted(found.values(), key=lambda c: (c.name != CATALOGUE_846, c.is_sample, c.name))


def default_catalogue(session: Session) -> str | None:
    """The catalogue pages show when none is chosen: Decision 846 when imported, else the sample."""
    listed = catalogues(session)
    return listed[0].name if listed else None


def catalogue_entries(session: Session, catalogue: str, scope: str | None = None) -> list[CatalogueEntry]:
    """A catalogue's entries with their procedures and agencies, by field (Vietnamese order) then code."""
    stmt = (
        select(CatalogueEntry)
        .options(joinedload(CatalogueEntry.procedure), joinedload(CatalogueEntry.agency))
        .where(CatalogueEntry.catalogue == catalogue)
    )
    if scope:
        stmt = stmt.where(CatalogueEntry.scope == scope)
    entries = session.execute(stmt).scalars().all()
    return sorted(entries, key=lambda e: (
        SCOPES.index(e.scope) if e.scope in SCOPES else len(SCOPES),
        vietnamese_sort_key(e.procedure.field or "\uffff"), e.procedure.code,
    ))


# ---------------------------------------------------------------- import


@dataclass
class EntryPlan:
    """What importing one (procedure, scope) of the file does: "add", "update" or "same"."""

    row: int
    code: str
    name: str
    field: str | None
    scope: str
    required_level: int
    agency_code: str | None
    action: str
    changes: list[str] = field(default_factory=list)


@dataclass
class CatalogueImport:
    catalogue: str
    filename: str
    is_sample: bool = False
    rows: list[ProcedureRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    entries: list[EntryPlan] = field(default_factory=list)
    procedures_added: int = 0
    procedures_updated: int = 0
    absent: int = 0
    applied: bool = False
    skipped: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for e in self.entries if e.action == action)

    @property
    def added(self) -> int:
        return self.count("add")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("same")

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)

    def summary(self) -> dict[str, int | str | bool]:
        return {
            "catalogue": self.catalogue, "filename": self.filename, "is_sample": self.is_sample,
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "procedures_added": self.procedures_added, "procedures_updated": self.procedures_updated,
            "absent": self.absent,
        }


def agency_lookup(session: Session) -> dict[str, tuple[str, str]]:
    """{code or folded name: (code, kind)} of every agency, for a catalogue's "responsible agency" column."""
    lookup: dict[str, tuple[str, str]] = {}
    for code, name, kind in session.execute(select(Agency.code, Agency.name, Agency.kind)):
        lookup[code] = (code, kind)
        lookup.setdefault(fold(name), (code, kind))
    return lookup


def plan_import(
    session: Session,
    data: bytes,
    filename: str,
    *,
    catalogue: str = CATALOGUE_846,
    is_sample: bool = False,
    default_scope: str | None = None,
) -> CatalogueImport:
    """Read and validate a catalogue file and work out what importing it would change; writes nothing."""
    plan = CatalogueImport(catalogue=catalogue, filename=filename, is_sample=is_sample)
    if problem := catalogue_problem(catalogue):
        plan.errors.append(RowError(0, "catalogue", problem))
        return plan
    try:
        table = read_table(data, filename)
    except ImportFileError as exc:
        plan.errors.append(RowError(0, "", str(exc)))
        return plan
    plan.skipped = table.skipped
    parsed = parse_procedures(table, agencies=agency_lookup(session), default_scope=default_scope)
    plan.rows, plan.errors = parsed.rows, parsed.errors
    if not plan.ok:
        return plan

    codes = {r.code for r in plan.rows}
    procedures = {
        p.code: p for p in session.execute(select(Procedure).where(Procedure.code.in_(codes))).scalars()
    } if codes else {}
    existing = {
        (e.procedure_id, e.scope): e
        for e in session.execute(select(CatalogueEntry).where(CatalogueEntry.catalogue == catalogue)).scalars()
    }
    agency_ids = dict(session.execute(select(Agency.code, Agency.id)).all())
    procedure_changes: dict[str, list[str]] = {}
    for row in plan.rows:
        procedure = procedures.get(row.code)
        if row.code not in procedure_changes:
            changes = []
            if procedure is None:
                plan.procedures_added += 1
            else:
                if procedure.name != row.name:
                    changes.append("name")
                if row.field is not None and procedure.field != row.field:
                    changes.append("field")
                plan.procedures_updated += bool(changes)
            procedure_changes[row.code] = changes
        for scope in row.scopes:
            entry = existing.pop((procedure.id, scope), None) if procedure is not None else None
            changes = list(procedure_changes[row.code])
            if entry is not None:
                if entry.required_level != row.required_level:
                    changes.append("required_level")
                if entry.agency_id != (agency_ids[row.agency_code] if row.agency_code else None):
                    changes.append("agency")
                if entry.is_sample != is_sample:
                    changes.append("is_sample")
            action = "add" if entry is None else ("update" if changes else "same")
            plan.entries.append(EntryPlan(
                row=row.row, code=row.code, name=row.name, field=row.field, scope=scope,
                required_level=row.required_level, agency_code=row.agency_code, action=action,
                changes=changes if entry is not None else [],
            ))
    plan.absent = len(existing)
    return plan


def apply_import(
    session: Session,
    plan: CatalogueImport,
    *,
    user: User | None = None,
    actor: str | None = None,
    ip: str | None = None,
) -> CatalogueImport:
    """Write a valid plan in one transaction, with one audit entry when anything changed."""
    if not plan.ok:
        raise ProcedureError("the catalogue file has errors", {"": "Tệp có lỗi; không có gì được ghi."})
    codes = {r.code for r in plan.rows}
    procedures = {p.code: p for p in session.execute(select(Procedure).where(Procedure.code.in_(codes))).scalars()}
    agency_ids = dict(session.execute(select(Agency.code, Agency.id)).all())
    for row in plan.rows:
        procedure = procedures.get(row.code)
        if procedure is None:
            procedure = Procedure(code=row.code, name=row.name, field=row.field)
            session.add(procedure)
            procedures[row.code] = procedure
        else:
            procedure.name = row.name
            if row.field is not None:
                procedure.field = row.field
    session.flush()
    existing = {
        (e.procedure_id, e.scope): e
        for e in session.execute(
            select(CatalogueEntry).where(CatalogueEntry.catalogue == plan.catalogue)
        ).scalars()
    }
    for item in plan.entries:
        procedure = procedures[item.code]
        entry = existing.get((procedure.id, item.scope))
        if entry is None:
            entry = CatalogueEntry(catalogue=plan.catalogue, procedure_id=procedure.id, scope=item.scope)
            session.add(entry)
        entry.required_level = item.required_level
        entry.agency_id = agency_ids[item.agency_code] if item.agency_code else None
        entry.is_sample = plan.is_sample
    if plan.changed:
        audit.record(
            session, action="procedure_catalogue.import", entity_type="procedure_catalogue",
            entity_id=plan.catalogue, user=user, actor=actor, after=plan.summary(), ip=ip, note=plan.filename,
        )
    session.commit()
    plan.applied = True
    return plan


def import_catalogue(
    session: Session,
    data: bytes,
    filename: str,
    *,
    catalogue: str = CATALOGUE_846,
    dry_run: bool = False,
    is_sample: bool = False,
    default_scope: str | None = None,
    user: User | None = None,
    actor: str | None = None,
    ip: str | None = None,
) -> CatalogueImport:
    """Plan, then (unless dry_run or the file has errors) apply a catalogue file."""
    plan = plan_import(session, data, filename, catalogue=catalogue, is_sample=is_sample,
                       default_scope=default_scope)
    if plan.ok and not dry_run:
        apply_import(session, plan, user=user, actor=actor, ip=ip)
    return plan


def load_sample_catalogue(session: Session) -> CatalogueImport:
    """Import the bundled sample catalogue (is_sample) under SAMPLE_CATALOGUE; idempotent."""
    plan = import_catalogue(session, SAMPLE_FILE.read_bytes(), SAMPLE_FILE.name, catalogue=SAMPLE_CATALOGUE,
                            is_sample=True, actor="portal seed demo")
    if not plan.ok:
        raise RuntimeError(f"the bundled sample catalogue is invalid: {plan.errors[:3]}")
    return plan


# ---------------------------------------------------------------- procedures


@dataclass
class ProcedurePage:
    items: list[Procedure]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def search_procedures(
    session: Session, *, q: str = "", catalogue: str | None = None, page: int = 1, per_page: int = 50
) -> ProcedurePage:
    """Procedures whose code starts with `q` or whose name has all its words (diacritics ignored)."""
    stmt = select(Procedure)
    q = (q or "").strip()
    if q:
        tokens = query_tokens(fold(q))
        by_name = [Procedure.name_folded.contains(t, autoescape=True) for t in tokens] or [Procedure.id.is_(None)]
        stmt = stmt.where(or_(Procedure.code.startswith(q.upper(), autoescape=True), and_(*by_name)))
    if catalogue:
        stmt = stmt.where(Procedure.id.in_(
            select(CatalogueEntry.procedure_id).where(CatalogueEntry.catalogue == catalogue)
        ))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    items = session.execute(
        stmt.options(joinedload(Procedure.memberships)).order_by(Procedure.code)
        .limit(per_page).offset((page - 1) * per_page)
    ).unique().scalars().all()
    return ProcedurePage(list(items), total, page, per_page)


def procedure_errors(
    session: Session, *, code: str, name: str, field: str | None, procedure: Procedure | None = None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if procedure is None:
        if not code:
            errors["code"] = "Thiếu mã thủ tục."
        elif problem := procedure_code_problem(code):
            errors["code"] = problem
        elif session.execute(select(Procedure.id).where(Procedure.code == code)).first():
            errors["code"] = f"Đã có thủ tục mã {code}."
    if not name:
        errors["name"] = "Thiếu tên thủ tục."
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = f"Tên thủ tục dài quá {MAX_NAME_LENGTH} ký tự."
    if field and len(field) > 255:
        errors["field"] = "Lĩnh vực dài quá 255 ký tự."
    return errors


def save_procedure(
    session: Session,
    procedure: Procedure | None,
    *,
    code: str,
    name: str,
    field: str | None,
    user: User | None = None,
    ip: str | None = None,
) -> Procedure:
    """Create (procedure None) or update a procedure, audited; the code of an existing one never changes."""
    code = procedure_code(code) or ""
    name = " ".join((name or "").split())
    field = " ".join((field or "").split()) or None
    errors = procedure_errors(session, code=code, name=name, field=field, procedure=procedure)
    if errors:
        raise ProcedureError("invalid procedure", errors)
    before = audit.snapshot(procedure, PROCEDURE_AUDIT_FIELDS) if procedure is not None else None
    if procedure is None:
        procedure = Procedure(code=code)
        session.add(procedure)
    procedure.name, procedure.field = name, field
    session.flush()
    after = audit.snapshot(procedure, PROCEDURE_AUDIT_FIELDS)
    if before != after:
        audit.record(
            session, action="procedure.create" if before is None else "procedure.update",
            entity_type="procedure", entity_id=procedure.id, user=user, before=before, after=after, ip=ip,
        )
    session.commit()
    return procedure


def set_membership(
    session: Session,
    procedure: Procedure,
    *,
    catalogue: str,
    scope: str,
    required_level: int,
    agency: Agency | None = None,
    user: User | None = None,
    ip: str | None = None,
) -> CatalogueEntry:
    """Put a procedure in a catalogue for a scope at a required level (or change that), audited."""
    errors: dict[str, str] = {}
    if problem := catalogue_problem(catalogue):
        errors["catalogue"] = problem
    if scope not in SCOPES:
        errors["scope"] = "Phạm vi phải là bộ, ngành hoặc tỉnh, thành phố."
    if required_level not in (3, 4):
        errors["required_level"] = "Mức độ phải là 3 hoặc 4."
    if agency is not None and scope in SCOPES and (agency.kind == "province") != (scope == "province"):
        errors["agency"] = "Cơ quan không thuộc phạm vi đã chọn."
    if errors:
        raise ProcedureError("invalid membership", errors)
    entry = session.execute(select(CatalogueEntry).where(
        CatalogueEntry.catalogue == catalogue, CatalogueEntry.procedure_id == procedure.id,
        CatalogueEntry.scope == scope,
    )).scalar_one_or_none()
    before = audit.snapshot(entry, ENTRY_AUDIT_FIELDS) if entry is not None else None
    if entry is None:
        entry = CatalogueEntry(catalogue=catalogue, procedure_id=procedure.id, scope=scope, is_sample=False)
        session.add(entry)
    entry.required_level = required_level
    entry.agency_id = agency.id if agency is not None else None
    session.flush()
    after = audit.snapshot(entry, ENTRY_AUDIT_FIELDS)
    if before != after:
        audit.record(
            session, action="catalogue_entry.create" if before is None else "catalogue_entry.update",
            entity_type="catalogue_entry", entity_id=entry.id, user=user, before=before, after=after, ip=ip,
            note=f"{catalogue} {procedure.code} {scope}",
        )
    session.commit()
    return entry

"""The national open-data downloads: the whole service catalogue, agencies and procedure catalogues.

Rows are read from the database in chunks (``yield_per``: a server-side cursor on PostgreSQL) and
written out as they come, so a download of any size needs the same, small amount of memory.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from portal.models import Agency, CatalogueEntry, Procedure, Service
from portal.services.exports import to_xlsx

CHUNK_ROWS = 2000
CHUNK_CHARS = 64 * 1024

SERVICE_COLUMNS = (
    "id", "name", "agency_code", "agency_name", "agency_kind", "level", "field", "procedure_code", "url",
    "health", "health_since", "last_checked_at", "status", "is_sample",
)
AGENCY_COLUMNS = (
    "code", "name", "kind", "parent_code", "portal_url", "gso_code", "valid_from", "valid_to", "successor_code",
    "current",
)
PROCEDURE_COLUMNS = (
    "catalogue", "code", "name", "field", "scope", "required_level", "agency_code", "is_sample",
)


def services_statement(*, include_retired: bool = False) -> Select:
    """Every service (active only unless include_retired) as SERVICE_COLUMNS, by id."""
    stmt = (
        select(
            Service.id, Service.name, Agency.code, Agency.name, Agency.kind, Service.level, Service.field,
            Procedure.code, Service.url, Service.health, Service.health_since, Service.last_checked_at,
            Service.status, Service.is_sample,
        )
        .join(Agency, Agency.id == Service.agency_id)
        .outerjoin(Procedure, Procedure.id == Service.procedure_id)
        .order_by(Service.id)
    )
    if not include_retired:
        stmt = stmt.where(Service.status == "active")
    return stmt


def iter_service_rows(session: Session, *, include_retired: bool = False) -> Iterator[tuple[Any, ...]]:
    """The services, fetched CHUNK_ROWS at a time."""
    result = session.execute(services_statement(include_retired=include_retired).execution_options(
        yield_per=CHUNK_ROWS
    ))
    try:
        for row in result:
            yield tuple(row)
    finally:
        result.close()


XLSX_MAX_AGE = 900


def xlsx_folder(config: Mapping[str, Any], instance_path: str, database_url: str) -> Path:
    """Where the XLSX downloads of one database are kept (PORTAL_OPEN_DATA_DIR, else instance/open-data)."""
    base = Path(config.get("PORTAL_OPEN_DATA_DIR") or Path(instance_path) / "open-data")
    return base / hashlib.sha256(database_url.encode()).hexdigest()[:12]


def xlsx_max_age(config: Mapping[str, Any]) -> float:
    return float(config.get("PORTAL_OPEN_DATA_XLSX_SECONDS", XLSX_MAX_AGE))


def services_xlsx(session: Session, folder: Path, *, include_retired: bool = False, max_age: float = 900) -> Path:
    """The services as an XLSX file in `folder`, rebuilt when older than `max_age` seconds.

    Building a workbook is slow (openpyxl writes some 5,000–10,000 rows a second), so one file serves
    every download until it expires; a lock makes concurrent requests wait for one build, not start many.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ("services-all.xlsx" if include_retired else "services.xlsx")

    def fresh() -> bool:
        return target.exists() and time.time() - target.stat().st_mtime < max_age

    if fresh():
        return target
    with (folder / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not fresh():
            body = to_xlsx(SERVICE_COLUMNS, iter_service_rows(session, include_retired=include_retired),
                           sheet_title="services")
            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(temporary, target)
    return target


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _record(columns: Sequence[str], row: Sequence[Any]) -> str:
    return json.dumps({c: _json_value(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False)


def iter_json_array(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A JSON array of objects keyed by `columns`, one object a line, produced as the rows come."""
    yield "["
    separator = "\n"
    for row in rows:
        yield separator + _record(columns, row)
        separator = ",\n"
    yield "\n]\n"


def iter_json_lines(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """JSON Lines (one JSON object a line), produced as the rows come."""
    for row in rows:
        yield _record(columns, row) + "\n"


def chunked(pieces: Iterable[str], size: int = CHUNK_CHARS) -> Iterator[str]:
    """Join small strings into pieces of about `size` characters, so a response has few, larger writes."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def agency_rows(session: Session, on: dt.date | None = None) -> list[tuple[Any, ...]]:
    """Every agency, former ones included (with their successor), as AGENCY_COLUMNS, by code."""
    parent, successor = aliased(Agency), aliased(Agency)
    rows = session.execute(
        select(Agency, parent.code, successor.code)
        .outerjoin(parent, parent.id == Agency.parent_id)
        .outerjoin(successor, successor.id == Agency.successor_id)
        .order_by(Agency.code)
    ).all()
    return [
        (a.code, a.name, a.kind, parent_code, a.portal_url, a.gso_code, a.valid_from, a.valid_to,
         successor_code if successor_code != a.code else None, a.is_current(on))
        for a, parent_code, successor_code in rows
    ]


def procedure_rows(session: Session, catalogue: str | None = None) -> list[tuple[Any, ...]]:
    """Catalogue entries (of one catalogue, or all) as PROCEDURE_COLUMNS."""
    stmt = (
        select(CatalogueEntry.catalogue, Procedure.code, Procedure.name, Procedure.field, CatalogueEntry.scope,
               CatalogueEntry.required_level, Agency.code, CatalogueEntry.is_sample)
        .join(Procedure, Procedure.id == CatalogueEntry.procedure_id)
        .outerjoin(Agency, Agency.id == CatalogueEntry.agency_id)
        .order_by(CatalogueEntry.catalogue, CatalogueEntry.scope, Procedure.code)
    )
    if catalogue:
        stmt = stmt.where(CatalogueEntry.catalogue == catalogue)
    return [tuple(r) for r in session.execute(stmt)]


def dataset_summary(session: Session) -> dict[str, Any]:
    """Counts for the open-data page: services by status and how many are sample data, agencies, entries."""
    by_status = dict(session.execute(select(Service.status, func.count()).group_by(Service.status)).all())
    sample = session.execute(
        select(func.count()).where(Service.is_sample, Service.status == "active")
    ).scalar_one()
    return {
        "active": by_status.get("active", 0),
        "retired": by_status.get("retired", 0),
        "sample": sample,
        "agencies": session.execute(select(func.count(Agency.id))).scalar_one(),
        "entries": session.execute(select(func.count(CatalogueEntry.id))).scalar_one(),
        "last_checked_at": session.execute(select(func.max(Service.last_checked_at))).scalar_one(),
    }

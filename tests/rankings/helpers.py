"""Shared helpers of the rankings tests: the official 2016 figures, small worlds of agencies and services."""

from __future__ import annotations

import csv
import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from portal.models import Agency, ApplicationStat, DailyRollup, QuarterlyReport, ReportFigure, Service
from portal.services.availability import local_day
from portal.services.importing import parse_report, read_table

OFFICIAL = Path(__file__).resolve().parent.parent / "fixtures" / "official_tables"
TABLES = {
    "2.6": ("services_total", "ministry"),
    "2.7": ("online_applications", "ministry"),
    "4.7": ("services_total", "province"),
    "4.8": ("online_applications", "province"),
}


def expected(table: str) -> list[dict[str, str]]:
    with open(OFFICIAL / "expected_ranks.csv", encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if r["table"] == table]


def import_report(session, path: Path = OFFICIAL / "report_2016.csv", period: str = "2016") -> int:
    """Import an official report file through the project's report parser; returns the rows stored."""
    agencies = {a.code: a for a in session.execute(select(Agency)).scalars()}
    parsed = parse_report(read_table(path.read_bytes(), path.name), period=period, known_agencies=set(agencies))
    assert parsed.ok, parsed.errors
    for row in parsed.rows:
        session.add(ReportFigure(
            agency_id=agencies[row.agency_code].id, period=period, services_l3=row.services_l3,
            services_l4=row.services_l4, online_applications=row.online_applications,
            it_infrastructure_index=row.it_infrastructure_index, it_internal_index=row.it_internal_index,
            website_index=row.website_index, it_policy_index=row.it_policy_index, it_hr_index=row.it_hr_index,
        ))
    session.commit()
    return len(parsed.rows)


def today() -> date:
    return local_day(datetime.now(UTC))


def current_quarter() -> str:
    day = today()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def agency(session, code: str, name: str | None = None, kind: str = "province", **fields) -> Agency:
    item = Agency(code=code, name=name or code.replace("-", " ").title(), kind=kind, **fields)
    session.add(item)
    session.flush()
    return item


_ADDRESSES = itertools.count()  # every service its own address: an agency's addresses are unique


def services(session, owner: Agency, *, l3: int = 0, l4: int = 0, health: str = "up", status: str = "active",
             created_at: datetime | None = None) -> list[Service]:
    items = []
    for i in range(l3 + l4):
        service = Service(agency_id=owner.id, name=f"Dịch vụ {owner.code} {len(items)}", level=3 if i < l3 else 4,
                          url=f"https://{owner.code}.example.gov.vn/dv/{health}/{status}/{next(_ADDRESSES)}",
                          health=health,
                          status=status)
        if created_at is not None:
            service.created_at = created_at
        if status == "retired":
            service.retired_at = datetime.now(UTC)
        items.append(service)
    session.add_all(items)
    session.flush()
    return items


def rollups(session, service: Service, days_ago: int, checks: int, up: int, degraded: int = 0) -> None:
    session.add(DailyRollup(service_id=service.id, day=today() - timedelta(days=days_ago), checks=checks, up=up,
                            degraded=degraded, down=checks - up - degraded, reasons={}))
    session.flush()


def crawled(session, owner: Agency, *, online: int | None, total: int | None = None, period: str | None = None,
            observed_at: datetime | None = None, status: str = "published", rate: float | None = None,
            service: Service | None = None) -> ApplicationStat:
    stat = ApplicationStat(agency_id=owner.id, period=period or current_quarter(), provenance="crawled",
                           received_online=online, received_total=total, online_rate=rate, status=status,
                           service_id=service.id if service else None,
                           observed_at=observed_at or datetime.now(UTC))
    session.add(stat)
    session.flush()
    return stat


def quarterly(session, owner: Agency, period: str, *, l3: int, l4: int, online: int = 0, received: int = 0):
    report = QuarterlyReport(agency_id=owner.id, period=period, services_l3=l3, services_l4=l4,
                             online_l3=online, online_l4=0, received_l3=received, received_l4=0)
    session.add(report)
    session.flush()
    return report


def ranks(result) -> dict[str, int]:
    return {row.agency_code: row.rank for row in result.rows}

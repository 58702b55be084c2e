"""Application figures: statistics sources, crawled or reported figures, quarterly reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.agency import Agency
from portal.models.base import Base, utcnow
from portal.models.service import Service

PROVENANCES = ("crawled", "reported", "imported")
STAT_STATUSES = ("published", "held", "rejected")


class StatSource(Base):
    """Where an agency (or one service) publishes application counts, and how to extract them."""

    __tablename__ = "stat_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    url: Mapped[str] = mapped_column(String(2000))
    label: Mapped[str | None] = mapped_column(String(255))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    period: Mapped[str | None] = mapped_column(String(40))  # the period to read on a page showing several
    is_enabled: Mapped[bool] = mapped_column(default=True)
    last_run_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(40))
    last_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship()
    service: Mapped[Service | None] = relationship()


class ApplicationStat(Base):
    """A figure for an agency or service over a period, with where it came from."""

    __tablename__ = "application_stats"
    __table_args__ = (
        CheckConstraint(f"provenance IN {PROVENANCES!r}", name="provenance"),
        CheckConstraint(f"status IN {STAT_STATUSES!r}", name="status"),
        Index("ix_application_stats_source_observed", "source_id", "observed_at"),
        Index("ix_application_stats_agency_period", "agency_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("stat_sources.id"))
    period: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    provenance: Mapped[str] = mapped_column(String(20))
    received_total: Mapped[int | None]
    received_online: Mapped[int | None]
    resolved: Mapped[int | None]
    resolved_on_time: Mapped[int | None]
    online_rate: Mapped[float | None]
    number_format: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20), default="published")
    problems: Mapped[list[str] | None] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # per figure: where on the page it was read
    source_url: Mapped[str | None] = mapped_column(String(2000))
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agency: Mapped[Agency] = relationship()
    source: Mapped[StatSource | None] = relationship()


class QuarterlyReport(Base):
    """An agency's own figures for a quarter, on the Government Office template (provenance: reported)."""

    __tablename__ = "quarterly_reports"
    __table_args__ = (UniqueConstraint("agency_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    period: Mapped[str] = mapped_column(String(10), index=True)
    services_l3: Mapped[int] = mapped_column(default=0)
    services_l4: Mapped[int] = mapped_column(default=0)
    new_services_l3: Mapped[int] = mapped_column(default=0)
    new_services_l4: Mapped[int] = mapped_column(default=0)
    received_l3: Mapped[int] = mapped_column(default=0)
    received_l4: Mapped[int] = mapped_column(default=0)
    online_l3: Mapped[int] = mapped_column(default=0)
    online_l4: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(Text)
    is_locked: Mapped[bool] = mapped_column(default=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship()


class QuarterLock(Base):
    """An admin's lock on a quarter: reports of a locked quarter can no longer be edited."""

    __tablename__ = "quarter_locks"

    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

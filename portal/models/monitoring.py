"""Availability checks, daily roll-ups and incidents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.service import Service


class Check(Base):
    """One availability check; kept for the retention window."""

    __tablename__ = "checks"
    __table_args__ = (Index("ix_checks_service_at", "service_id", "checked_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    http_status: Mapped[int | None]
    elapsed_ms: Mapped[int]
    final_url: Mapped[str | None] = mapped_column(String(2000))
    inferred: Mapped[bool] = mapped_column(default=False, server_default=false())
    monitor_fault_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_faults.id"), index=True)

    service: Mapped[Service] = relationship()


class MonitorFault(Base):
    """A period when the monitor could not reach the network: its checks say nothing about the services."""

    __tablename__ = "monitor_faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(500))
    hosts: Mapped[int] = mapped_column(default=0)
    failed_hosts: Mapped[int] = mapped_column(default=0)
    alerted_at: Mapped[datetime | None]
    alert_attempts: Mapped[int] = mapped_column(default=0)


class SweepRun(Base):
    """What one sweep did: checks, checks inferred from a failing host, hosts that throttled it."""

    __tablename__ = "sweep_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(20), default="sweep")
    checked: Mapped[int] = mapped_column(default=0)
    inferred: Mapped[int] = mapped_column(default=0)
    retried: Mapped[int] = mapped_column(default=0)
    throttled_hosts: Mapped[int] = mapped_column(default=0)
    failed_hosts: Mapped[int] = mapped_column(default=0)
    monitor_fault_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_faults.id"))


class DailyRollup(Base):
    """Per service and day: check counts, latency percentiles and counts per reason. Kept for ever."""

    __tablename__ = "daily_rollups"
    __table_args__ = (UniqueConstraint("service_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    day: Mapped[date] = mapped_column(index=True)
    checks: Mapped[int] = mapped_column(default=0)
    up: Mapped[int] = mapped_column(default=0)
    degraded: Mapped[int] = mapped_column(default=0)
    down: Mapped[int] = mapped_column(default=0)
    p50_ms: Mapped[int | None]
    p95_ms: Mapped[int | None]
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Incident(Base):
    """A period during which a service was down (or dead)."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_service_started", "service_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="down")
    detail: Mapped[str | None] = mapped_column(String(500))

    service: Mapped[Service] = relationship()


class JobLock(Base):
    """A named lock with an expiry, so a job (a sweep, a delivery run) never runs twice at once."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


ALERT_KINDS = ("down", "dead", "recovered", "citizen_reports")


class AlertEvent(Base):
    """A change of health worth telling people about; delivered by e-mail and webhook, then marked sent."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_pending", "sent_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))

    service: Mapped[Service] = relationship()

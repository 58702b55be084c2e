"""Operations: heartbeats of the scheduler and the sweeps, readiness, and the Prometheus metrics.

Everything is read from the database, so any web worker answers the same for the whole installation.
A metric is one `gauge(...)` call: a name, a help text, its labels and a function of (session, now,
settings) returning a number, or rows of label values followed by the number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import AlertEvent, Check, Heartbeat, MonitorFault, Service, SweepRun, utcnow

SCHEDULER = "scheduler"
SWEEP = "sweep"
HEARTBEAT_SECONDS = 30  # the scheduler's heartbeat job
SCHEDULER_STALE_SECONDS = 4 * HEARTBEAT_SECONDS


def beat(session: Session, name: str, holder: str, now: datetime | None = None, **values: Any) -> None:
    """Record a sign of life of `name` (and, for a sweep, started_at / finished_at / checked); commits."""
    values = {"holder": holder[:120], "beat_at": now or utcnow(), **values}
    if not session.execute(update(Heartbeat).where(Heartbeat.name == name).values(**values)).rowcount:
        try:
            session.execute(insert(Heartbeat).values(name=name, **values))
        except IntegrityError:  # another process wrote it first
            session.rollback()
            session.execute(update(Heartbeat).where(Heartbeat.name == name).values(**values))
    session.commit()


def heartbeats(session: Session) -> dict[str, Heartbeat]:
    return {row.name: row for row in session.execute(select(Heartbeat)).scalars()}


def _age(now: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 1)


def readiness(session: Session, config: Mapping[str, Any], now: datetime | None = None) -> tuple[bool, dict]:
    """Ready when the database answers and, unless the monitor is off, the scheduler's heartbeat and the
    last sweep are fresh. Returns (ready, details with the ages in seconds)."""
    now = now or utcnow()
    try:
        session.execute(text("SELECT 1"))
        beats = heartbeats(session)
    except Exception as exc:  # noqa: BLE001 - not ready, whatever the reason
        session.rollback()
        return False, {"database": {"ok": False, "error": " ".join(str(exc).split())[:300]}}
    details: dict[str, Any] = {"database": {"ok": True}}
    if config.get("PORTAL_MONITOR", "on") == "off":
        details["monitor"] = "off"
        return True, details
    scheduler, sweep = beats.get(SCHEDULER), beats.get(SWEEP)
    scheduler_age = _age(now, scheduler.beat_at if scheduler else None)
    sweep_age = _age(now, sweep.beat_at if sweep else None)
    sweep_limit = 60 * int(config.get("PORTAL_READY_SWEEP_MINUTES", 15))
    details["scheduler"] = {"ok": scheduler_age is not None and scheduler_age <= SCHEDULER_STALE_SECONDS,
                            "age_seconds": scheduler_age, "limit_seconds": SCHEDULER_STALE_SECONDS}
    details["sweep"] = {"ok": sweep_age is not None and sweep_age <= sweep_limit, "age_seconds": sweep_age,
                        "limit_seconds": sweep_limit}
    return details["scheduler"]["ok"] and details["sweep"]["ok"], details


# --- metrics -----------------------------------------------------------------------------------------

Reader = Callable[[Session, datetime, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    labels: tuple[str, ...]
    read: Reader

    def family(self, session: Session, now: datetime, config: Mapping[str, Any]) -> GaugeMetricFamily:
        family = GaugeMetricFamily(self.name, self.help, labels=list(self.labels))
        value = self.read(session, now, config)
        if not self.labels:
            if value is not None:
                family.add_metric([], float(value))
            return family
        for *labels, number in value:
            family.add_metric([str(label) for label in labels], float(number or 0))
        return family


GAUGES: list[Gauge] = []


def gauge(name: str, help: str, read: Reader, labels: Iterable[str] = ()) -> None:  # noqa: A002 - Prometheus' word
    GAUGES.append(Gauge(name, help, tuple(labels), read))


def _window(config: Mapping[str, Any]) -> timedelta:
    return timedelta(minutes=int(config.get("PORTAL_METRICS_WINDOW_MINUTES", 60)))


def _due(now: datetime) -> Any:
    return (Service.status == "active", or_(Service.next_check_at.is_(None), Service.next_check_at <= now))


def _sweep(session: Session) -> Heartbeat | None:
    return session.get(Heartbeat, SWEEP)


def _sweep_duration(session: Session, now: datetime, config: Mapping[str, Any]) -> float | None:
    sweep = _sweep(session)
    if sweep is None or sweep.started_at is None or sweep.finished_at is None or sweep.finished_at < sweep.started_at:
        return None
    return (sweep.finished_at - sweep.started_at).total_seconds()


def _sweep_lag(session: Session, now: datetime, config: Mapping[str, Any]) -> float:
    """How long the longest-waiting due service has been due (0 when none waits, or one never checked)."""
    oldest = session.execute(select(func.min(Service.next_check_at)).where(*_due(now))).scalar_one()
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())


def _alerts(session: Session, now: datetime, config: Mapping[str, Any]) -> list[tuple[str, int]]:
    from portal.services.alerts import MAX_ATTEMPTS

    rows = session.execute(select(
        func.count().filter(AlertEvent.sent_at.is_not(None)),
        func.count().filter(AlertEvent.sent_at.is_(None), AlertEvent.attempts < MAX_ATTEMPTS),
        func.count().filter(AlertEvent.sent_at.is_(None), AlertEvent.attempts >= MAX_ATTEMPTS),
    )).one()
    return list(zip(("sent", "pending", "failed"), rows, strict=True))


gauge("portal_checks_recent", "Checks in the last PORTAL_METRICS_WINDOW_MINUTES minutes, by outcome and reason",
      lambda s, now, c: s.execute(select(Check.outcome, Check.reason, func.count())
                                  .where(Check.checked_at >= now - _window(c)).group_by(Check.outcome, Check.reason)),
      labels=("outcome", "reason"))
gauge("portal_services", "Active services by health",
      lambda s, now, c: s.execute(select(Service.health, func.count()).where(Service.status == "active")
                                  .group_by(Service.health)), labels=("health",))
gauge("portal_services_due", "Active services due for a check now",
      lambda s, now, c: s.execute(select(func.count()).select_from(Service).where(*_due(now))).scalar_one())
gauge("portal_sweep_lag_seconds", "How long the longest-waiting due service has been due", _sweep_lag)
gauge("portal_last_sweep_duration_seconds", "Duration of the last finished sweep", _sweep_duration)
gauge("portal_last_sweep_age_seconds", "Seconds since the last sweep's last sign of life",
      lambda s, now, c: _age(now, sweep.beat_at) if (sweep := _sweep(s)) else None)
gauge("portal_last_sweep_checked", "Services checked by the last finished sweep",
      lambda s, now, c: sweep.checked if (sweep := _sweep(s)) else None)
gauge("portal_scheduler_heartbeat_age_seconds", "Seconds since the scheduler's last heartbeat",
      lambda s, now, c: _age(now, beat.beat_at) if (beat := s.get(Heartbeat, SCHEDULER)) else None)
gauge("portal_alerts", "Alert events by delivery status (failed: gave up after the last attempt)", _alerts,
      labels=("status",))
gauge("portal_checks_inferred_recent", "Failures inferred from their host without a request, in the recent window",
      lambda s, now, c: s.execute(select(func.count()).select_from(Check)
                                  .where(Check.checked_at >= now - _window(c), Check.inferred)).scalar_one())
gauge("portal_sweep_hosts_throttled_recent", "Hosts that throttled a sweep (429/503), summed over the recent window",
      lambda s, now, c: s.execute(select(func.coalesce(func.sum(SweepRun.throttled_hosts), 0))
                                  .where(SweepRun.started_at >= now - _window(c))).scalar_one())
gauge("portal_monitor_faults", "Monitor faults (the monitor could not reach the network), all time",
      lambda s, now, c: s.execute(select(func.count()).select_from(MonitorFault)).scalar_one())
gauge("portal_monitor_fault_open", "1 while a monitor fault is going on",
      lambda s, now, c: s.execute(select(func.count()).select_from(MonitorFault)
                                  .where(MonitorFault.ended_at.is_(None))).scalar_one())


class _Collector:
    def __init__(self, session: Session, config: Mapping[str, Any], now: datetime) -> None:
        self.session, self.config, self.now = session, config, now

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for item in GAUGES:
            yield item.family(self.session, self.now, self.config)


def metrics_text(session: Session, config: Mapping[str, Any], now: datetime | None = None) -> bytes:
    """The Prometheus text exposition of every gauge, computed now from the database."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(session, config, now or utcnow()))
    return generate_latest(registry)

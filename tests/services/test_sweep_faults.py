"""Inferred host failures and monitor faults in sweeps: what moves, what is stored, who is told, what pages say."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.crawlers.checker import CheckResult
from portal.models import AlertEvent, Check, Incident, MonitorFault, Service, SweepRun, User
from portal.services import alerts, availability, monitor, sweeps
from tests.monitoring_helpers import make_agency

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SETTINGS = monitor.MonitorSettings(jitter=0)


def count(db, model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def farm(db, hosts: int, per_host: int = 2) -> list[Service]:
    agency = make_agency(db.session)
    services = [Service(agency_id=agency.id, name=f"Dịch vụ {h}-{i}", level=3, url=f"https://h{h}.example.gov.vn/{i}",
                        health="up", health_since=T0 - timedelta(days=1))
                for h in range(hosts) for i in range(per_host)]
    db.session.add_all(services)
    db.session.commit()
    return services


def more_services(db, agency_id: int, urls: list[str]) -> list[Service]:
    services = [Service(agency_id=agency_id, name=f"Dịch vụ thêm {n}", level=3, url=url, health="up",
                        health_since=T0 - timedelta(days=1)) for n, url in enumerate(urls)]
    db.session.add_all(services)
    db.session.commit()
    return services


class Scripted:
    """A checker answering `answer(url)`; records what it was asked."""

    def __init__(self, answer):
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, urls):
        for url in urls:
            self.asked.append(url)
            yield self.answer(url)


def ok(url):
    return CheckResult(url, "up", "ok", 200, 80, url)


def no_dns(url):
    return CheckResult(url, "down", "dns_error", None, 5, None, "Name or service not known")


def test_an_inferred_failure_is_a_first_failure_only(db):
    (service,) = farm(db, 1, 1)
    inferred = dataclasses.replace(no_dns(service.url), inferred=True)
    for minute in (0, 2, 4):
        assert monitor.record_result(db.session, service, inferred, T0 + timedelta(minutes=minute),
                                     settings=SETTINGS) is None
        assert (service.health, service.consecutive_failures) == ("up", 1)
        assert service.next_check_at == T0 + timedelta(minutes=minute + 2)  # confirmed soon by its own check
    assert count(db, Incident) == 0
    assert count(db, Check, Check.inferred.is_(True)) == 3
    event = monitor.record_result(db.session, service, no_dns(service.url), T0 + timedelta(minutes=6),
                                  settings=SETTINGS)
    assert service.health == "down" and event.kind == "down" and count(db, Incident) == 1


def test_network_failures_on_most_hosts_are_a_monitor_fault(db, client):
    services = farm(db, 12)
    db.session.add_all([User(email="admin@example.vn", role="admin", password_hash="x"),
                        User(email="officer@example.vn", role="officer", password_hash="x",
                             agency_id=services[0].agency_id)])
    db.session.commit()
    report = sweeps.run_sweep(db.session, Scripted(no_dns), settings=SETTINGS, clock=lambda: T0)
    assert report.checked == 24 and report.monitor_fault is not None
    fault = db.session.get(MonitorFault, report.monitor_fault)
    assert (fault.reason, fault.hosts, fault.failed_hosts, fault.ended_at) == ("network", 12, 12, None)
    db.session.expire_all()
    assert {(s.health, s.consecutive_failures) for s in db.session.execute(select(Service)).scalars()} == {("up", 0)}
    assert count(db, Incident) == 0 and count(db, AlertEvent) == 0
    assert count(db, Check, Check.monitor_fault_id == fault.id) == 24
    assert all(s.next_check_at == T0 + SETTINGS.rules.recheck_after
               for s in db.session.execute(select(Service)).scalars())
    assert db.session.execute(select(SweepRun.monitor_fault_id)).scalar_one() == fault.id
    # uptime figures leave the fault out
    assert availability.uptime_summary(db.session, services[0], T0 + timedelta(minutes=1))["24h"] is None
    # one operator alert, to administrators only
    sent = []
    settings = alerts.AlertSettings(smtp_host="smtp.invalid")
    assert alerts.deliver_monitor_faults(db.session, settings, now=T0, mailer=lambda mails, s: sent.extend(mails)) == 1
    assert alerts.deliver_monitor_faults(db.session, settings, now=T0, mailer=lambda mails, s: sent.extend(mails)) == 0
    assert [m.to for m in sent] == [["admin@example.vn"]] and "Giám sát gián đoạn" in sent[0].subject
    # the public pages say so (10:00 in Vietnam)
    for path in ("/status", f"/services/{services[0].id}"):
        text = client.get(path).get_data(as_text=True)
        assert "giám sát gián đoạn từ 10:00" in text
    # the network is back: the fault ends, services move again
    later = T0 + timedelta(minutes=3)
    report = sweeps.run_sweep(db.session, Scripted(ok), settings=SETTINGS, clock=lambda: later)
    assert report.checked == 24 and report.monitor_fault is None
    db.session.expire_all()
    assert db.session.get(MonitorFault, fault.id).ended_at == later
    assert "giám sát gián đoạn từ" not in client.get("/status").get_data(as_text=True)


def test_failing_canaries_make_a_fault_even_on_few_hosts(db):
    farm(db, 2)
    canary = "https://canary.example.net/"
    checker = Scripted(no_dns)
    settings = dataclasses.replace(SETTINGS, canaries=(canary,))
    report = sweeps.run_sweep(db.session, checker, settings=settings, clock=lambda: T0)
    assert checker.asked[0] == canary and report.monitor_fault is not None
    assert db.session.get(MonitorFault, report.monitor_fault).reason == "canaries"
    assert count(db, Incident) == 0 and count(db, Check, Check.monitor_fault_id.is_(None)) == 0


def test_few_hosts_failing_without_canaries_are_ordinary_failures(db):
    farm(db, 3)
    report = sweeps.run_sweep(db.session, Scripted(no_dns), settings=SETTINGS, clock=lambda: T0)
    assert report.monitor_fault is None and count(db, MonitorFault) == 0
    db.session.expire_all()
    assert {s.consecutive_failures for s in db.session.execute(select(Service)).scalars()} == {1}


def test_a_few_dead_hosts_among_many_are_not_a_fault(db):
    farm(db, 12)

    def answer(url):
        return no_dns(url) if url.startswith(("https://h0.", "https://h1.")) else ok(url)

    report = sweeps.run_sweep(db.session, Scripted(answer), settings=SETTINGS, clock=lambda: T0)
    assert report.monitor_fault is None
    assert count(db, Check, Check.monitor_fault_id.is_not(None)) == 0
    db.session.expire_all()
    assert sum(s.consecutive_failures for s in db.session.execute(select(Service)).scalars()) == 4


def test_a_cancelled_sweep_releases_its_claims_at_once(db):
    farm(db, 1, 6)

    def interrupted(urls):
        for n, url in enumerate(urls):
            if n == 2:
                raise KeyboardInterrupt
            yield ok(url)

    with pytest.raises(KeyboardInterrupt):
        sweeps.run_sweep(db.session, interrupted, settings=SETTINGS, clock=lambda: T0)
    db.session.expire_all()
    due = [s for s in db.session.execute(select(Service)).scalars() if s.next_check_at <= T0]
    assert len(due) == 4 and count(db, Check) == 2


class RoundRobin(Scripted):
    """Answers the URLs host by host in rounds (one URL of each host per round), as the per-host engine
    interleaves hosts; `answer(url, round)`."""

    def __call__(self, urls):
        by_host: dict[str, list[str]] = {}
        for url in urls:
            by_host.setdefault(sweeps.host_of(url), []).append(url)
        for round_ in range(max(len(u) for u in by_host.values())):
            for host_urls in by_host.values():
                if round_ < len(host_urls):
                    self.asked.append(host_urls[round_])
                    yield self.answer(host_urls[round_], round_)


def test_the_network_lost_mid_sweep_is_a_monitor_fault_from_then_on(db):
    farm(db, 12, 6)
    checker = RoundRobin(lambda url, round_: ok(url) if round_ < 4 else no_dns(url))
    report = sweeps.run_sweep(db.session, checker, settings=SETTINGS, clock=lambda: T0)
    assert report.checked == 72 and report.monitor_fault is not None
    fault = db.session.get(MonitorFault, report.monitor_fault)
    assert fault.reason == "network" and "had answered in this sweep" in fault.detail and fault.ended_at is None
    assert count(db, Check, Check.monitor_fault_id == fault.id) == 24  # rounds 5 and 6
    assert count(db, Check, Check.monitor_fault_id.is_(None), Check.outcome == "up") == 48
    db.session.expire_all()
    assert {(s.health, s.consecutive_failures) for s in db.session.execute(select(Service)).scalars()} == {("up", 0)}
    assert count(db, Incident) == 0


def test_dead_hosts_left_at_the_end_of_a_sweep_are_not_a_fault(db):
    services = farm(db, 12, 4)
    dead = more_services(db, services[0].agency_id, [f"https://dead{n // 2}.example.gov.vn/{n}" for n in range(20)])
    dead_urls = {s.url for s in dead}

    def answer(url, round_):
        return no_dns(url) if url in dead_urls else ok(url)

    report = sweeps.run_sweep(db.session, RoundRobin(answer), settings=SETTINGS, clock=lambda: T0)
    assert report.checked == len(services) + len(dead) and report.monitor_fault is None
    assert count(db, MonitorFault) == 0
    db.session.expire_all()
    assert {db.session.get(Service, s.id).consecutive_failures for s in dead} == {1}


def test_a_fault_ends_mid_sweep_when_the_network_is_back(db):
    farm(db, 12, 6)

    def answer(url, round_):
        if round_ < 2:
            return no_dns(url)
        return no_dns(url) if round_ == 5 and "//h0." in url else ok(url)

    report = sweeps.run_sweep(db.session, RoundRobin(answer), settings=SETTINGS, clock=lambda: T0)
    (fault,) = db.session.execute(select(MonitorFault)).scalars()
    assert fault.ended_at == T0 and report.monitor_fault == fault.id  # the sweep saw it, though it is over
    assert db.session.execute(select(SweepRun.monitor_fault_id)).scalar_one() == fault.id
    assert count(db, Check, Check.monitor_fault_id == fault.id) == 24  # rounds 1 and 2
    db.session.expire_all()
    failing = [s for s in db.session.execute(select(Service)).scalars() if s.consecutive_failures]
    assert [s.url for s in failing] == ["https://h0.example.gov.vn/5"]  # a failure after the fault is an agency's


def test_canaries_judge_failures_no_window_could_judge(db):
    services = farm(db, 12, 3)
    more_services(db, services[0].agency_id, [f"https://h{n % 3}.example.gov.vn/extra{n}" for n in range(15)])
    canary = "https://canary.example.net/"
    asked_canary = []

    def answer(url, round_):
        if url == canary:
            asked_canary.append(url)
            return ok(url) if len(asked_canary) == 1 else no_dns(url)  # reachable before the sweep, not after
        return ok(url) if round_ < 3 else no_dns(url)  # lost while only three hosts had URLs left

    settings = dataclasses.replace(SETTINGS, canaries=(canary,))
    report = sweeps.run_sweep(db.session, RoundRobin(answer), settings=settings, clock=lambda: T0)
    assert len(asked_canary) == 2 and report.monitor_fault is not None
    assert db.session.get(MonitorFault, report.monitor_fault).reason == "canaries"
    assert count(db, Check, Check.monitor_fault_id.is_not(None)) == 15
    db.session.expire_all()
    assert {s.consecutive_failures for s in db.session.execute(select(Service)).scalars()} == {0}

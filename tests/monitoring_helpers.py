"""Shared helpers of the monitoring tests: agencies, services and fake checkers (no network)."""

from __future__ import annotations

from portal.crawlers.checker import CheckResult
from portal.models import Agency, Service

REASON_OUTCOMES = {"ok": "up", "slow": "degraded", "challenge": "degraded", "timeout": "down",
                   "http_error": "down", "dns_error": "down"}


def make_agency(session, code="tinh-thu", name="Tỉnh Thử", kind="province", interval=60, parent=None) -> Agency:
    agency = Agency(code=code, name=name, kind=kind, check_interval_minutes=interval, parent=parent)
    session.add(agency)
    session.commit()
    return agency


def make_services(session, agency, n, prefix="https://dv.example.gov.vn/s") -> list[Service]:
    services = [Service(agency_id=agency.id, name=f"Dịch vụ {i}", level=3 + i % 2, url=f"{prefix}{i}")
                for i in range(n)]
    session.add_all(services)
    session.commit()
    return services


def result(url: str, reason: str = "ok", elapsed_ms: int = 120, status: int | None = 200) -> CheckResult:
    return CheckResult(url, REASON_OUTCOMES[reason], reason, status, elapsed_ms, url)


class FakeChecker:
    """Answers `reason_for(url)` for every URL and remembers what it was asked."""

    def __init__(self, reason_for=lambda url: "ok", raise_for=()):
        self.reason_for = reason_for
        self.raise_for = set(raise_for)
        self.calls: list[list[str]] = []

    def __call__(self, urls):
        self.calls.append(list(urls))
        for url in self.calls[-1]:
            if url in self.raise_for:
                raise RuntimeError(f"checker exploded on {url}")
            yield result(url, self.reason_for(url))

    @property
    def checked(self) -> list[str]:
        return [url for call in self.calls for url in call]

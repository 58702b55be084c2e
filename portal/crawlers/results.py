"""What the checker is configured with and what it answers (CheckerConfig, CheckResult, FetchResult), without
aiohttp: the process that only routes URLs to check workers (portal.crawlers.shard) imports no HTTP client."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from portal.vocabulary import REASON_OUTCOMES

DEFAULT_USER_AGENT = "CongDichVuCongBot/0.1 (+https://dichvucong.example/about/crawler)"
_TRUTHY = frozenset({"1", "true", "yes", "on"})
CLIENTS = ("lean", "aiohttp")

T = TypeVar("T")


@dataclass
class CheckerConfig:
    """Limits and politeness settings of the checker; times in seconds except `slow_ms`."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = 20.0
    slow_ms: int = 3000
    concurrency: int = 100
    per_host: int = 4
    max_redirects: int = 5
    max_body: int = 1_000_000
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    ca_file: str | None = None
    retry_after_max: float = 10.0
    host_failures: int = 3
    window: int = 50_000
    processes: int = field(default_factory=lambda: default_processes())
    client: str = "lean"

    @classmethod
    def from_env(cls, environ: Mapping[str, Any]) -> CheckerConfig:
        """Read the PORTAL_CHECK_* (PORTAL_CHECK_CLIENT: lean or aiohttp), PORTAL_ALLOW_PRIVATE_ADDRESSES and
        PORTAL_CONTACT_URL settings from a mapping: the environment's strings, or the application's settings
        (numbers; None for unset)."""
        config = cls()
        numbers: dict[str, tuple[str, Callable[[str], Any]]] = {
            "PORTAL_CHECK_CONCURRENCY": ("concurrency", int),
            "PORTAL_CHECK_PER_HOST": ("per_host", int),
            "PORTAL_CHECK_CONNECT_TIMEOUT": ("connect_timeout", float),
            "PORTAL_CHECK_READ_TIMEOUT": ("read_timeout", float),
            "PORTAL_CHECK_DEADLINE": ("deadline", float),
            "PORTAL_CHECK_SLOW_MS": ("slow_ms", int),
            "PORTAL_CHECK_RETRY_AFTER_MAX": ("retry_after_max", float),
            "PORTAL_CHECK_HOST_FAILURES": ("host_failures", int),
            "PORTAL_CHECK_WINDOW": ("window", int),
            "PORTAL_CHECK_PROCESSES": ("processes", int),
        }
        for variable, (attribute, convert) in numbers.items():
            raw = str(environ.get(variable) or "").strip()
            if not raw:
                continue
            try:
                value = convert(raw)
            except ValueError as exc:
                raise ValueError(f"{variable}={raw!r} is not a number") from exc
            if value <= 0:
                raise ValueError(f"{variable} must be positive, got {raw!r}")
            setattr(config, attribute, value)
        client = str(environ.get("PORTAL_CHECK_CLIENT") or "").strip().lower()
        if client:
            if client not in CLIENTS:
                raise ValueError(f"PORTAL_CHECK_CLIENT={client!r} is not one of {', '.join(CLIENTS)}")
            config.client = client
        allow = str(environ.get("PORTAL_ALLOW_PRIVATE_ADDRESSES") or "").strip().lower()
        config.allow_private = allow in _TRUTHY
        contact = str(environ.get("PORTAL_CONTACT_URL") or "").strip()
        if contact:
            config.user_agent = f"{DEFAULT_USER_AGENT.split(' ')[0]} (+{contact})"
        return config


def default_processes() -> int:
    """Check worker processes when PORTAL_CHECK_PROCESSES is unset: the machine's CPUs, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass
class CheckResult:
    url: str
    outcome: str
    reason: str
    http_status: int | None
    elapsed_ms: int
    final_url: str | None
    detail: str | None = None
    inferred: bool = False
    retry_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of `portal check --json` (the CLI contract), without `detail`."""
        return {
            "url": self.url,
            "outcome": self.outcome,
            "reason": self.reason,
            "http_status": self.http_status,
            "elapsed_ms": self.elapsed_ms,
            "final_url": self.final_url,
        }


@dataclass
class FetchResult:
    url: str
    final_url: str | None
    http_status: int | None
    content_type: str | None
    body: bytes
    text: str | None
    encoding: str | None
    check: CheckResult
    headers: Mapping[str, str] = field(default_factory=dict)
    host_fault: bool = False


Lookup = Callable[[str, int, int], list[Any]]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _result(
    url: str,
    reason: str,
    started: float,
    status: int | None = None,
    final_url: str | None = None,
    detail: str | None = None,
) -> CheckResult:
    return CheckResult(url, REASON_OUTCOMES[reason], reason, status, _ms(started), final_url, detail)


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a new event loop: uvloop's where it is installed, asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)

"""Checks scheduled per host: a bounded window of the input, a queue per host, round-robin over hosts with a free
slot, Retry-After waits, adaptive per-host limits and host-wide failures inferred (`check_many`, `check_urls`;
`fetch_pages` for whole pages)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from portal.crawlers.guard import GuardError, Target, parse_target
from portal.crawlers.results import CheckerConfig, CheckResult, FetchResult, Lookup, _result, run_loop

if TYPE_CHECKING:
    from portal.crawlers.checker import Checker

T = TypeVar("T")


@dataclass
class SweepCounters:
    """What the engine did besides checking: hosts it waited for, checks it inferred, hosts it gave up on."""

    throttled_hosts: set[str] = field(default_factory=set)
    retried: int = 0
    inferred: int = 0
    failed_hosts: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class _Host:
    name: str
    limit: float
    queue: collections.deque[tuple[str, Target, int]] = field(default_factory=collections.deque)
    busy: int = 0
    not_before: float = 0.0
    failures: int = 0
    failed: CheckResult | None = None
    runnable: bool = False

    @property
    def slots(self) -> int:
        return max(1, int(self.limit))


_SLOWING = frozenset({"timeout", "connection_error", "rate_limited", "slow"})


class _Dispatcher:
    """Per-host queues fed from a bounded window of the input, started round-robin on hosts with a free slot.

    The global limit counts checks in flight only; a host adapts its own limit between 1 and `per_host`
    (halved when its answers slow down or fail, grown by one per window of good answers), waits out a
    `Retry-After`, and after `host_failures` host-wide failures in a row its remaining URLs are inferred."""

    def __init__(self, checker: Checker, urls: Iterable[str], counters: SweepCounters, *,
                 full_text: bool = False) -> None:
        self.checker = checker
        self.full_text = full_text
        self.cfg = checker.config
        self.source = iter(urls)
        self.counters = counters
        self.hosts: dict[tuple[str, int], _Host] = {}
        self.runnable: collections.deque[_Host] = collections.deque()
        self.waiting: set[_Host] = set()
        self.results: collections.deque[Any] = collections.deque()
        self.tasks: set[asyncio.Future[Any]] = set()
        self.reader: asyncio.Future[list[str]] | None = None
        self.done: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.wake: asyncio.Future[None] | None = None
        self.exhausted = False
        self.queued = 0
        self.hosts_with_work = 0

    def _wants_input(self) -> bool:
        if self.exhausted or self.reader is not None or self.queued >= self.cfg.window:
            return False
        target = 2 * self.cfg.concurrency
        return self.queued < target or self.hosts_with_work * self.cfg.per_host < target

    def _read(self) -> list[str]:
        return list(itertools.islice(self.source, 512))

    def _take(self, batch: list[str]) -> None:
        if not batch:
            self.exhausted = True
            return
        allow = self.cfg.allow_private
        for url in batch:
            try:
                target = parse_target(url, allow)
            except GuardError as exc:
                self._answer(_result(url, exc.reason, time.monotonic(), detail=str(exc)))
                continue
            key = (target.host, target.port)
            host = self.hosts.get(key)
            if host is None:
                name = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
                host = self.hosts[key] = _Host(name, float(self.cfg.per_host))
            if host.failed is not None:
                self._answer(self._inferred(host, url))
                continue
            if not host.queue:
                self.hosts_with_work += 1
            host.queue.append((url, target, 0))
            self.queued += 1
            self._wake(host)

    def _inferred(self, host: _Host, url: str) -> CheckResult:
        self.counters.inferred += 1
        first = host.failed
        assert first is not None  # noqa: S101 - only called for failed hosts
        detail = (f"inferred from host {host.name}: still refused after its Retry-After wait"
                  if first.reason == "rate_limited"
                  else f"inferred from host {host.name}: {self.cfg.host_failures} host-wide failures in a row")
        return CheckResult(url, first.outcome, first.reason, None, 0, None, detail, inferred=True)

    def _give_up(self, host: _Host, result: CheckResult) -> None:
        """The host's remaining URLs get `result`'s verdict without a request."""
        host.failed = result
        if host.queue:
            self.hosts_with_work -= 1
        while host.queue:
            self._answer(self._inferred(host, host.queue.popleft()[0]))
            self.queued -= 1

    def _answer(self, result: CheckResult) -> None:
        """A verdict reached without a request (refused address, inferred from its host)."""
        self.results.append(FetchResult(result.url, None, None, None, b"", None, None, result)
                            if self.full_text else result)

    def _wake(self, host: _Host, now: float | None = None) -> None:
        if host.runnable or not host.queue or host.busy >= host.slots:
            return
        if host.not_before > (time.monotonic() if now is None else now):
            self.waiting.add(host)
            return
        host.runnable = True
        self.runnable.append(host)

    def _dispatch(self) -> None:
        now = time.monotonic()
        for host in [h for h in self.waiting if h.not_before <= now]:
            self.waiting.discard(host)
            self._wake(host, now)
        while self.runnable and len(self.tasks) < self.cfg.concurrency:
            host = self.runnable.popleft()
            host.runnable = False
            if not host.queue or host.busy >= host.slots:
                continue
            url, target, attempt = host.queue.popleft()
            self.queued -= 1
            if not host.queue:
                self.hosts_with_work -= 1
            host.busy += 1
            task = asyncio.ensure_future(self.checker._run(url, full_text=self.full_text, limited=False,
                                                           target=target))
            task.host, task.target, task.attempt = host, target, attempt  # type: ignore[attr-defined]
            task.add_done_callback(self._done)
            self.tasks.add(task)
            self._wake(host, now)

    def _finished(self, task: asyncio.Future[FetchResult]) -> None:
        host: _Host = task.host  # type: ignore[attr-defined]
        attempt: int = task.attempt  # type: ignore[attr-defined]
        host.busy -= 1
        fetched = task.result()
        result = fetched.check
        cfg = self.cfg
        wait = result.retry_after
        if wait is not None and attempt == 0 and wait <= cfg.retry_after_max:
            self.counters.throttled_hosts.add(host.name)
            self.counters.retried += 1
            host.not_before = max(host.not_before, time.monotonic() + wait)
            host.limit = max(1.0, host.limit / 2)
            if not host.queue:
                self.hosts_with_work += 1
            host.queue.appendleft((result.url, task.target, attempt + 1))  # type: ignore[attr-defined]
            self.queued += 1
            self._wake(host)
            return
        if fetched.host_fault:
            host.failures += 1
            host.limit = max(1.0, host.limit / 2)
            if cfg.host_failures and host.failures >= cfg.host_failures and host.failed is None:
                self.counters.failed_hosts[host.name] = result.reason
                self._give_up(host, result)
        elif result.reason == "rate_limited" and attempt and cfg.host_failures and host.failed is None:
            self._give_up(host, result)  # still refused after waiting: the rest would only wait again
        else:
            host.failures = 0
            if result.reason in _SLOWING or (result.http_status or 0) >= 500:
                host.limit = max(1.0, host.limit / 2)
                if result.reason == "rate_limited":
                    self.counters.throttled_hosts.add(host.name)
            else:
                host.limit = min(float(cfg.per_host), host.limit + 1 / host.limit)
        self.results.append(fetched if self.full_text else result)
        self._wake(host)

    def _done(self, future: asyncio.Future[Any]) -> None:
        self.done.append(future)
        self._signal()

    def _signal(self) -> None:
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)

    async def run(self) -> AsyncIterator[Any]:
        """Each finished check costs O(1): its task reports through a done-callback and one wake-up future."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                while self.done:
                    future = self.done.popleft()
                    if future is self.reader:
                        self.reader = None
                        self._take(future.result())
                    elif future in self.tasks:
                        self.tasks.discard(future)
                        self._finished(future)
                if self._wants_input():
                    self.reader = loop.run_in_executor(None, self._read)
                    self.reader.add_done_callback(self._done)
                self._dispatch()
                while self.results:
                    yield self.results.popleft()
                if self.exhausted and not self.tasks and not self.queued and self.reader is None:
                    return
                if self.done:
                    continue
                timer = None
                if self.waiting:
                    delay = max(0.0, min(h.not_before for h in self.waiting) - time.monotonic())
                    timer = loop.call_later(delay, self._signal)
                self.wake = loop.create_future()
                try:
                    await self.wake
                finally:
                    self.wake = None
                    if timer is not None:
                        timer.cancel()
        finally:
            pending = [*self.tasks, *([self.reader] if self.reader is not None else [])]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


async def check_many(
    urls: Iterable[str],
    config: CheckerConfig | None = None,
    *,
    counters: SweepCounters | None = None,
    lookup: Lookup | None = None,
) -> AsyncIterator[CheckResult]:
    """Check URLs host by host (see _Dispatcher), yielding results in completion order (memory stays flat).

    With `config.processes` above 1 (and no test `lookup`) the hosts are shared out to worker processes
    (portal.crawlers.shard) once the input reaches its SHARD_MIN_URLS."""
    if config is not None and config.processes > 1 and lookup is None:
        from portal.crawlers.shard import check_sharded

        async for result in check_sharded(urls, config, counters):
            yield result
        return
    from portal.crawlers.checker import Checker  # aiohttp: only where checks run

    async with Checker(config, lookup=lookup) as checker:
        async for result in _Dispatcher(checker, urls, counters or SweepCounters()).run():
            yield result


_END = object()


def check_urls(
    urls: Iterable[str],
    config: CheckerConfig | None = None,
    *,
    counters: SweepCounters | None = None,
    lookup: Lookup | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[CheckResult]:
    """Synchronous check_many: an event loop runs in a thread and results are yielded as they arrive.
    Setting `cancel` stops the checks in flight within a tenth of a second and ends the results."""
    return _flat(check_url_batches(urls, config, counters=counters, lookup=lookup, cancel=cancel))


def check_url_batches(
    urls: Iterable[str],
    config: CheckerConfig | None = None,
    *,
    counters: SweepCounters | None = None,
    lookup: Lookup | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[list[CheckResult]]:
    """check_urls in the lists that cross from the event loop's thread: the results of one turn of its loop."""
    return _threaded(lambda: check_many(urls, config, counters=counters, lookup=lookup), cancel, hold=1000, depth=64)


async def fetch_many(
    urls: Iterable[str],
    config: CheckerConfig | None = None,
    *,
    counters: SweepCounters | None = None,
    lookup: Lookup | None = None,
) -> AsyncIterator[FetchResult]:
    """Fetch whole pages host by host (the same _Dispatcher as check_many, in this process), yielding each
    FetchResult as it completes; a refused or inferred URL comes back with an empty body and its verdict."""
    from portal.crawlers.checker import Checker

    async with Checker(config, lookup=lookup) as checker:
        async for fetched in _Dispatcher(checker, urls, counters or SweepCounters(), full_text=True).run():
            yield fetched


def fetch_pages(
    urls: Iterable[str],
    config: CheckerConfig | None = None,
    *,
    counters: SweepCounters | None = None,
    lookup: Lookup | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[FetchResult]:
    """Synchronous fetch_many. Pages can weigh up to `max_body` each, so only a few finished ones wait for
    the caller at any time: the engine pauses while they do."""
    return _flat(_threaded(lambda: fetch_many(urls, config, counters=counters, lookup=lookup), cancel, hold=8, depth=2))


def _flat(batches: Iterator[list[T]]) -> Iterator[T]:
    with contextlib.closing(batches):
        for batch in batches:
            yield from batch


def _threaded(results_of: Callable[[], AsyncIterator[T]], cancel: threading.Event | None, *, hold: int,
              depth: int) -> Iterator[list[T]]:
    """Run an async iterator on an event loop in a thread; its items cross to the caller's thread in lists (the
    items of one turn of the loop). The iterator pauses while `hold` items wait for a full queue of `depth`
    lists; setting `cancel` stops it within a tenth of a second."""
    results: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    async def pump() -> None:
        loop = asyncio.get_running_loop()
        batch: list[T] = []

        def hand_over() -> None:
            if not batch:
                return
            try:
                results.put_nowait(batch[:])
            except queue.Full:
                loop.call_later(0.005, hand_over)
                return
            batch.clear()

        async for result in results_of():
            if not batch:
                loop.call_soon(hand_over)
            batch.append(result)
            while len(batch) >= hold:
                await asyncio.sleep(0.005)
        while batch:
            hand_over()
            if batch:
                await asyncio.sleep(0.005)

    async def main() -> None:
        task = asyncio.ensure_future(pump())
        while not task.done():
            await asyncio.wait({task}, timeout=0.1)
            if stop.is_set() or (cancel is not None and cancel.is_set()):
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def run() -> None:
        outcome: Any = _END
        try:
            run_loop(main())
        except BaseException as exc:
            outcome = exc
        while not stop.is_set():
            try:
                results.put(outcome, timeout=0.1)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=run, name="portal-check", daemon=True)
    thread.start()
    try:
        while True:
            item = results.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)

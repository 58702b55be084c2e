"""Checks spread over worker processes (`check_sharded`): each host is owned by one worker, so its per-host limit
and politeness stay exact; URLs go to their host's worker through a pipe and results stream back as JSON lines.

A worker is `python -m portal.crawlers.shard`: its first input line is the checker configuration, then one URL a
line until end of input; it writes one result a line and, last, its counters. The parent kills its workers
when the checks end early (cancelled, or the consumer stopped), and a worker that ends without its last line
is a CheckWorkerError, not a hang."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import itertools
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from portal.crawlers.dispatch import SweepCounters, check_many
from portal.crawlers.guard import GuardError, parse_target
from portal.crawlers.results import CheckerConfig, CheckResult, _result, run_loop

# Below this many URLs the checks run in the calling process: starting workers would cost more than it saves.
SHARD_MIN_URLS = 1000
_BATCH = 512
_RESULTS_BUFFERED = 2000
_ROOT = str(Path(__file__).resolve().parent.parent.parent)
# The worker's command line after the interpreter (tests put a failing one here).
WORKER_ARGS: tuple[str, ...] = ("-m", "portal.crawlers.shard")


class CheckWorkerError(RuntimeError):
    """A check worker process ended before answering every URL it was given."""


def _take(source: Iterator[str], count: int) -> list[str]:
    return list(itertools.islice(source, count))


def _row(result: CheckResult) -> list[Any]:
    return [result.url, result.outcome, result.reason, result.http_status, result.elapsed_ms, result.final_url,
            result.detail, result.inferred, result.retry_after]


def _merge(counters: SweepCounters, data: dict[str, Any]) -> None:
    counters.throttled_hosts.update(data["throttled_hosts"])
    counters.retried += data["retried"]
    counters.inferred += data["inferred"]
    counters.failed_hosts.update(data["failed_hosts"])


@dataclasses.dataclass(eq=False)
class _Worker:
    number: int
    process: asyncio.subprocess.Process
    finished: bool = False


async def check_sharded(
    urls: Iterable[str], config: CheckerConfig, counters: SweepCounters | None = None
) -> AsyncIterator[CheckResult]:
    """check_many over `config.processes` worker processes, hosts assigned to workers in turn as they first
    appear; in this process when the input has fewer than SHARD_MIN_URLS URLs."""
    loop = asyncio.get_running_loop()
    counters = counters if counters is not None else SweepCounters()
    source = iter(urls)
    head = await loop.run_in_executor(None, _take, source, SHARD_MIN_URLS)
    processes = min(config.processes, config.concurrency)
    if processes <= 1 or len(head) < SHARD_MIN_URLS:
        async for result in check_many(itertools.chain(head, source), dataclasses.replace(config, processes=1),
                                       counters=counters):
            yield result
        return
    source = itertools.chain(head, source)
    share, spare = divmod(config.concurrency, processes)  # the global limit stays exact

    def setup(number: int) -> bytes:
        own = dataclasses.replace(config, processes=1, concurrency=share + (number < spare),
                                  window=-(-config.window // processes))
        return (json.dumps(dataclasses.asdict(own)) + "\n").encode()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(_RESULTS_BUFFERED)
    workers: list[_Worker] = []
    tasks: list[asyncio.Future[None]] = []

    async def send(worker: _Worker, data: bytes | None) -> bool:
        """Write to a worker (None: end its input); False when it is gone (its reader reports that)."""
        stdin = worker.process.stdin
        assert stdin is not None  # noqa: S101 - opened with a pipe
        try:
            if data is None:
                stdin.close()
            else:
                stdin.write(data)
                await stdin.drain()
        except Exception:  # noqa: BLE001 - a broken pipe or a closed transport, whichever the loop raises
            return False
        return True

    async def feed() -> None:
        owners: dict[tuple[str, int], _Worker] = {}
        allow = config.allow_private
        try:
            while True:
                batch = await loop.run_in_executor(None, _take, source, _BATCH)
                if not batch:
                    break
                lines: dict[_Worker, list[str]] = {}
                for url in batch:
                    try:
                        target = parse_target(url, allow)
                    except GuardError as exc:
                        await queue.put(("result", _result(url, exc.reason, time.monotonic(), detail=str(exc))))
                        continue
                    key = (target.host, target.port)
                    owner = owners.get(key)
                    if owner is None:
                        owner = owners[key] = workers[len(owners) % len(workers)]
                    lines.setdefault(owner, []).append(json.dumps(url) + "\n")
                for owner, chunk in lines.items():
                    if not await send(owner, "".join(chunk).encode()):
                        return
        except Exception as exc:  # noqa: BLE001 - the input failed: handed to the consumer
            await queue.put(("error", exc))
            return
        for worker in workers:
            await send(worker, None)

    async def read(worker: _Worker) -> None:
        stdout = worker.process.stdout
        assert stdout is not None  # noqa: S101 - opened with a pipe
        problem = ""
        try:
            while True:
                line = await stdout.readline()
                if not line.endswith(b"\n"):
                    break  # end of output, or a line cut short by the worker's end
                data = json.loads(line)
                if isinstance(data, list):
                    await queue.put(("result", CheckResult(*data)))
                else:
                    _merge(counters, data)
                    worker.finished = True
        except (ValueError, TypeError, KeyError) as exc:
            problem = f"; its output could not be read ({type(exc).__name__}: {exc})"
            worker.process.kill()
        status = await worker.process.wait()
        if worker.finished and not problem:
            await queue.put(("done", worker))
        else:
            await queue.put(("error", CheckWorkerError(
                f"check worker process {worker.number} (pid {worker.process.pid}) exited with status {status} "
                f"before answering all its URLs{problem}")))

    try:
        for number in range(processes):
            process = await asyncio.create_subprocess_exec(
                sys.executable, *WORKER_ARGS, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, env=env, limit=1 << 20)
            assert process.stdin is not None  # noqa: S101 - opened with a pipe
            process.stdin.write(setup(number))
            workers.append(_Worker(number, process))
        tasks.append(asyncio.ensure_future(feed()))
        tasks.extend(asyncio.ensure_future(read(worker)) for worker in workers)
        finished = 0
        while finished < len(workers):
            kind, value = await queue.get()
            if kind == "result":
                yield value
            elif kind == "done":
                finished += 1
            else:
                raise value
    finally:
        for task in tasks:
            task.cancel()
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.kill()
        for worker in workers:
            await worker.process.wait()
        await asyncio.gather(*tasks, return_exceptions=True)


def _input() -> Iterator[str]:
    for line in sys.stdin:
        yield json.loads(line)


async def _work(config: CheckerConfig) -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout.buffer)
    out = asyncio.StreamWriter(transport, protocol, None, loop)
    pending: list[str] = []

    def flush() -> None:
        if pending:
            out.write("".join(pending).encode())
            pending.clear()

    counters = SweepCounters()
    async for result in check_many(_input(), config, counters=counters):
        if not pending:
            loop.call_soon(flush)
        pending.append(json.dumps(_row(result)) + "\n")  # ASCII: any URL survives the pipe
        if transport.get_write_buffer_size() > 1 << 16:
            await out.drain()
    flush()
    out.write((json.dumps({
        "throttled_hosts": sorted(counters.throttled_hosts), "retried": counters.retried,
        "inferred": counters.inferred, "failed_hosts": counters.failed_hosts,
    }) + "\n").encode())
    transport.set_write_buffer_limits(high=0)
    await out.drain()
    transport.close()


def main() -> None:
    """Run as a check worker: the configuration on the first input line, then URLs until end of input."""
    config = CheckerConfig(**json.loads(sys.stdin.readline()))
    gc.freeze()  # the modules' objects: no cyclic collection walks them again during the checks
    run_loop(_work(config))


if __name__ == "__main__":
    main()

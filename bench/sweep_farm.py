"""Time `portal check` and `portal crawl availability` against a naive requests+threads sweep on a loopback farm.

    python bench/sweep_farm.py                      # every scenario below, 6,000 URLs over 40 hosts
    python bench/sweep_farm.py --only orders        # one group: orders, hang, limited, memory, crawl, outage
    python bench/sweep_farm.py --memory-urls 100000 --crawl-services 20000

The farm runs in its own processes (one asyncio server per port on 127.0.0.1, on uvloop like the checker,
fixed latency per response; `--farm-processes`, 4, share the hosts); a "host" is one port (the checker's
per-host limit keys on host:port). The farm is the benchmark's instrument, not the system under test: it
shares the machine's cores with the clients, so it is a raw asyncio.Protocol that reads the request line and
writes a canned response after the latency (FarmProtocol), not a web framework; the naive script and `portal`
run against the same farm. What a URL does is in its path: /close/N answers with `Connection: close`, /keep/N
keeps the connection alive, /hang/N accepts and never answers, /limit/N answers `429 Retry-After: 2`. Orders:
interleaved (round-robin over the hosts), grouped (host by host, as a catalogue lists its services) and
shuffled. Every client runs as a child process; its peak RSS comes from os.wait4's rusage for that child. The
polite limit is hosts × per-host connections / latency (40 × 4 / 50 ms = 3,200 checks/s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Dịch vụ công {n}</title></head>"
    "<body><h1>Thủ tục {n}</h1><p>Nộp hồ sơ trực tuyến, mức độ 4.</p></body></html>"
)

NAIVE = r"""
import sys, threading, requests
from concurrent.futures import ThreadPoolExecutor
urls = [line.strip() for line in open(sys.argv[1]) if line.strip()]
local = threading.local()
def get(url):
    session = getattr(local, "session", None)
    if session is None:
        session = local.session = requests.Session()
    try:
        return session.get(url, timeout=(5, 10)).status_code
    except requests.RequestException:
        return None
with ThreadPoolExecutor(max_workers=int(sys.argv[2])) as pool:
    ok = sum(1 for status in pool.map(get, urls) if status == 200)
print(ok)
"""


_REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}


def _response(status: int, body: bytes, close: bool, extra: str = "") -> bytes:
    head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n{extra}Connection: {'close' if close else 'keep-alive'}\r\n\r\n")
    return head.encode("ascii") + body


class FarmProtocol(asyncio.Protocol):
    """One connection of the farm: each request's canned answer is written `latency` seconds after it came.

    The farm is the benchmark's instrument, not the system under test, so it parses no more than the request
    line: /close/N answers and closes, /keep/N keeps the connection, /hang/N never answers (nor anything
    after it on that connection), /limit/N answers 429 with Retry-After: 2; anything else is a 404."""

    latency = 0.05
    open: set[FarmProtocol] = set()  # the farm's connections, for a network outage

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.stopped = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        FarmProtocol.open.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.stopped = True
        FarmProtocol.open.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        loop = asyncio.get_running_loop()
        while not self.stopped:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            parts = head.split(b"\r\n", 1)[0].split(b" ")
            path = parts[1].decode("latin-1") if len(parts) >= 2 else "/"
            _, kind, n = (path.split("/", 2) + ["", ""])[:3]
            if kind == "hang":
                self.stopped = True
                return
            if kind == "limit":
                answer, close = _response(429, b"Too Many Requests", False, "Retry-After: 2\r\n"), False
            elif kind in ("close", "keep"):
                answer, close = _response(200, PAGE.format(n=n).encode(), kind == "close"), kind == "close"
            else:
                answer, close = _response(404, b"Not Found", True), True
            if close:
                self.stopped = True
            loop.call_later(self.latency, self._answer, answer, close)

    def _answer(self, answer: bytes, close: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(answer)
        if close:
            self.transport.close()


async def serve(ports: int, latency: float) -> None:
    loop = asyncio.get_running_loop()
    FarmProtocol.latency = latency
    bound = []
    servers = []
    for _ in range(ports):
        server = await loop.create_server(FarmProtocol, "127.0.0.1", 0, backlog=2048)
        servers.append(server)
        bound.append(server.sockets[0].getsockname()[1])

    def outage() -> None:
        """SIGUSR1: the network is gone: every listening socket closes and every connection is reset."""
        for server in servers:
            server.close()
        for connection in list(FarmProtocol.open):
            if connection.transport is not None:
                connection.transport.abort()

    loop.add_signal_handler(signal.SIGUSR1, outage)
    print("READY " + ",".join(map(str, bound)), flush=True)
    await asyncio.Event().wait()


def run_child(args: list[str], env: dict[str, str], watch: str | None = None) -> dict[str, object]:
    """Run a child to completion, reading its stdout as it comes.

    Returns seconds, exit status, peak RSS (KiB), CPU seconds, the lines, and when `watch` is given the
    time at which the last line not containing `watch` arrived."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, cwd=ROOT, text=True)
    lines: list[str] = []
    last_other = [0.0]

    def reader() -> None:
        assert child.stdout is not None  # noqa: S101
        for line in child.stdout:
            lines.append(line)
            if watch is not None and watch not in line:
                last_other[0] = time.perf_counter() - started

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    _pid, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - started
    thread.join()
    return {
        "seconds": took, "exit": os.waitstatus_to_exitcode(status), "rss_mb": usage.ru_maxrss / 1024,
        "cpu": usage.ru_utime + usage.ru_stime, "lines": lines, "last_other": last_other[0],
    }


def url_list(ports: list[int], count: int, order: str, kind: str, special: dict[int, str] | None = None) -> list[str]:
    """`count` URLs spread evenly over the ports, in the given order; `special` maps port index → kind."""
    special = special or {}
    hosts = len(ports)
    per = [count // hosts + (1 if h < count % hosts else 0) for h in range(hosts)]
    urls: list[str] = []
    if order == "interleaved":
        i = 0
        while len(urls) < count:
            h = i % hosts
            if per[h] > 0:
                per[h] -= 1
                urls.append(f"http://127.0.0.1:{ports[h]}/{special.get(h, kind)}/{i}")
            i += 1
        return urls
    n = 0
    for h in range(hosts):
        for _ in range(per[h]):
            urls.append(f"http://127.0.0.1:{ports[h]}/{special.get(h, kind)}/{n}")
            n += 1
    if order == "shuffled":
        random.Random(17).shuffle(urls)  # noqa: S311 - benchmark input
    return urls


class Bench:
    def __init__(self, args: argparse.Namespace, ports: list[int], work: Path) -> None:
        self.args, self.ports, self.work = args, ports, work
        self.concurrency = args.per_host * len(ports)
        self.polite = len(ports) * args.per_host / (args.latency_ms / 1000)
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "PORTAL_CHECK_CONCURRENCY": str(self.concurrency),
            "PORTAL_CHECK_PER_HOST": str(args.per_host),
            "PORTAL_ALLOW_PRIVATE_ADDRESSES": "1",
            "PORTAL_CHECK_READ_TIMEOUT": str(args.hang_timeout),
            "PORTAL_CHECK_DEADLINE": str(args.hang_timeout * 2),
        }

    def write(self, urls: list[str], name: str) -> Path:
        path = self.work / name
        path.write_text("".join(u + "\n" for u in urls))
        return path

    def portal(self, urls: list[str], label: str, watch: str | None = None) -> dict[str, object]:
        path = self.write(urls, "portal.txt")
        run = run_child([sys.executable, "-m", "portal.commands.check", "--file", str(path), "--json"],
                        self.env, watch)
        reasons: dict[str, int] = {}
        for row in run["lines"]:  # type: ignore[union-attr]
            reason = json.loads(row)["reason"]
            reasons[reason] = reasons.get(reason, 0) + 1
        rate = len(urls) / run["seconds"]  # type: ignore[operator]
        run["rate"] = rate
        print(f"  portal check   {label:<34} {run['seconds']:6.2f} s {rate:7.0f} checks/s "
              f"({rate / self.polite:4.0%} of polite)  CPU {run['cpu']:5.1f} s  RSS {run['rss_mb']:6.1f} MB  "
              f"{reasons}", flush=True)
        return run

    def naive(self, urls: list[str], label: str) -> dict[str, object]:
        path = self.write(urls, "naive.txt")
        run = run_child([sys.executable, "-c", NAIVE, str(path), str(self.concurrency)], self.env)
        rate = len(urls) / run["seconds"]  # type: ignore[operator]
        run["rate"] = rate
        print(f"  naive threads  {label:<34} {run['seconds']:6.2f} s {rate:7.0f} checks/s "
              f"({rate / self.polite:4.0%} of polite)  CPU {run['cpu']:5.1f} s  RSS {run['rss_mb']:6.1f} MB  "
              f"200s {''.join(run['lines']).strip()}", flush=True)  # type: ignore[arg-type]
        return run

    def orders(self) -> None:
        n = self.args.urls
        print(f"\n[orders] {n} URLs over {len(self.ports)} hosts, {self.args.latency_ms:g} ms per answer, "
              f"concurrency {self.concurrency}, per host {self.args.per_host}; polite limit {self.polite:.0f}/s")
        for kind in ("close", "keep"):
            for order in ("grouped", "interleaved", "shuffled"):
                urls = url_list(self.ports, n, order, kind)
                label = f"{order}, {'Connection: close' if kind == 'close' else 'keep-alive'}"
                mine = self.portal(urls, label)
                if order == "grouped" or (order == "interleaved" and kind == "keep"):
                    theirs = self.naive(urls, label)
                    print(f"  → ratio portal/naive {mine['rate'] / theirs['rate']:.2f}x; "  # type: ignore[operator]
                          f"portal at {mine['rate'] / self.polite:.0%} of the polite limit")  # type: ignore[operator]

    def hang(self) -> None:
        n = self.args.urls
        print(f"\n[hang] 1 of {len(self.ports)} hosts accepts and never answers (read timeout "
              f"{self.args.hang_timeout:g} s); {n} URLs grouped by host, Connection: close")
        with_hang = url_list(self.ports, n, "grouped", "close", {0: "hang"})
        others = [u for u in with_hang if "/hang/" not in u]
        alone = self.portal(others, f"the other {len(self.ports) - 1} hosts alone")
        mixed = self.portal(with_hang, "with the hanging host", watch="/hang/")
        print(f"  → the other hosts' URLs finished after {mixed['last_other']:.2f} s with the hanging host vs "
              f"{alone['seconds']:.2f} s without: {mixed['last_other'] / alone['seconds']:.2f}x "  # type: ignore[operator]
              f"(target ≤ 1.2x)")

    def limited(self) -> None:
        n = self.args.urls
        print(f"\n[limited] 1 of {len(self.ports)} hosts answers 429 Retry-After: 2; {n} URLs grouped, "
              "Connection: close")
        urls = url_list(self.ports, n, "grouped", "close", {0: "limit"})
        others = [u for u in urls if "/limit/" not in u]
        alone = self.portal(others, f"the other {len(self.ports) - 1} hosts alone")
        mixed = self.portal(urls, "with the rate-limited host", watch="/limit/")
        self.naive(urls, "with the rate-limited host")
        print(f"  → the other hosts' URLs finished after {mixed['last_other']:.2f} s vs {alone['seconds']:.2f} s "
              f"without: {mixed['last_other'] / alone['seconds']:.2f}x")  # type: ignore[operator]

    def memory(self) -> None:
        n = self.args.memory_urls
        print(f"\n[memory] {n} URLs over {len(self.ports)} hosts, shuffled, keep-alive")
        run = self.portal(url_list(self.ports, n, "shuffled", "keep"), f"{n} URLs")
        print(f"  → peak RSS {run['rss_mb']:.1f} MB (target < 300 MB)")

    def crawl(self) -> None:
        from bench._common import database, postgres_reachable

        n = self.args.crawl_services
        backends = ["sqlite"] + (["postgresql"] if postgres_reachable() else [])
        print(f"\n[crawl] portal crawl availability over {n} services grouped by agency "
              f"({len(self.ports)} agencies, one host each, Connection: close), database writes included")
        for backend in backends:
            with database(backend, "sweep_farm") as url:
                env = {**self.env, "DATABASE_URL": url}
                subprocess.run([sys.executable, "-m", "portal.cli", "db", "upgrade"], env=env, cwd=ROOT,
                               check=True, capture_output=True)
                subprocess.run([sys.executable, __file__, "--fill", url, "--crawl-services", str(n),
                                "--ports", ",".join(map(str, self.ports))], env=env, cwd=ROOT, check=True)
                run = run_child([sys.executable, "-m", "portal.cli", "crawl", "availability"], env)
                rate = n / run["seconds"]  # type: ignore[operator]
                print(f"  {backend:<10} {run['seconds']:6.2f} s {rate:7.0f} checks/s ({rate / self.polite:4.0%} of "
                      f"polite; target ≥ 50 %)  CPU {run['cpu']:5.1f} s  RSS {run['rss_mb']:6.1f} MB  "
                      f"exit {run['exit']}  {''.join(run['lines']).strip()[-200:]}", flush=True)


    def outage(self) -> None:
        from bench._common import database

        n, cut = self.args.crawl_services, 0.4
        print(f"\n[outage] the monitor loses its network mid-sweep: portal crawl availability over {n} services "
              f"grouped by agency (SQLite); once {cut:.0%} are recorded every host of a farm of its own stops "
              "accepting connections and resets the open ones", flush=True)
        farms, ports = start_farms(self.args)
        try:
            with database("sqlite", "sweep_outage") as url:
                env = {**self.env, "DATABASE_URL": url}
                subprocess.run([sys.executable, "-m", "portal.cli", "db", "upgrade"], env=env, cwd=ROOT,
                               check=True, capture_output=True)
                subprocess.run([sys.executable, __file__, "--fill", url, "--crawl-services", str(n),
                                "--ports", ",".join(map(str, ports))], env=env, cwd=ROOT, check=True)
                path = url.removeprefix("sqlite:///")
                child = subprocess.Popen([sys.executable, "-m", "portal.cli", "crawl", "availability"], env=env,
                                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                started = time.perf_counter()
                with sqlite3.connect(path, timeout=5) as watch:
                    while child.poll() is None:
                        if watch.execute("SELECT count(*) FROM checks").fetchone()[0] >= cut * n:
                            break
                        time.sleep(0.02)
                    before = watch.execute("SELECT count(*) FROM checks").fetchone()[0]
                cut_at = time.perf_counter() - started
                for farm in farms:
                    farm.send_signal(signal.SIGUSR1)
                output, _ = child.communicate(timeout=600)
                took = time.perf_counter() - started
                with sqlite3.connect(path) as db:
                    def one(sql: str) -> int:
                        return int(db.execute(sql).fetchone()[0] or 0)

                    checks = one("SELECT count(*) FROM checks")
                    up = one("SELECT count(*) FROM checks WHERE outcome = 'up'")
                    faulty = one("SELECT count(*) FROM checks WHERE monitor_fault_id IS NOT NULL")
                    blamed = one("SELECT count(*) FROM services WHERE consecutive_failures > 0 "
                                 "OR health IN ('down', 'dead')")
                    faults = db.execute("SELECT id, reason, detail FROM monitor_faults").fetchall()
                    incidents = one("SELECT count(*) FROM incidents")
                print(f"  cut after {cut_at:.2f} s with {before} checks recorded; sweep over after {took:.2f} s, "
                      f"exit {child.returncode}: {output.strip().splitlines()[-1] if output.strip() else ''}")
                print(f"  checks {checks}: {up} up, {faulty} stored under the monitor fault, "
                      f"{checks - up - faulty} counted against services")
                print(f"  → services blamed (a failure of their own, or down) {blamed} of {n}; incidents {incidents}; "
                      f"faults {[(f[1], f[2]) for f in faults]}", flush=True)
        finally:
            stop_farms(farms)


def start_farms(args: argparse.Namespace) -> tuple[list[subprocess.Popen[str]], list[int]]:
    """The farm's server processes (`--farm-processes`) sharing `--hosts` ports, and those ports."""
    shares = [args.hosts // args.farm_processes + (1 if i < args.hosts % args.farm_processes else 0)
              for i in range(args.farm_processes)]
    farms = [subprocess.Popen(
        [sys.executable, __file__, "--serve", "--hosts", str(n), "--latency-ms", str(args.latency_ms)],
        stdout=subprocess.PIPE, text=True,
    ) for n in shares if n]
    ports: list[int] = []
    try:
        for farm in farms:
            line = farm.stdout.readline() if farm.stdout else ""
            if not line.startswith("READY "):
                raise SystemExit(f"farm did not start: {line!r}")
            ports += [int(p) for p in line.split()[1].split(",")]
    except BaseException:
        stop_farms(farms)
        raise
    return farms, ports


def stop_farms(farms: list[subprocess.Popen[str]]) -> None:
    for farm in farms:
        farm.terminate()
        farm.wait(10)


def fill(url: str, services: int, ports: list[int]) -> None:
    """One agency per port with its services on that port, listed agency by agency."""
    os.environ["DATABASE_URL"] = url
    from sqlalchemy import insert

    from portal import create_app
    from portal.extensions import db
    from portal.models import Agency, Service

    app = create_app()
    with app.app_context():
        rows = []
        for i, _port in enumerate(ports):
            agency = Agency(code=f"farm-{i}", name=f"Cơ quan thử {i}", kind="province")
            db.session.add(agency)
            rows.append(agency)
        db.session.flush()
        per = services // len(ports)
        batch = []
        for i, agency in enumerate(rows):
            for j in range(per):
                name = f"Dịch vụ {i}-{j}"
                batch.append({"agency_id": agency.id, "name": name, "name_lower": name.lower(), "name_folded": name,
                              "level": 3, "url": f"http://127.0.0.1:{ports[i]}/close/{i * per + j}",
                              "status": "active", "is_sample": True, "health": "unknown",
                              "consecutive_failures": 0})
        db.session.execute(insert(Service), batch)
        db.session.commit()


SCENARIOS = ["orders", "hang", "limited", "memory", "crawl", "outage"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=6_000)
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--hang-timeout", type=float, default=5.0, help="PORTAL_CHECK_READ_TIMEOUT of the runs")
    parser.add_argument("--memory-urls", type=int, default=100_000)
    parser.add_argument("--crawl-services", type=int, default=20_000)
    parser.add_argument("--farm-processes", type=int, default=4, help="server processes sharing the hosts")
    parser.add_argument("--only", action="append", choices=SCENARIOS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fill", help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        from portal.crawlers.results import run_loop

        run_loop(serve(args.hosts, args.latency_ms / 1000))
        return
    if args.fill:
        fill(args.fill, args.crawl_services, [int(p) for p in args.ports.split(",")])
        return

    farms, ports = start_farms(args)
    try:
        print(f"farm: {len(ports)} hosts in {len(farms)} server processes", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            bench = Bench(args, ports, Path(tmp))
            for name in args.only or SCENARIOS:
                getattr(bench, name)()
    finally:
        stop_farms(farms)


if __name__ == "__main__":
    main()

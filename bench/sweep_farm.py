"""Time `portal check` against a naive requests+threads sweep on a loopback farm of slow servers.

    python bench/sweep_farm.py                       # 10,000 URLs over 40 ports, both clients
    python bench/sweep_farm.py --urls 100000 --only-portal   # memory figure of the checker

The farm runs in its own process (aiohttp.web, one site per port, fixed latency per response).
Each client runs as a child process; its peak RSS comes from os.wait4's rusage for that child.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


async def serve(ports: int, latency: float) -> None:
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        return web.Response(
            text=PAGE.format(n=request.match_info["n"]), content_type="text/html", charset="utf-8"
        )

    app = web.Application()
    app.router.add_get("/svc/{n}", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=True)
    await runner.setup()
    bound = []
    for _ in range(ports):
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        bound.append(site._server.sockets[0].getsockname()[1])  # noqa: SLF001
    print("READY " + ",".join(map(str, bound)), flush=True)
    await asyncio.Event().wait()


def run_child(args: list[str], env: dict[str, str], stdout_path: Path) -> tuple[float, int, int, float]:
    """Run a child to completion; return (seconds, exit status, peak RSS in KiB, CPU seconds)."""
    with stdout_path.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, env=env, cwd=ROOT)
        _pid, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return took, child.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--ports", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--only-portal", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.ports, args.latency_ms / 1000))
        return

    farm = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--ports",
            str(args.ports),
            "--latency-ms",
            str(args.latency_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = farm.stdout.readline() if farm.stdout else ""
        if not line.startswith("READY "):
            raise SystemExit(f"farm did not start: {line!r}")
        ports = [int(p) for p in line.split()[1].split(",")]
        concurrency = args.per_host * len(ports)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            url_file = work / "urls.txt"
            with url_file.open("w") as fh:
                for i in range(args.urls):
                    fh.write(f"http://127.0.0.1:{ports[i % len(ports)]}/svc/{i}\n")
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "PORTAL_CHECK_CONCURRENCY": str(concurrency),
                "PORTAL_CHECK_PER_HOST": str(args.per_host),
                "PORTAL_ALLOW_PRIVATE_ADDRESSES": "1",
            }
            print(
                f"farm: {args.urls} URLs over {len(ports)} ports, {args.latency_ms:g} ms latency; "
                f"concurrency {concurrency}, per host {args.per_host}"
            )
            ideal = args.urls / (concurrency / (args.latency_ms / 1000))
            print(f"lower bound from latency and limits: {ideal:.1f} s ({args.urls / ideal:.0f} checks/s)")

            portal_out = work / "portal.jsonl"
            took, code, rss, cpu = run_child(
                [sys.executable, "-m", "portal.commands.check", "--file", str(url_file), "--json"],
                env,
                portal_out,
            )
            reasons: dict[str, int] = {}
            with portal_out.open() as fh:
                for row in fh:
                    reason = json.loads(row)["reason"]
                    reasons[reason] = reasons.get(reason, 0) + 1
            portal_rate = args.urls / took
            print(
                f"portal check: {took:6.2f} s  {portal_rate:7.0f} checks/s  CPU {cpu:5.1f} s  "
                f"peak RSS {rss / 1024:6.1f} MB  exit {code}  reasons {reasons}"
            )
            if args.only_portal:
                return
            naive_out = work / "naive.txt"
            took_n, code_n, rss_n, cpu_n = run_child(
                [sys.executable, "-c", NAIVE, str(url_file), str(concurrency)], env, naive_out
            )
            ok_n = naive_out.read_text().strip()
            naive_rate = args.urls / took_n
            print(
                f"naive requests+threads: {took_n:6.2f} s  {naive_rate:7.0f} checks/s  CPU {cpu_n:5.1f} s  "
                f"peak RSS {rss_n / 1024:6.1f} MB  exit {code_n}  200s {ok_n}"
            )
            print(f"ratio portal/naive: {portal_rate / naive_rate:.2f}x")
    finally:
        farm.terminate()
        farm.wait(10)


if __name__ == "__main__":
    main()

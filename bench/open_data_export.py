"""Open-data export: the whole service catalogue as CSV and JSON through the real app, at 50,000 and 200,000 rows.

Seeds N synthetic services (`seed_synthetic`, as `portal seed synthetic --services N`), serves the app with
gunicorn (one sync worker) on loopback, downloads /open-data/services.csv and .json as a stream, and reports
rows, seconds, rows/s, MB and the peak RSS of the worker process during each download (VmHWM, reset before
each one) with its anonymous part (RssAnon: the heap, without the pages of the SQLite file read through
mmap). The catalogue then grows to the next size and the server is restarted. Streaming means the peak
stays roughly flat as rows grow. With --xlsx, also the first XLSX download (the workbook is built, then kept
as a file for later downloads).

    python bench/open_data_export.py [--sizes 50000,200000] [--xlsx] [--backend all|sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import OUT, analyze, backends, database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Agency, Service  # noqa: E402
from portal.services import seed  # noqa: E402

FORMATS = ("csv", "json")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def grow(url: str, backend: str, total: int) -> float:
    """Add synthetic services until there are `total`; returns the seconds it took."""
    started = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        if not db.session.execute(db.select(db.func.count()).select_from(Agency)).scalar_one():
            seed.load_agencies(db.session)
            db.session.commit()
        have = db.session.execute(db.select(db.func.count()).select_from(Service)).scalar_one()
        if total > have:
            seed.seed_synthetic(db.session, total - have, seed=have + 1)
        analyze(db)
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - started


class Server:
    """gunicorn with one sync worker; `worker` is the pid whose memory is measured."""

    def __init__(self, url: str, files: str) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "PORTAL_PAGE_CACHE_SECONDS": "0"}
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        app = f"portal:create_app({{'PORTAL_OPEN_DATA_DIR': {files!r}}})"  # a fresh XLSX file cache
        self.proc = subprocess.Popen(
            [gunicorn, "--workers", "1", "--timeout", "900", "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", app],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.worker = self._worker()
            if self.worker and self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start: {self.proc.stderr.read().decode()[-2000:]}")

    def _worker(self) -> int | None:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                return int(stat.parent.name)
        return None

    def _answers(self) -> bool:
        try:
            return get(self.port, "/open-data")[0] == 200
        except OSError:
            return False

    def status(self, key: str) -> int:
        """A memory figure of the worker from /proc/PID/status, in kB (VmRSS, VmHWM, RssAnon)."""
        for line in Path(f"/proc/{self.worker}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.worker}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def get(port: int, path: str) -> tuple[int, int, int, int]:
    """GET a path, reading the body as a stream: (status, bytes, CRLF count, '\\n{' count)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    conn.request("GET", path)
    response = conn.getresponse()
    size = crlf = objects = 0
    tail = b""
    while chunk := response.read(256 * 1024):
        size += len(chunk)
        window = tail + chunk
        crlf += window.count(b"\r\n") - tail.count(b"\r\n")
        objects += window.count(b"\n{") - tail.count(b"\n{")
        tail = chunk[-1:]
    conn.close()
    return response.status, size, crlf, objects


def measure(server: Server, path: str) -> dict[str, float]:
    """Download `path` once; seconds, size and the worker's peak RSS during the download."""
    exact = server.reset_peak()
    observed = [server.status("VmRSS")]
    anonymous = [server.status("RssAnon")]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            try:
                observed.append(server.status("VmRSS"))
                anonymous.append(server.status("RssAnon"))
            except (OSError, KeyError):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    status, size, crlf, objects = get(server.port, path)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    assert status == 200, (path, status)
    peak = server.status("VmHWM") if exact else max(observed)
    return {"seconds": seconds, "bytes": size, "crlf": crlf, "objects": objects, "peak_kb": peak,
            "anon_kb": max(anonymous)}


def run(backend: str, sizes: list[int], xlsx: bool) -> list[tuple]:
    results = []
    formats = FORMATS + (("xlsx",) if xlsx else ())
    with database(backend, "opendata") as url:
        for total in sizes:
            took = grow(url, backend, total)
            print(f"[{backend}] {total:,} services ready ({took:.1f} s to add)", flush=True)
            files = tempfile.mkdtemp(prefix="open-data-", dir=OUT)
            server = Server(url, files)
            try:
                get(server.port, "/open-data/services.csv?include_retired=0")  # warm the worker up once
                baseline = server.status("VmRSS")
                for fmt in formats:
                    m = measure(server, f"/open-data/services.{fmt}")
                    rows = {"csv": m["crlf"] - 1, "json": m["objects"]}.get(fmt, total)
                    if fmt != "xlsx":
                        assert rows == total, (fmt, rows, total)
                    results.append((backend, total, fmt, rows, m["seconds"], m["bytes"], baseline, m["peak_kb"],
                                    m["anon_kb"]))
                    rate = rows / m["seconds"]
                    print(f"[{backend}] {fmt:5s} {rows:>8,} rows  {m['seconds']:7.2f} s  {rate:>9,.0f} rows/s"
                          f"  {m['bytes'] / 1e6:7.1f} MB  worker RSS before {baseline / 1024:6.1f} MB,"
                          f" peak during download {m['peak_kb'] / 1024:6.1f} MB (heap {m['anon_kb'] / 1024:6.1f} MB)",
                          flush=True)
            finally:
                server.stop()
                shutil.rmtree(files, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50000,200000", help="comma-separated catalogue sizes, ascending")
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX download (built whole)")
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    chosen = backends() if args.backend == "all" else [b for b in backends() if b == args.backend]
    summary = []
    for backend in chosen:
        summary += run(backend, sizes, args.xlsx)
    print("\nPeak worker memory by size (streaming keeps it flat). RSS counts the pages of the SQLite file the"
          "\nworker has read through mmap (shared page cache, not its own); heap is RssAnon, what it allocates:")
    for backend in chosen:
        for fmt in FORMATS + (("xlsx",) if args.xlsx else ()):
            peaks = [(total, peak, anon) for b, total, f, *_, peak, anon in summary if b == backend and f == fmt]
            if len(peaks) >= 2:
                (small, p_small, a_small), (large, p_large, a_large) = peaks[0], peaks[-1]
                print(f"  {backend:10s} {fmt:5s} {small:,} rows: RSS {p_small / 1024:6.1f} MB, heap"
                      f" {a_small / 1024:6.1f} MB   {large:,} rows: RSS {p_large / 1024:6.1f} MB, heap"
                      f" {a_large / 1024:6.1f} MB   heap ratio {a_large / a_small:4.2f}"
                      f" for {large / small:.0f}x the rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())

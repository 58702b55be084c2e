"""`make run`: serve the portal with gunicorn and run the scheduler beside it, in its own process."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--no-scheduler", action="store_true")
    args = parser.parse_args()

    bin_dir = Path(sys.executable).parent
    commands = [[
        str(bin_dir / "gunicorn"), "--workers", str(args.workers), "--bind", f"{args.host}:{args.port}",
        "--access-logfile", "-", "--chdir", str(ROOT), "wsgi:app",
    ]]
    if not args.no_scheduler:
        commands.append([str(bin_dir / "portal"), "scheduler"])
    processes = [subprocess.Popen(cmd) for cmd in commands]  # noqa: S603 - our own executables
    print(f"Cổng dịch vụ công: http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)

    def stop(*_: object) -> None:
        for proc in processes:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(proc.poll() is None for proc in processes):
            time.sleep(0.5)
    finally:
        stop()
        deadline = time.monotonic() + 10
        for proc in processes:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    return max((proc.returncode or 0) for proc in processes)


if __name__ == "__main__":
    sys.exit(main())

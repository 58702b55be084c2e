"""Run the portal as an operator would: `portal …` and gunicorn in their own processes, on loopback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

PORTAL = [sys.executable, "-m", "portal.cli"]


def portal_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh checkout's shell: no portal setting but a throw-away instance folder."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PORTAL_") and k not in {"SECRET_KEY", "DATABASE_URL", "PORT", "HOST"}}
    env.update(PORTAL_INSTANCE_DIR=str(tmp_path / "instance"), DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}",
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def portal(*args: str, env: dict[str, str], stdin: str | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PORTAL, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lines:
    """Every line of a child's stream, read by a thread as it comes (select() misses what Python buffered)."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.seen = 0
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        """The first line after those already matched that matches `pattern`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                while self.seen < len(self.lines):
                    line = self.lines[self.seen]
                    self.seen += 1
                    if match := regex.search(line):
                        return match
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{pattern!r} not seen within {timeout} s; output:\n"
                                         f"{''.join(self.lines)[-4000:]}")
                self.changed.wait(left)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

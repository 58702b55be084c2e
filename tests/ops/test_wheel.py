"""The built wheel serves, migrates and seeds with no source checkout (migrations, catalogues, wsgi inside)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests

from tests.ops.processes import Lines, free_port, portal_env, stop

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


@pytest.mark.slow
def test_the_wheel_migrates_seeds_serves_and_is_ready(tmp_path):
    source = tmp_path / "source"  # the committed files and the work in progress, without compiled catalogues
    files = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    assert not list(source.rglob("*.mo"))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--wheel-dir", str(tmp_path / "dist"), str(source)])
    wheel = next((tmp_path / "dist").glob("*.whl"))

    venv = tmp_path / "venv"  # a fresh virtualenv; the dependencies come from this one, the portal only from the wheel
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)])
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = portal_env(tmp_path)
    for name in ("PORTAL_INSTANCE_DIR", "DATABASE_URL"):  # the defaults: an instance folder under the venv
        env.pop(name)
    portal = str(venv / "bin" / "portal")
    where = _run([str(python), "-c", "import portal, config; print(portal.__file__, config.INSTANCE_DIR)"],
                 cwd=workdir, env=env).stdout
    assert str(venv) in where and str(ROOT) not in where
    _run([portal, "db", "upgrade"], cwd=workdir, env=env)
    assert "Agencies: " in _run([portal, "seed", "agencies"], cwd=workdir, env=env).stdout
    assert (venv / "var" / "portal-instance" / "portal.db").exists()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([portal, "serve", "--port", str(port)], cwd=workdir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        Lines(server.stdout).wait_for(rf"Cổng dịch vụ công: {base}/", 60)
        Lines(server.stderr)
        deadline = time.monotonic() + 90  # the scheduler's heartbeat at once, its first sweep within 30 s
        while (ready := requests.get(base + "/readyz", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, ready.json()
            time.sleep(1)
        assert ready.json()["database"] == {"ok": True} and ready.json()["sweep"]["ok"]
        english = requests.get(base + "/agencies?lang=en", timeout=10)
        assert english.status_code == 200 and "Download open data" in english.text  # compiled by the build
        server.send_signal(signal.SIGTERM)
        assert server.wait(20) == 0
    finally:
        stop(server)

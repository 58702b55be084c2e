"""Start-up: the development secret shared by every worker, and bad settings as one line with an exit status."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from config import normalise_database_url
from tests.helpers import PASSWORD
from tests.ops.processes import Lines, portal, portal_env, stop

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def test_sign_in_works_across_two_gunicorn_workers_in_development(migrated, tmp_path):
    created = portal("users", "create", "--email", "admin@example.vn", "--role", "admin", env=migrated,
                     stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:portal.gunicorn_conf", "--workers", "2",
         "--bind", "127.0.0.1:0", "portal.wsgi:app"],
        env=migrated, stderr=subprocess.PIPE, text=True,
    )
    try:
        log = Lines(gunicorn.stderr)
        base = log.wait_for(r"Listening at: (http://127\.0\.0\.1:\d+)").group(1)
        for _ in range(2):  # both workers booted
            log.wait_for(r"Booting worker")
        statuses = []
        for _ in range(8):
            browser = requests.Session()
            token = TOKEN.search(browser.get(base + "/login", timeout=10).text).group(1)
            answer = browser.post(base + "/login", data={"email": "admin@example.vn", "password": PASSWORD,
                                                         "csrf_token": token}, allow_redirects=False, timeout=10)
            statuses.append(answer.status_code)
            statuses += [browser.get(base + "/admin/users", timeout=10).status_code for _ in range(4)]
        assert statuses == [302, 200, 200, 200, 200] * 8
        log.wait_for(r'INFO gunicorn\.access: 127\.0\.0\.1 "GET /admin/users HTTP/1\.1" 200 \d+ \d+ms',
                     10)  # the access log says how long each request took
    finally:
        stop(gunicorn)
    secret = (tmp_path / "instance" / "secret_key").read_text()
    assert len(secret) == 64
    assert "instance/" in open(".gitignore").read().split()


BAD = [
    ({"PORT": "abc"}, ["seed", "demo"], 2, "PORT='abc' is not a whole number"),
    ({"PORTAL_ENV": "production"}, ["seed", "demo"], 2, "SECRET_KEY must be set in production"),
    ({"PORTAL_ENV": "staging"}, ["seed", "demo"], 2, "PORTAL_ENV='staging' is not one of"),
    ({"PORTAL_CHECK_CONCURRENCY": "abc"}, ["crawl", "availability"], 2, "PORTAL_CHECK_CONCURRENCY='abc'"),
    ({"PORTAL_CHECK_CONCURRENCY": "abc"}, ["scheduler"], 2, "PORTAL_CHECK_CONCURRENCY='abc'"),
    ({"PORTAL_CHECK_DEADLINE": "-1"}, ["serve"], 2, "PORTAL_CHECK_DEADLINE='-1' must be at least"),
    ({"PORTAL_LOG_FORMAT": "xml"}, ["scheduler"], 2, "PORTAL_LOG_FORMAT='xml' is not one of plain, json"),
    ({"PORTAL_MONITOR": "maybe"}, ["serve"], 2, "PORTAL_MONITOR='maybe' is not one of on, off"),
    ({"DATABASE_URL": "nonsense"}, ["seed", "demo"], 2, "DATABASE_URL is not a database URL"),
    ({"DATABASE_URL": "postgres://nobody@127.0.0.1:1/portal"}, ["seed", "demo"], 1,
     "cannot reach the database at 127.0.0.1:1: "),
    ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/portal"}, ["scheduler"], 1,
     "cannot reach the database at 127.0.0.1:1: "),
    ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/portal"}, ["serve"], 1,
     "cannot reach the database at 127.0.0.1:1: "),
]


@pytest.mark.parametrize(("settings", "command", "status", "message"), BAD,
                         ids=[f"{next(iter(s))}-{c[0]}" for s, c, _, _ in BAD])
def test_a_bad_setting_is_one_line_and_an_exit_status(tmp_path, settings, command, status, message):
    done = portal(*command, env=portal_env(tmp_path, **settings), timeout=30)
    assert done.returncode == status, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("portal: error: ")
    assert message in done.stderr


def test_serve_refuses_a_port_in_use_before_any_banner(migrated):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = portal("serve", "--port", str(port), env=migrated, timeout=30)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"portal: error: cannot listen on 127.0.0.1:{port} (PORT): ")
    assert done.stderr.count("\n") == 1


def test_postgres_urls_mean_psycopg():
    assert normalise_database_url("postgres://u:p@db:5432/portal") == "postgresql+psycopg://u:p@db:5432/portal"
    assert normalise_database_url("postgresql://u@db/portal") == "postgresql+psycopg://u@db/portal"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_crawler_gets_its_settings_from_the_application():
    from portal.crawlers.checker import DEFAULT_USER_AGENT, CheckerConfig
    from portal.services.figures import checker_config

    settings = {"PORTAL_CHECK_CONCURRENCY": 7, "PORTAL_CHECK_DEADLINE": 2.5, "PORTAL_CHECK_PER_HOST": None,
                "PORTAL_ALLOW_PRIVATE_ADDRESSES": True, "PORTAL_CONTACT_URL": "https://dvc.example.gov.vn/about"}
    config = checker_config(settings)
    assert (config.concurrency, config.deadline, config.per_host, config.allow_private) == (7, 2.5, 4, True)
    assert config.user_agent == "CongDichVuCongBot/0.1 (+https://dvc.example.gov.vn/about)"
    assert CheckerConfig.from_env({}).user_agent == DEFAULT_USER_AGENT

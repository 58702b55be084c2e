"""Checks shared out to worker processes: every URL once, per-host limits kept, counters merged, dead workers."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import subprocess
import sys

import pytest

from portal.crawlers import shard
from portal.crawlers.dispatch import SweepCounters, check_urls
from tests.crawlers.test_sweep_engine import host, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def spawned(monkeypatch):
    """The worker processes the checks started."""
    started: list[asyncio.subprocess.Process] = []
    real = asyncio.create_subprocess_exec

    async def counting(*args, **kwargs):
        started.append(await real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(shard.asyncio, "create_subprocess_exec", counting)
    return started


def test_every_url_is_checked_once_and_each_host_keeps_its_limit(host, config, spawned):  # noqa: F811
    hosts = [host(delay=0.005) for _ in range(5)]
    urls = [f"{h.base}/{i}" for i in range(250) for h in hosts] + ["ftp://example.org/x", "not a url"]
    urls.append(f"{hosts[0].base}/thủ-tục/nộp-hồ-sơ")
    cfg = dataclasses.replace(config, processes=3, concurrency=9, per_host=2)
    results = list(check_urls(urls, cfg))
    assert len(spawned) == 3
    assert collections.Counter(r.url for r in results) == collections.Counter(urls)
    assert {r.reason for r in results if r.url.startswith("http://")} == {"ok"}
    assert {r.reason for r in results if not r.url.startswith("http://")} == {"invalid_url"}
    assert [h.requests for h in hosts] == [251, 250, 250, 250, 250]
    assert all(max(h.concurrency) <= 2 for h in hosts)


def test_counters_of_the_workers_are_merged(host, config, closed_port, spawned):  # noqa: F811
    good = host()
    dead = f"http://127.0.0.1:{closed_port}"
    urls = [f"{dead}/{i}" for i in range(600)] + [f"{good.base}/{i}" for i in range(600)]
    counters = SweepCounters()
    results = list(check_urls(urls, dataclasses.replace(config, processes=2, per_host=1), counters=counters))
    assert len(spawned) == 2 and len(results) == 1200
    assert sum(r.inferred for r in results) == 597 == counters.inferred
    assert all(r.detail and "inferred from host" in r.detail for r in results if r.inferred)
    assert counters.failed_hosts == {f"127.0.0.1:{closed_port}": "connection_error"}
    assert [r.reason for r in results if r.url.startswith(good.base)] == ["ok"] * 600


def test_a_short_input_is_checked_in_this_process(host, config, spawned):  # noqa: F811
    ok = host()
    results = list(check_urls([f"{ok.base}/{i}" for i in range(shard.SHARD_MIN_URLS - 1)],
                              dataclasses.replace(config, processes=2)))
    assert len(results) == shard.SHARD_MIN_URLS - 1 and not spawned


def test_a_worker_that_dies_is_an_error_not_a_hang(host, config, monkeypatch):  # noqa: F811
    ok = host()
    monkeypatch.setattr(shard, "WORKER_ARGS", ("-c", "import sys; sys.stdin.readline(); sys.exit(3)"))
    with pytest.raises(shard.CheckWorkerError, match="exited with status 3"):
        list(check_urls([f"{ok.base}/{i}" for i in range(1500)], dataclasses.replace(config, processes=2)))


def test_stopping_early_ends_the_workers(host, config, spawned):  # noqa: F811
    slow = host(delay=0.05)
    results = check_urls([f"{slow.base}/{i}" for i in range(2000)], dataclasses.replace(config, processes=2))
    assert next(iter(results)).reason == "ok"
    results.close()
    assert len(spawned) == 2 and all(process.returncode is not None for process in spawned)


def test_the_worker_reads_its_settings_then_urls(host, config):  # noqa: F811
    ok = host()
    settings = json.dumps(dataclasses.asdict(dataclasses.replace(config, processes=1)))
    lines = "".join(json.dumps(f"{ok.base}/{i}") + "\n" for i in range(3))
    run = subprocess.run([sys.executable, *shard.WORKER_ARGS], input=settings + "\n" + lines, text=True,
                         capture_output=True, timeout=60, check=True)
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(row[0] for row in rows[:-1]) == [f"{ok.base}/{i}" for i in range(3)]
    assert {row[2] for row in rows[:-1]} == {"ok"}
    assert rows[-1] == {"throttled_hosts": [], "retried": 0, "inferred": 0, "failed_hosts": {}}


def test_a_worker_that_writes_garbage_is_an_error_not_a_hang(host, config, monkeypatch):  # noqa: F811
    ok = host()
    monkeypatch.setattr(shard, "WORKER_ARGS", ("-c", "import sys, time; print('not json', flush=True); time.sleep(60)"))
    with pytest.raises(shard.CheckWorkerError, match="could not be read"):
        list(check_urls([f"{ok.base}/{i}" for i in range(1500)], dataclasses.replace(config, processes=2)))


def test_the_global_limit_is_shared_out_exactly(host, config, spawned):  # noqa: F811
    hosts = [host(delay=0.01) for _ in range(3)]
    urls = [f"{h.base}/{i}" for i in range(400) for h in hosts]
    results = list(check_urls(urls, dataclasses.replace(config, processes=4, concurrency=3, per_host=4)))
    assert len(spawned) == 3 and len(results) == 1200  # no more workers than checks allowed in flight
    assert [max(h.concurrency) for h in hosts] == [1, 1, 1]  # a host to a worker, one check each

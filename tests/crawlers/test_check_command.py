from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from portal.commands.check import check_command

ENV = {"PORTAL_ALLOW_PRIVATE_ADDRESSES": "1", "PORTAL_CHECK_DEADLINE": "5", "PORTAL_CHECK_READ_TIMEOUT": "2"}


def run(args, input=None, env=ENV):
    return CliRunner().invoke(check_command, args, input=input, env=env)


def test_json_lines_exact_keys(web_base):
    result = run(["--json", web_base + "/ok", web_base + "/hops/1"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 2
    for item in lines:
        assert list(item) == ["url", "outcome", "reason", "http_status", "elapsed_ms", "final_url"]
        assert (item["outcome"], item["reason"], item["http_status"]) == ("up", "ok", 200)
        assert item["final_url"] == web_base + "/ok"
        assert isinstance(item["elapsed_ms"], int)


def test_file_from_stdin_skips_comments_and_blanks(web_base):
    stdin = f"# services\n\n{web_base}/ok\n   \n{web_base}/status/404\n# done\nftp://x\n"
    result = run(["--json", "--file", "-"], input=stdin)
    assert result.exit_code == 1
    by_url = {item["url"]: item for item in map(json.loads, result.output.splitlines())}
    assert set(by_url) == {f"{web_base}/ok", f"{web_base}/status/404", "ftp://x"}
    assert by_url[f"{web_base}/status/404"]["reason"] == "not_found"
    assert by_url["ftp://x"] == {
        "url": "ftp://x",
        "outcome": "down",
        "reason": "invalid_url",
        "http_status": None,
        "elapsed_ms": 0,
        "final_url": None,
    }


def test_table_and_exit_codes(web_base):
    result = run([web_base + "/ok", web_base + "/429"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["OUTCOME", "REASON", "HTTP", "MS", "URL"]
    assert any(line.startswith("degraded  rate_limited") and "429" in line for line in lines)
    assert "2 checked: 1 up, 1 degraded, 0 down" in result.stderr
    assert run([web_base + "/status/500"]).exit_code == 1


def test_private_addresses_refused_unless_configured(web_base):
    result = run(["--json", web_base + "/ok"], env={"PORTAL_ALLOW_PRIVATE_ADDRESSES": ""})
    assert json.loads(result.output)["reason"] == "blocked_address"
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("args", "env"), [([], ENV), (["http://a.vn"], {"PORTAL_CHECK_CONCURRENCY": "many"})]
)
def test_usage_errors(args, env):
    assert run(args, env=env).exit_code == 2

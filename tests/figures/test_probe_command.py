"""`portal stats probe` against saved statistics pages served on loopback; no database involved."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from portal.commands.stats import stats_cli

ENV = {"PORTAL_ALLOW_PRIVATE_ADDRESSES": "1", "PORTAL_CHECK_DEADLINE": "5"}
KEYS = ["url", "figures", "number_format", "extractor", "warnings", "evidence"]
FIGURE_KEYS = ["received_total", "received_online", "resolved", "resolved_on_time", "online_rate"]


def run(args, env=ENV, input=None):
    return CliRunner().invoke(stats_cli, ["probe", *args], env=env, input=input)


@pytest.mark.parametrize(
    ("page", "expected", "number_format"),
    [
        ("province_table.html", {"received_total": 125480, "received_online": 81562, "online_rate": 65.0}, "vi"),
        ("windows1258.html", {"received_total": 10309, "received_online": 2874, "resolved": 9967}, "vi"),
        ("dashboard_million.html", {"received_total": 1200000, "received_online": 850000}, "vi"),
        ("summary.json", {"received_total": 54321, "resolved_on_time": 49000}, None),
    ],
)
def test_json_output_is_exactly_the_contract(stats_server, page, expected, number_format):
    url = stats_server.url(page)
    result = run(["--json", url])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == KEYS
    assert list(data["figures"]) == FIGURE_KEYS
    assert data["url"] == url and data["extractor"] == "auto"
    assert data["number_format"] == number_format
    for name, value in expected.items():
        assert data["figures"][name] == value
    assert isinstance(data["warnings"], list)


def test_no_figures_gives_nulls_and_success(stats_server):
    data = json.loads(run(["--json", stats_server.url("no_figures.html")]).output)
    assert data["figures"] == dict.fromkeys(FIGURE_KEYS)


def test_rule_file_css_and_regex(stats_server, tmp_path):
    url = stats_server.set_page(
        "/css", "<html><body><p>Tin tức</p><span id='t'>10.309</span> <b class='o'>2.874</b></body></html>"
    )
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"extractor": "css", "figures": {"received_total": "#t", "received_online": ".o"}}))
    data = json.loads(run(["--json", "--rule", str(rule), url]).output)
    assert data["extractor"] == "css"
    assert data["figures"]["received_total"] == 10309 and data["figures"]["received_online"] == 2874
    assert data["figures"]["resolved"] is None

    regex = {"extractor": "regex", "figures": {"received_total": r"Đã nhận:\s*([\d.]+)"}}
    url = stats_server.set_page("/re", "<html><body><p>Đã nhận: 1.234.567 hồ sơ</p></body></html>")
    result = run(["--json", "--rule", "-", url], input=json.dumps(regex))
    assert json.loads(result.output)["figures"]["received_total"] == 1234567


def test_fetch_failure_is_json_with_error_and_exit_1(stats_server):
    url = stats_server.url("missing.html")
    result = run(["--json", url])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert list(data) == [*KEYS, "error"]
    assert data["figures"] == dict.fromkeys(FIGURE_KEYS)
    assert data["evidence"] == dict.fromkeys(FIGURE_KEYS)
    assert data["error"]["reason"] == "not_found" and data["error"]["http_status"] == 404
    assert data["warnings"][0].startswith("fetch failed: not_found")


def test_private_address_refused_without_the_setting(stats_server):
    result = run(["--json", stats_server.url("province_table.html")], env={"PORTAL_ALLOW_PRIVATE_ADDRESSES": ""})
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["reason"] == "blocked_address"


def test_table_output_and_clear_error(stats_server):
    ok = run([stats_server.url("definition_list.html")])
    assert ok.exit_code == 0
    assert "received_total    48217" in ok.stdout
    failed = run(["ftp://example.vn/x"])
    assert failed.exit_code == 1
    assert "Error: fetch failed: invalid_url" in failed.stderr


@pytest.mark.parametrize(
    "rule", ['{"extractor": "xpath"}', '{"extractor": "regex", "figures": {"resolved": "(a)(b)"}}', "{not json"]
)
def test_bad_rule_is_a_usage_error(tmp_path, rule):
    path = tmp_path / "rule.json"
    path.write_text(rule)
    result = run(["--json", "--rule", str(path), "http://example.vn/"])
    assert result.exit_code == 2
    assert "--rule" in result.output

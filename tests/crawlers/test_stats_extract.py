import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.crawlers.stats import (
    FIGURES,
    Extraction,
    InvalidRule,
    decode,
    extract,
    find_period,
    level_name,
    period_matches,
    total_rank,
    validate_rule,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "stats"


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_provincial_statistics_table():
    result = extract(page("province_table.html"), "text/html; charset=utf-8")
    assert result.figures == {
        "received_total": 125480,
        "received_online": 81562,
        "resolved": 118905,
        "resolved_on_time": 116230,
        "online_rate": 65.0,
    }
    assert result.number_format == "vi"
    assert result.extractor == "auto"
    assert result.warnings == []


def test_multi_level_header_table_takes_the_total_row():
    result = extract(page("department_breakdown.html"), "text/html")
    assert result.figures == {
        "received_total": 29602,
        "received_online": 20505,
        "resolved": 28823,
        "resolved_on_time": 28565,
        "online_rate": None,
    }


def test_breakdown_without_total_row_is_not_guessed():
    body = page("department_breakdown.html").decode("utf-8")
    start = body.index('<tr class="total">')
    body = body[:start] + body[body.index("</table>") :]
    result = extract(body, "text/html")
    assert result.figures["received_total"] is None
    assert result.figures["resolved_on_time"] is None
    assert any("received_total" in w and "disagree" in w for w in result.warnings)


def test_definition_list():
    result = extract(page("definition_list.html"), "text/html; charset=utf-8")
    assert result.figures == {
        "received_total": 48217,
        "received_online": 39805,
        "resolved": 46990,
        "resolved_on_time": 46512,
        "online_rate": 82.55,
    }
    assert result.number_format == "vi"


def test_scale_words_on_dashboard_cards():
    result = extract(page("dashboard_million.html"), "text/html")
    assert result.figures == {
        "received_total": 1_200_000,
        "received_online": 850_000,
        "resolved": 1_150_000,
        "resolved_on_time": 1_100_000,
        "online_rate": 70.8,
    }
    assert result.number_format == "vi"


def test_mixed_conventions_are_reported():
    result = extract(page("mixed_conventions.html"), "text/html")
    assert result.number_format is None
    assert any("mixed number conventions" in w for w in result.warnings)
    assert result.figures == {
        "received_total": 1234567,
        "received_online": 987654,
        "resolved": 1198400,
        "resolved_on_time": None,
        "online_rate": 80.0,
    }


def test_page_without_figures():
    result = extract(page("no_figures.html"), "text/html; charset=utf-8")
    assert result.figures == dict.fromkeys(FIGURES)


def test_windows_1258_page_declared_in_meta():
    result = extract(page("windows1258.html"), "text/html")
    assert result.figures == {
        "received_total": 10309,
        "received_online": 2874,
        "resolved": 9967,
        "resolved_on_time": 9702,
        "online_rate": 27.88,
    }
    assert result.number_format == "vi"


def test_windows_1258_page_served_with_wrong_header():
    result = extract(page("windows1258.html"), "text/html; charset=utf-8")
    assert result.figures["received_total"] == 10309
    assert any("not valid utf-8" in w for w in result.warnings)


def test_windows_1258_page_without_any_declaration():
    body = page("windows1258.html").replace(b"; charset=windows-1258", b"")
    text, warnings = decode(body, None)
    assert "Tổng số hồ sơ đã tiếp nhận" in text
    assert any("guessed" in w for w in warnings)


def test_utf8_body_declared_as_windows_1258_is_read_as_utf8():
    body = "<p>Đã tiếp nhận: 1.234 hồ sơ</p>".encode()
    text, warnings = decode(body, "text/html; charset=windows-1258")
    assert "Đã tiếp nhận" in text
    assert warnings


def test_json_endpoint_auto():
    result = extract(page("summary.json"), "application/json")
    assert result.figures == {
        "received_total": 54321,
        "received_online": 40123,
        "resolved": 50000,
        "resolved_on_time": 49000,
        "online_rate": 73.86,
    }
    assert any("sum" in w for w in result.warnings)
    assert result.extractor == "auto"


def test_json_breakdown_auto_reads_the_summary_not_the_units_and_rule_paths_work():
    auto = extract(page("by_unit.json"), "application/json")
    assert auto.figures == {"received_total": 16080, "received_online": 12380, "resolved": 15820,
                            "resolved_on_time": 15775, "online_rate": 76.99}
    assert auto.evidence["received_total"]["path"] == "data.summary.received"
    assert any("disagree in data.items" in w for w in auto.warnings)
    rule = {
        "extractor": "json",
        "figures": {
            "received_total": "data.summary.received",
            "received_online": "data.summary.receivedOnline",
            "resolved": "data.items.1.resolved",
            "resolved_on_time": "data.items.0.onTime",
            "online_rate": "data.summary.onlineRate",
        },
    }
    result = extract(page("by_unit.json"), "application/json", rule)
    assert result.figures == {
        "received_total": 16080,
        "received_online": 12380,
        "resolved": 12640,
        "resolved_on_time": 3175,
        "online_rate": 76.99,
    }
    assert result.extractor == "json"
    assert result.number_format == "en"


def test_json_rule_missing_path_warns():
    rule = {"extractor": "json", "figures": {"resolved": "data.nothing.0"}}
    result = extract(page("by_unit.json"), None, rule)
    assert result.figures["resolved"] is None
    assert any("not found" in w for w in result.warnings)


def test_css_rule():
    rule = {
        "extractor": "css",
        "figures": {
            "received_total": "tr.total td:nth-child(2)",
            "received_online": "tr.total td:nth-child(3)",
            "resolved": "tr.total td:nth-child(5)",
            "resolved_on_time": "tr.total td:nth-child(6) b",
        },
    }
    result = extract(page("department_breakdown.html"), "text/html", rule)
    assert result.figures == {
        "received_total": 29602,
        "received_online": 20505,
        "resolved": 28823,
        "resolved_on_time": 28565,
        "online_rate": None,
    }
    assert result.extractor == "css"


def test_css_rule_matching_disagreeing_elements_gives_none():
    rule = {"extractor": "css", "figures": {"received_total": "td:nth-child(3)"}}
    result = extract(page("department_breakdown.html"), "text/html", rule)
    assert result.figures["received_total"] is None
    assert any("disagree" in w for w in result.warnings)


def test_regex_rule():
    rule = {
        "extractor": "regex",
        "figures": {
            "received_total": r"Tiếp nhận</b></td><td[^>]*>([\d.]+)",
            "online_rate": r"Tỷ lệ hồ sơ trực tuyến</b></td><td[^>]*>([\d,]+%)",
            "resolved": r"không có (\d+)",
        },
    }
    result = extract(page("province_table.html"), "text/html", rule)
    assert result.figures["received_total"] == 125480
    assert result.figures["online_rate"] == 65.0
    assert result.figures["resolved"] is None
    assert any("resolved" in w and "matched nothing" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Tiếp nhận: 12.345; trực tuyến: 8.000; đã giải quyết: 11.000</p>", (12345, 8000, 11000)),
        ("<ul><li>Đã tiếp nhận <b>12.345</b> hồ sơ</li><li>Qua mạng: 8.000</li></ul>", (12345, 8000, None)),
        ("<div><h4>Hồ sơ đã xử lý</h4><p>11.000</p></div>", (None, None, 11000)),
        ("<p>Đến ngày 17, đã tiếp nhận hồ sơ của 25 huyện</p>", (None, None, None)),
        ("<p>Tiếp nhận: 12.345</p><p>Tổng số hồ sơ tiếp nhận: 12.300</p>", (None, None, None)),
    ],
)
def test_text_labels(html, expected):
    result = extract(f"<html><body>{html}</body></html>", "text/html")
    figures = result.figures
    assert (figures["received_total"], figures["received_online"], figures["resolved"]) == expected


def test_disagreeing_text_candidates_warn():
    result = extract("<p>Tiếp nhận: 12.345</p><p>Tổng số hồ sơ tiếp nhận: 12.300</p>", None)
    assert any("received_total" in w and "12345" in w and "12300" in w for w in result.warnings)


def test_english_labels():
    html = """<table><tr><th>Metric</th><th>Value</th></tr>
    <tr><td>Applications received</td><td>12,345</td></tr>
    <tr><td>Submitted online</td><td>8,001</td></tr>
    <tr><td>Resolved</td><td>11,000</td></tr><tr><td>Resolved on time</td><td>10,500</td></tr>
    <tr><td>Resolved late</td><td>500</td></tr><tr><td>Online rate</td><td>64.8%</td></tr></table>"""
    result = extract(html, "text/html")
    assert result.figures == {
        "received_total": 12345,
        "received_online": 8001,
        "resolved": 11000,
        "resolved_on_time": 10500,
        "online_rate": 64.8,
    }
    assert result.number_format == "en"


def test_rate_without_percent_sign_below_one_is_not_guessed():
    result = extract("<dl><dt>Tỷ lệ trực tuyến</dt><dd>0,65</dd></dl>", None)
    assert result.figures["online_rate"] is None
    assert any("online_rate" in w for w in result.warnings)


def test_unaccented_labels():
    result = extract("<dl><dt>Da tiep nhan</dt><dd>1.500</dd><dt>Dung han</dt><dd>1.400</dd></dl>", None)
    assert result.figures["received_total"] == 1500
    assert result.figures["resolved_on_time"] == 1400


def test_to_dict_is_the_probe_contract():
    result = extract(page("province_table.html"), "text/html")
    data = result.to_dict("https://dichvucong.quangnam.gov.vn/thong-ke")
    assert list(data) == ["url", "figures", "number_format", "extractor", "warnings", "evidence"]
    assert list(data["figures"]) == list(FIGURES)
    assert list(data["evidence"]) == list(FIGURES)
    assert data["evidence"]["received_online"]["row"] == "- Trực tuyến"
    assert data["url"] == "https://dichvucong.quangnam.gov.vn/thong-ke"
    assert json.loads(json.dumps(data)) == data


def test_extraction_to_dict_always_has_five_figures():
    data = Extraction({"resolved": 3}, None, "css").to_dict("u")
    assert data["figures"] == {**dict.fromkeys(FIGURES), "resolved": 3}


def test_empty_and_garbage_bodies():
    for body in (b"", b"   ", b"\xff\xfe\x00garbage", "{not json", b"<html></html>"):
        result = extract(body, None)
        assert result.figures == dict.fromkeys(FIGURES)


def test_invalid_rule_raises():
    with pytest.raises(InvalidRule):
        extract("<p></p>", None, {"extractor": "xpath"})


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("auto", "JSON object"),
        ({"extractor": "xpath"}, "extractor must be one of"),
        ({"extractor": "css"}, "needs at least one figure"),
        ({"extractor": "auto", "figures": {"resolved": "td"}}, "takes no figures"),
        ({"extractor": "css", "figures": {"resolved": "td[["}}, "invalid CSS selector"),
        ({"extractor": "regex", "figures": {"resolved": "(\\d+"}}, "invalid regular expression"),
        ({"extractor": "regex", "figures": {"resolved": "\\d+"}}, "exactly one group"),
        ({"extractor": "regex", "figures": {"resolved": "(\\d+) (\\d+)"}}, "exactly one group"),
        ({"extractor": "json", "figures": {"resolved": "data..total"}}, "invalid JSON path"),
        ({"extractor": "json", "figures": {"applications": "data.total"}}, "unknown figure"),
        ({"extractor": "json", "figures": {"resolved": ""}}, "non-empty string"),
        ({"extractor": "json", "figures": ["data.total"]}, "figures must be an object"),
        ({"extractor": "json", "figures": {"resolved": "a"}, "extra": 1}, "unknown key"),
    ],
)
def test_validate_rule_errors(rule, fragment):
    errors = validate_rule(rule)
    assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize(
    "rule",
    [
        None,
        {"extractor": "auto"},
        {"extractor": "auto", "figures": {}},
        {"extractor": "css", "figures": {"resolved": "table.stats td.resolved"}},
        {"extractor": "regex", "figures": {"online_rate": r"Tỷ lệ[^0-9]*([\d,.]+)"}},
        {"extractor": "json", "figures": {"received_total": "data.items.0.total"}},
    ],
)
def test_validate_rule_accepts_good_rules(rule):
    assert validate_rule(rule) == []


@settings(max_examples=60, deadline=None)
@given(
    st.binary(max_size=400), st.sampled_from([None, "text/html", "application/json", "text/html; charset=x"])
)
def test_extract_never_raises_on_arbitrary_bytes(body, content_type):
    result = extract(body, content_type)
    assert set(result.figures) == set(FIGURES)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/ptdrl:.,%0123456789 Tiếp nhận")), max_size=200))
def test_extract_never_raises_on_tag_soup(text):
    extract(text, "text/html")


@pytest.mark.parametrize(
    ("label", "period"),
    [
        ("Tháng 10/2024", "Tháng 10/2024"),
        ("Tháng 10 năm 2024", "Tháng 10/2024"),
        ("Lũy kế từ đầu năm", "Lũy kế"),
        ("Luy ke", "Lũy kế"),
        ("Quý III/2024", "Quý 3/2024"),
        ("6 tháng đầu năm 2024", "6 tháng năm 2024"),
        ("Năm 2024", "Năm 2024"),
        ("2024", "Năm 2024"),
        ("October 2024", "Tháng 10/2024"),
        ("Year to date", "Lũy kế"),
        ("Cập nhật ngày 15 tháng 10 năm 2024", None),
        ("Số liệu đến ngày 15/10/2024", None),
        ("Hồ sơ tiếp nhận", None),
    ],
)
def test_find_period(label, period):
    assert find_period(label) == period


def test_period_matches():
    assert period_matches("Tháng 10/2024", "Tháng 10")
    assert period_matches("Lũy kế", "luy ke")
    assert not period_matches("Tháng 10/2024", "Tháng 1")
    assert not period_matches("Năm 2023", "Năm 2024")


@pytest.mark.parametrize(
    ("label", "rank"),
    [("Tổng cộng", 3), ("TỔNG CỘNG (I+II)", 3), ("Toàn tỉnh", 3), ("Tổng", 2), ("Total", 2), ("Cộng", 1),
     ("Tổng số", 2), ("Tổng cộng toàn tỉnh", 3), ("Tổng số hồ sơ tiếp nhận", None), ("Sở Tư pháp", None),
     ("Công an tỉnh", None), ("Tổng cục Thuế", None), ("Tổng số hồ sơ", 2), ("Cộng đồng", None)],
)
def test_total_rank(label, rank):
    assert total_rank(label) == rank


@pytest.mark.parametrize(
    ("label", "level"),
    [("Mức độ 3", "Mức độ 3"), ("DVC mức độ 4", "DVC mức độ 4"), ("Mức 1, 2", "Mức 1, 2"),
     ("Toàn trình", "Toàn trình"), ("DVC trực tuyến một phần", "DVC trực tuyến một phần"),
     ("Trực tuyến", None), ("Sở Tư pháp", None), ("Tiếp nhận", None)],
)
def test_level_name(label, level):
    assert level_name(label) == level


def test_two_row_header_total_row_in_second_cell_with_provenance():
    html = """<table><tr><th rowspan=2></th><th rowspan=2>Đơn vị</th><th colspan=2>Tiếp nhận</th>
    <th colspan=2>Đã giải quyết</th></tr><tr><th>Tổng số</th><th>Trực tuyến</th><th>Tổng số</th><th>Đúng hạn</th></tr>
    <tr><td>1</td><td>Sở A</td><td>10.000</td><td>8.000</td><td>9.000</td><td>8.900</td></tr>
    <tr><td>2</td><td>Sở B</td><td>13.871</td><td>10.102</td><td>13.950</td><td>13.974</td></tr>
    <tr><td></td><td><b>Tổng cộng</b></td><td>23.871</td><td>18.102</td><td>22.950</td><td>22.874</td></tr></table>"""
    result = extract(f'<html lang="vi"><body>{html}</body></html>', "text/html")
    assert result.figures == {"received_total": 23871, "received_online": 18102, "resolved": 22950,
                              "resolved_on_time": 22874, "online_rate": None}
    assert result.number_format == "vi"
    evidence = result.evidence["received_online"]
    assert (evidence["table"], evidence["row"], evidence["column"]) == (1, "Tổng cộng", "Tiếp nhận › Trực tuyến")


def test_level_table_is_summed_and_levels_kept():
    html = """<table><tr><th></th><th>Tiếp nhận</th></tr><tr><td>Mức độ 3</td><td>1.000</td></tr>
    <tr><td>Mức độ 4</td><td>2.500</td></tr></table>"""
    result = extract(html, "text/html")
    assert result.figures["received_total"] == 3500
    assert result.evidence["received_total"]["levels"] == {"Mức độ 3": 1000, "Mức độ 4": 2500}
    assert any("sum of the levels" in w for w in result.warnings)


def test_rules_win_and_report_number_format_and_evidence():
    page = '<html><body><p>Tiếp nhận: <span id="t">23.871</span></p><p>Hotline 1900.1234</p></body></html>'
    result = extract(page, "text/html", {"extractor": "css", "figures": {"received_total": "#t"}})
    assert result.figures["received_total"] == 23871
    assert result.number_format == "vi"
    assert result.evidence["received_total"] == {"kind": "css", "where": "CSS selector #t", "selector": "#t",
                                                 "text": "23.871"}
    regex = extract(page, "text/html", {"extractor": "regex", "figures": {"received_total": r'id="t">([\d.]+)'}})
    assert regex.figures["received_total"] == 23871 and regex.number_format == "vi"
    assert regex.evidence["received_total"]["kind"] == "regex"


def test_period_named_by_the_source_and_periods_seen():
    html = """<h2>Tháng 10</h2><p>Tiếp nhận: 100</p><h2>Lũy kế</h2><p>Tiếp nhận: 1.000</p>"""
    none = extract(html, "text/html")
    assert none.figures["received_total"] is None
    assert any("Tháng 10" in w and "Lũy kế" in w for w in none.warnings)
    assert extract(html, "text/html", None, "Lũy kế").figures["received_total"] == 1000
    missing = extract(html, "text/html", None, "Năm 2023")
    assert missing.figures["received_total"] is None
    assert any("not found" in w for w in missing.warnings)


def test_number_counting_something_else_is_not_read():
    result = extract("<p>Đã tiếp nhận hồ sơ của 25 huyện và 120 xã trong năm.</p>", "text/html")
    assert result.figures == dict.fromkeys(FIGURES)


def test_breakdown_without_total_does_not_veto_a_summary_card():
    html = """<div class=card><span>Tổng số hồ sơ tiếp nhận</span> <b>23.871</b></div>
    <table><tr><th>Đơn vị</th><th>Tiếp nhận</th></tr><tr><td>Sở A</td><td>10.000</td></tr>
    <tr><td>Sở B</td><td>13.871</td></tr></table>"""
    result = extract(html, "text/html")
    assert result.figures["received_total"] == 23871
    assert result.evidence["received_total"]["kind"] == "text"
    assert any("disagree in table 1" in w for w in result.warnings)


@pytest.mark.parametrize(
    "html",
    [
        "<p>Tỷ lệ hồ sơ trực tuyến tăng 5,2%</p>",
        "<p>Số hồ sơ tiếp nhận giảm 1.200 hồ sơ so với cùng kỳ</p>",
        "<p>Hồ sơ trực tuyến toàn trình: 5.000</p><p>Hồ sơ trực tuyến một phần: 3.000</p>",
        "<dl><dt>Hồ sơ tiếp nhận mức độ 4</dt><dd>2.000</dd></dl>",
        "<p>Tỷ lệ giải quyết đúng hạn đạt 98,5%</p>",
    ],
)
def test_changes_and_single_levels_are_not_whole_figures(html):
    assert extract(f"<html lang='vi'><body>{html}</body></html>", "text/html").figures == dict.fromkeys(FIGURES)

import xml.etree.ElementTree as ET

import pytest
from babel.numbers import format_decimal

from portal.services.charts import bar_chart, trend_line

NS = {"svg": "http://www.w3.org/2000/svg"}
ROWS = [("Hà Giang", 1374), ("Hà Nam", 1310), ("Quảng Ninh", 962), ("Cà Mau", 589)]


def vi_number(value: float) -> str:
    return format_decimal(value, locale="vi")


def vi_percent(share: float) -> str:
    return format_decimal(share * 100, format="#,##0.0", locale="vi") + " %"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//svg:g[@class='bar']", NS)


def test_bar_chart_is_accessible_svg():
    root = parse(bar_chart(ROWS, title="Số DVCTT mức độ 3, 4", value_format=vi_number))
    assert root.get("role") == "img"
    title = root.find("svg:title", NS)
    desc = root.find("svg:desc", NS)
    assert title.text == "Số DVCTT mức độ 3, 4"
    assert "Hà Giang: 1.374" in desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert root.findall(".//svg:script", NS) == []
    assert root.findall(".//svg:foreignObject", NS) == []


def test_one_bar_per_row_in_the_given_order_with_labels_and_values():
    root = parse(bar_chart(ROWS, title="t", value_format=vi_number))
    groups = bars(root)
    assert len(groups) == 4
    labels = [g.find("svg:text[@class='label']", NS).text for g in groups]
    values = [g.find("svg:text[@class='value']", NS).text for g in groups]
    ys = [float(g.find("svg:rect", NS).get("y")) for g in groups]
    widths = [float(g.find("svg:rect", NS).get("width")) for g in groups]
    assert labels == [label for label, _ in ROWS]
    assert values == ["1.374", "1.310", "962", "589"]
    assert ys == sorted(ys) and len(set(ys)) == 4
    assert widths == sorted(widths, reverse=True)
    assert widths[0] > 0
    assert widths[3] == pytest.approx(widths[0] * 589 / 1374, abs=0.1)


def test_reverse_order_is_kept():
    root = parse(bar_chart(list(reversed(ROWS)), title="t"))
    labels = [g.find("svg:text[@class='label']", NS).text for g in bars(root)]
    assert labels == [label for label, _ in reversed(ROWS)]


def test_labels_are_escaped():
    evil = '<script>alert("x")</script> & Co'
    svg = bar_chart([(evil, 1)], title="<b>title</b>", value_format=lambda v: f"<{v}>")
    assert "<script>" not in svg
    root = parse(svg)
    assert root.findall(".//svg:script", NS) == []
    group = bars(root)[0]
    assert group.find("svg:text[@class='label']", NS).text == evil
    assert group.find("svg:text[@class='value']", NS).text == "<1>"
    assert root.find("svg:title", NS).text == "<b>title</b>"


def test_control_characters_do_not_break_the_markup():
    parse(bar_chart([("a\x00b\x1b", 1)], title="t\x07"))


def test_missing_and_zero_values_draw_no_bar():
    root = parse(bar_chart([("A", 10), ("B", None), ("C", 0)], title="t"))
    groups = bars(root)
    widths = [float(g.find("svg:rect", NS).get("width")) for g in groups]
    assert widths[0] > 0 and widths[1] == 0 and widths[2] == 0
    assert groups[1].find("svg:text[@class='value']", NS).text == "—"


def test_empty_bar_chart():
    root = parse(bar_chart([], title="t"))
    assert bars(root) == []


def test_chart_ids_differ_between_charts():
    a = parse(bar_chart(ROWS, title="a")).find("svg:title", NS).get("id")
    b = parse(bar_chart(ROWS, title="b")).find("svg:title", NS).get("id")
    assert a != b


def paths(root: ET.Element) -> list[str]:
    return [p.get("d") for p in root.findall(".//svg:path[@class='line']", NS)]


def test_trend_line_breaks_at_missing_values():
    points = [("2016", 0.45), ("2017", 0.5), ("2018", None), ("2019", 0.7), ("2020", 0.8)]
    root = parse(trend_line(points, title="Tỷ lệ", value_format=vi_percent))
    assert root.get("role") == "img"
    d = paths(root)
    assert len(d) == 2
    isolated = parse(trend_line([("a", 1), ("b", None), ("c", 2), ("d", None)], title="t"))
    assert paths(isolated) == [] and len(isolated.findall(".//svg:circle", NS)) == 2
    assert d[0].count("M") == 1 and d[0].count("L") == 1
    assert len(root.findall(".//svg:circle", NS)) == 4
    periods = [t.text for t in root.findall(".//svg:text[@class='period']", NS)]
    assert periods == ["2016", "2017", "2018", "2019", "2020"]
    assert "2018: —" in root.find("svg:desc", NS).text
    assert "2016: 45,0 %" in root.find("svg:desc", NS).text


def test_trend_line_goes_up_when_values_grow():
    root = parse(trend_line([("a", 1), ("b", 2), ("c", 3)], title="t"))
    cys = [float(c.get("cy")) for c in root.findall(".//svg:circle", NS)]
    cxs = [float(c.get("cx")) for c in root.findall(".//svg:circle", NS)]
    assert cys == sorted(cys, reverse=True)
    assert cxs == sorted(cxs)


def test_trend_line_without_values():
    root = parse(trend_line([("2016", None), ("2017", None)], title="t"))
    assert paths(root) == []
    assert root.find(".//svg:text[@class='no-data']", NS) is not None


def test_trend_line_single_point_and_flat_series():
    root = parse(trend_line([("2016", 5)], title="t"))
    assert paths(root) == [] and len(root.findall(".//svg:circle", NS)) == 1
    root = parse(trend_line([("a", 2), ("b", 2)], title="t"))
    assert len(paths(root)) == 1


def test_trend_labels_escaped():
    root = parse(trend_line([("<script>", 1)], title="t"))
    assert root.find(".//svg:text[@class='period']", NS).text == "<script>"
    assert root.findall(".//svg:script", NS) == []

import csv
import random
from pathlib import Path

import pytest

from portal.services.ranking_rules import (
    METRICS,
    NO_ACTIVE_SERVICE,
    NO_DATA,
    RankRow,
    _vn_key,
    apply_successors,
    parse_figure,
    rank_rows,
    ranking_from_report,
    successor_map_from_rows,
)

DATA = Path(__file__).resolve().parent.parent / "fixtures" / "official_tables"


def read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


AGENCIES = {a["code"]: a for a in read_csv("agencies.csv")}
REPORT = [
    {**r, "name": AGENCIES[r["code"]]["name"], "kind": AGENCIES[r["code"]]["kind"]}
    for r in read_csv("report_2016.csv")
]
EXPECTED = read_csv("expected_ranks.csv")

# table -> (metric, kind of agency)
TABLES = {
    "2.6": ("services_total", "ministry"),
    "2.7": ("online_applications", "ministry"),
    "4.7": ("services_total", "province"),
    "4.8": ("online_applications", "province"),
}


def expected(table: str) -> list[dict[str, str]]:
    rows = [r for r in EXPECTED if r["table"] == table]
    assert rows, table
    return rows


def report_rows(table: str) -> list[dict[str, str]]:
    codes = {r["code"] for r in expected(table)}
    return [r for r in REPORT if r["code"] in codes]


def row(code: str, value, tiebreak=None, name: str | None = None) -> RankRow:
    return RankRow(agency_code=code, agency_name=name or code, value=value, tiebreak=tiebreak)


# --- the official tables -------------------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(TABLES))
def test_official_table_ranks(table):
    metric, _kind = TABLES[table]
    got = {r.agency_code: r.rank for r in ranking_from_report(report_rows(table), metric)}
    rows = expected(table)
    assert set(got) == {r["code"] for r in rows}
    mismatches = {
        r["code"]: (got[r["code"]], int(r["rank"]))
        for r in rows
        if not r["contradiction"] and got[r["code"]] != int(r["rank"])
    }
    assert mismatches == {}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_contradictions_are_real_and_the_rule_gives_the_noted_rank(table):
    metric, _kind = TABLES[table]
    got = {r.agency_code: r.rank for r in ranking_from_report(report_rows(table), metric)}
    for r in expected(table):
        if r["contradiction"]:
            assert got[r["code"]] != int(r["rank"]), r["code"]
            assert got[r["code"]] == int(r["rule_rank"]), r["code"]
        else:
            assert r["rule_rank"] == "", r["code"]


def test_contradictions_listed():
    assert sorted((r["table"], r["code"]) for r in EXPECTED if r["contradiction"]) == [
        ("2.6", "bo-giao-duc-va-dao-tao"),
        ("2.6", "bo-xay-dung"),
        ("2.7", "bo-giao-thong-van-tai"),
        ("2.7", "bo-khoa-hoc-va-cong-nghe"),
        ("2.7", "bo-noi-vu"),
    ]


@pytest.mark.parametrize("table", ["2.6", "4.7", "4.8"])
def test_official_table_display_order(table):
    """Ties are listed in Vietnamese dictionary order (4.8's last group checks the digraphs)."""
    metric, _kind = TABLES[table]
    got = [r.agency_code for r in ranking_from_report(report_rows(table), metric)]
    assert got == [r["code"] for r in expected(table)]


@pytest.mark.parametrize("table", ["2.6", "4.7", "4.8"])
def test_table_covers_every_evaluated_agency_of_its_kind(table):
    _metric, kind = TABLES[table]
    assert {r["code"] for r in expected(table)} == {r["code"] for r in REPORT if r["kind"] == kind}


def test_table_2_7_leaves_out_the_ministries_without_services():
    ministries = {r["code"] for r in REPORT if r["kind"] == "ministry"}
    left_out = ministries - {r["code"] for r in expected("2.7")}
    assert left_out == {"thanh-tra-chinh-phu", "uy-ban-dan-toc"}
    assert all(
        parse_figure(r["services_l3"]) == 0 == parse_figure(r["services_l4"])
        for r in REPORT
        if r["code"] in left_out
    )


@pytest.mark.parametrize("table", sorted(TABLES))
def test_report_figures_match_the_published_tables(table):
    by_code = {r["code"]: r for r in REPORT}
    for r in expected(table):
        figures = by_code[r["code"]]
        if table in ("2.6", "4.7"):
            total = parse_figure(figures["services_l3"]) + parse_figure(figures["services_l4"])
            assert total == int(r["published_value"] or 0), r["code"]
            if r["published_l3"]:
                assert parse_figure(figures["services_l3"]) == int(r["published_l3"]), r["code"]
                assert parse_figure(figures["services_l4"]) == int(r["published_l4"]), r["code"]
        else:
            published = int(r["published_value"]) if r["published_value"] else None
            assert parse_figure(figures["online_applications"]) == published, r["code"]


def test_notes_on_the_last_rank():
    table = ranking_from_report(report_rows("4.7"), "services_total")
    last = [r for r in table if r.rank == 63]
    assert {r.agency_code for r in last} == {"bac-lieu", "bac-kan", "cao-bang", "hoa-binh", "tra-vinh"}
    assert {r.note for r in last} == {NO_ACTIVE_SERVICE}
    assert all(r.note is None for r in table if r.rank != 63)
    apps = ranking_from_report(report_rows("4.8"), "online_applications")
    assert {r.note for r in apps if r.rank == 63} == {NO_DATA}
    assert len([r for r in apps if r.rank == 63]) == 40


def test_government_agencies_section_3_4():
    """Only Vietnam Social Security offered services; its total is the sum of table 3.4."""
    services = read_csv("bhxh_services_2016.csv")
    assert len(services) == 14
    rows = [r for r in REPORT if r["kind"] == "government_agency"]
    apps = ranking_from_report(rows, "online_applications")
    assert apps[0].agency_code == "bao-hiem-xa-hoi-viet-nam"
    assert apps[0].rank == 1
    assert apps[0].value == sum(int(s["online_applications_2016"]) for s in services) == 28_603_066
    assert {(r.rank, r.note) for r in apps[1:]} == {(8, NO_DATA)}
    totals = ranking_from_report(rows, "services_total")
    assert (totals[0].agency_code, totals[0].value, totals[0].rank) == ("bao-hiem-xa-hoi-viet-nam", 14, 1)


def test_index_metric_ranks_by_value_with_shared_ranks():
    rows = [r for r in REPORT if r["kind"] == "province"]
    table = ranking_from_report(rows, "it_policy_index")
    top = [r for r in table if r.rank == 1]
    # table 4.9: seven provinces share rank 1 with 1,000, the next is 8th
    assert {r.agency_code for r in top} == {
        "lao-cai",
        "nghe-an",
        "quang-binh",
        "da-nang",
        "ha-noi",
        "ho-chi-minh",
        "thanh-hoa",
    }
    assert [r.agency_name for r in top][-2:] == ["TP. Hồ Chí Minh", "Thanh Hóa"]
    assert table[7].agency_code == "ba-ria-vung-tau" and table[7].rank == 8


def test_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric"):
        ranking_from_report(REPORT, "popularity")


def test_metrics_described():
    assert set(METRICS) == {
        "services_total",
        "services_l3",
        "services_l4",
        "online_applications",
        "reply_hours",
        "online_rate",
        "availability",
        "working_share",
        "it_infrastructure_index",
        "it_internal_index",
        "website_index",
        "it_policy_index",
        "it_hr_index",
    }
    assert [k for k, m in METRICS.items() if m.tiebreak] == ["services_total"]
    report_columns = set(REPORT[0])
    for key in (
        "it_infrastructure_index",
        "it_internal_index",
        "website_index",
        "it_policy_index",
        "it_hr_index",
    ):
        assert key in report_columns
        assert METRICS[key].decimals == 3


def test_online_rate_from_received_figures():
    rows = [
        {"code": "a", "name": "A", "received_online": "30", "received_total": "40"},
        {"code": "b", "name": "B", "online_rate": 0.9},
        {"code": "c", "name": "C", "received_online": "1", "received_total": "0"},
    ]
    got = ranking_from_report(rows, "online_rate")
    assert [(r.agency_code, r.value, r.rank, r.note) for r in got] == [
        ("b", 0.9, 1, None),
        ("a", 0.75, 2, None),
        ("c", None, 3, NO_DATA),
    ]


# --- rank_rows -------------------------------------------------------------------------------------


def test_shared_rank_skips_the_next():
    got = rank_rows([row("a", 5), row("b", 9), row("c", 7), row("d", 7), row("e", 3)], tiebreak=False)
    assert [(r.agency_code, r.rank) for r in got] == [("b", 1), ("c", 2), ("d", 2), ("a", 4), ("e", 5)]


def test_tiebreak_by_higher_level_then_shared():
    rows = [row("x", 10, 1), row("y", 10, 8), row("z", 10, 1), row("w", 4, 0)]
    got = rank_rows(rows)
    assert [(r.agency_code, r.rank) for r in got] == [("y", 1), ("x", 2), ("z", 2), ("w", 4)]
    untied = rank_rows(rows, tiebreak=False)
    assert [r.rank for r in untied] == [1, 1, 1, 4]


def test_zero_and_missing_come_last_with_rank_n():
    got = rank_rows([row("none", None), row("zero", 0, 0), row("one", 1, 0), row("two", 2, 0)])
    assert [(r.agency_code, r.rank, r.note) for r in got] == [
        ("two", 1, None),
        ("one", 2, None),
        ("none", 4, NO_DATA),
        ("zero", 4, NO_ACTIVE_SERVICE),
    ]


def test_ascending_keeps_zero_in_the_ranking():
    got = rank_rows([row("a", 3), row("b", 0), row("c", None)], descending=False)
    assert [(r.agency_code, r.rank, r.note) for r in got] == [
        ("b", 1, None),
        ("a", 2, None),
        ("c", 3, NO_DATA),
    ]


def test_input_not_mutated_and_order_independent():
    rows = [
        row(str(i), v, t, name=f"N{i}")
        for i, (v, t) in enumerate([(3, 1), (3, 0), (1, 0), (0, 0), (None, None)])
    ]
    before = [(r.rank, r.note) for r in rows]
    first = [(r.agency_code, r.rank) for r in rank_rows(rows)]
    assert [(r.rank, r.note) for r in rows] == before
    shuffled = rows[:]
    random.Random(4).shuffle(shuffled)
    assert [(r.agency_code, r.rank) for r in rank_rows(shuffled)] == first


def test_empty():
    assert rank_rows([]) == []


# --- Vietnamese order ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Bạc Liêu", "Bắc Kạn"),  # a < ă
        ("Bình Dương", "Bình Định"),  # d < đ
        ("Ninh Bình", "Nghệ An"),  # n < ng
        ("Quảng Ninh", "Quảng Ngãi"),
        ("Tuyên Quang", "Thái Nguyên"),  # t < th
        ("TP. Hồ Chí Minh", "Thanh Hóa"),
        ("Thừa Thiên - Huế", "Trà Vinh"),  # th < tr
        ("Bộ Giáo dục và Đào tạo", "Bộ Giao thông vận tải"),  # letters first, tones second
        ("Bà Rịa - Vũng Tàu", "Bạc Liêu"),
        ("Hà Nam", "Hậu Giang"),
        ("Ủy ban Dân tộc", "Văn phòng Chính phủ"),  # u < v
        ("Đắk Nông", "Gia Lai"),
        ("ca", "cà"),  # ngang < huyền
        ("cà", "cá"),  # huyền < sắc
    ],
)
def test_vietnamese_order(before, after):
    assert _vn_key(before) < _vn_key(after)


def test_vietnamese_order_ignores_case_and_composition():
    import unicodedata

    assert _vn_key("Đà Nẵng")[:2] == _vn_key(unicodedata.normalize("NFD", "đà nẵng"))[:2]


# --- successors ------------------------------------------------------------------------------------


def test_apply_successors_sums_counts_and_says_who_merged():
    successors, names = successor_map_from_rows(read_csv("reorganisation_2025.csv"))
    provinces = [r for r in REPORT if r["kind"] == "province"]
    merged, merges = apply_successors(provinces, successors, successor_names=names)
    assert len(merged) == 34
    by_code = {r["code"]: r for r in merged}
    # Cần Thơ absorbed Hậu Giang and Sóc Trăng
    assert merges["can-tho"] == ["hau-giang", "soc-trang"]
    assert by_code["can-tho"]["services_l3"] == 326 + 31 + 28
    assert by_code["can-tho"]["services_l4"] == 15 + 12 + 0
    assert by_code["can-tho"]["name"] == "Thành phố Cần Thơ"
    assert by_code["can-tho"]["online_applications"] is None
    assert by_code["can-tho"]["missing_parts"] == {}
    assert by_code["can-tho"]["it_policy_index"] is None
    # Cà Mau (1 application) + Bạc Liêu (no figure): the sum is unknown, and says why
    assert by_code["ca-mau"]["online_applications"] is None
    assert by_code["ca-mau"]["missing_parts"] == {"online_applications": ["bac-lieu"]}
    # a province that only continues keeps everything
    assert "cao-bang" not in merges
    assert by_code["cao-bang"]["it_policy_index"] == "0.460"
    assert sum(len(v) for v in merges.values()) == 63 - 34
    ranked = ranking_from_report(merged, "services_total")
    assert len(ranked) == 34 and ranked[0].rank == 1
    assert next(r for r in ranked if r.agency_code == "can-tho").extra["merged_from"] == [
        "can-tho",
        "hau-giang",
        "soc-trang",
    ]


def test_apply_successors_new_ministry():
    successors, names = successor_map_from_rows(read_csv("reorganisation_2025.csv"))
    ministries = [r for r in REPORT if r["kind"] == "ministry"]
    merged, merges = apply_successors(ministries, successors, successor_names=names)
    by_code = {r["code"]: r for r in merged}
    assert merges["bo-nong-nghiep-va-moi-truong"] == [
        "bo-nong-nghiep-va-phat-trien-nong-thon",
        "bo-tai-nguyen-va-moi-truong",
    ]
    assert by_code["bo-nong-nghiep-va-moi-truong"]["name"] == "Bộ Nông nghiệp và Môi trường"
    assert by_code["bo-nong-nghiep-va-moi-truong"]["services_l3"] == 2 + 4
    assert merges["bo-tai-chinh"] == ["bo-ke-hoach-va-dau-tu"]
    assert by_code["bo-tai-chinh"]["online_applications"] == 21463626 + 453815
    assert merges["bo-dan-toc-va-ton-giao"] == ["uy-ban-dan-toc"]
    assert "bo-ke-hoach-va-dau-tu" not in by_code
    assert len(merged) == len(ministries) - 5

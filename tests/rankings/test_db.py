"""Rankings computed from the database, on SQLite and PostgreSQL: the official 2016 tables, verified figures,
sub-units, the 2025 reorganisation, ties, unsupported requests, and aggregation in the database."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func

from portal.models import AgencyDailyRollup, Check, DailyRollup, Service
from portal.services import ranking_choice, rankings
from portal.services.agencies import get_by_code
from portal.services.ranking_rules import NO_ACTIVE_SERVICE, NO_DATA
from portal.services.seed import load_agencies
from tests.rankings.helpers import (
    TABLES,
    agency,
    crawled,
    expected,
    import_report,
    quarterly,
    ranks,
    rollups,
    services,
)


def ranked(session, metric, kind="province", source=None, period=None, **kw):
    selection = ranking_choice.choose(session, metric=metric, kind=kind, source=source, period=period)
    return rankings.ranking(session, selection, **kw)


@pytest.fixture
def official(db):
    """The agencies of 2016–2025 and the 2016 figures imported from report_2016.csv."""
    load_agencies(db.session)
    db.session.commit()
    assert import_report(db.session) == 93 - 3  # Defence, Public Security, Government Office not evaluated
    return db.session


# --- the official tables, through the database -------------------------------------------------------


@pytest.mark.parametrize("table", sorted(TABLES))
def test_official_tables_rank_for_rank(official, table):
    metric, kind = TABLES[table]
    result = ranked(official, metric, kind, "reported", "2016")
    got = ranks(result)
    rows = expected(table)
    assert set(got) == {r["code"] for r in rows}
    differing = {r["code"] for r in rows if got[r["code"]] != int(r["rank"])}
    assert differing == {r["code"] for r in rows if r["contradiction"]}
    assert all(got[r["code"]] == int(r["rule_rank"]) for r in rows if r["contradiction"])
    if table.startswith("4."):
        assert differing == set()


@pytest.mark.parametrize("table", ["2.6", "4.7", "4.8"])
def test_official_tables_listed_in_the_published_order(official, table):
    metric, kind = TABLES[table]
    result = ranked(official, metric, kind, "reported", "2016")
    assert [r.agency_code for r in result.rows] == [r["code"] for r in expected(table)]


def test_reported_defaults_to_the_latest_report_and_keeps_the_agencies_of_2016(official):
    result = ranked(official, "services_total", "province", "reported")
    assert result.selection.period.key == "2016"
    assert len(result.rows) == 63 and result.merges == {}
    assert result.day == date(2016, 12, 31)
    last = [r for r in result.rows if r.rank == 63]
    assert {r.agency_code for r in last} == {"bac-lieu", "bac-kan", "cao-bang", "hoa-binh", "tra-vinh"}
    assert {r.note for r in last} == {NO_ACTIVE_SERVICE}
    assert result.counterpart is None  # the portal did not observe 2016


def test_table_2_7_leaves_out_the_ministries_without_services_and_4_8_does_not(official):
    apps = ranked(official, "online_applications", "ministry", "reported", "2016")
    assert [(code, reason) for code, _, reason in apps.left_out] == [
        ("thanh-tra-chinh-phu", rankings.NO_ONLINE_SERVICE), ("uy-ban-dan-toc", rankings.NO_ONLINE_SERVICE)]
    assert {r.rank for r in apps.rows if r.note == NO_DATA} == {17}
    provinces = ranked(official, "online_applications", "province", "reported", "2016")
    assert provinces.left_out == []
    assert len([r for r in provinces.rows if r.rank == 63 and r.note == NO_DATA]) == 40


def test_index_ranking_shares_ranks(official):
    result = ranked(official, "it_policy_index", "province", period="2016")
    assert result.selection.source == "reported"
    assert [r.rank for r in result.rows[:8]] == [1] * 7 + [8]


def test_current_reported_sums_the_2016_figures_into_todays_provinces(official):
    result = ranked(official, "services_l3", "province", "reported", "current")
    assert result.selection.basis.key == "2016"
    assert len(result.rows) == 34
    by_code = result.by_code()
    assert by_code["can-tho"].value == 326 + 31 + 28
    assert by_code["can-tho"].extra["merged_from"] == ["can-tho", "hau-giang", "soc-trang"]
    assert result.merges["can-tho"] == ["hau-giang", "soc-trang"]
    assert "hau-giang" not in by_code
    apps = ranked(official, "online_applications", "province", "reported", "current").by_code()
    assert apps["ca-mau"].value is None and apps["ca-mau"].note == NO_DATA
    assert apps["ca-mau"].extra["missing_parts"] == {"online_applications": ["bac-lieu"]}
    ministries = ranked(official, "online_applications", "ministry", "reported", "current").by_code()
    assert ministries["bo-tai-chinh"].value == 21463626 + 453815


# --- verified figures --------------------------------------------------------------------------------


@pytest.fixture
def observed(db):
    """Three provinces with services, health, roll-ups, raw checks and crawled figures."""
    s = db.session
    an, binh, ca = agency(s, "an", "Tỉnh An"), agency(s, "binh", "Tỉnh Bình"), agency(s, "ca", "Tỉnh Cà")
    up = services(s, an, l3=3, l4=1)
    services(s, an, l4=1, health="down")
    services(s, an, l3=2, status="retired")
    unknown = services(s, binh, l3=2, l4=3, health="unknown")
    rollups(s, up[0], 1, checks=10, up=9)
    rollups(s, up[0], 30, checks=10, up=5, degraded=5)
    rollups(s, up[0], 31, checks=100, up=0)  # outside the 30 days to yesterday
    rollups(s, up[0], 0, checks=50, up=0)  # today: not a whole day yet
    now = datetime.now(UTC)
    s.add_all([Check(service_id=up[0].id, checked_at=now, outcome="down", reason="timeout", elapsed_ms=100)])
    rollups(s, unknown[0], 2, checks=4, up=4)
    crawled(s, an, online=100, total=400, observed_at=now - timedelta(days=2))
    crawled(s, an, online=50, total=200, observed_at=now - timedelta(days=5))
    crawled(s, an, online=999, total=1000, observed_at=now - timedelta(hours=1), status="held")
    crawled(s, an, online=5000, total=5000, observed_at=now, service=up[1])
    crawled(s, an, online=7000, total=7000, period="2001-Q1")
    crawled(s, binh, online=None, total=None, rate=90.0)
    s.commit()
    return {"an": an, "binh": binh, "ca": ca}


def test_verified_service_counts_break_ties_by_level_4(db, observed):
    result = ranked(db.session, "services_total", source="verified")
    assert result.selection.period.key == "current"
    assert [(r.agency_code, r.rank, r.value, r.extra["services_l4"], r.note) for r in result.rows] == [
        ("binh", 1, 5, 3, None),  # 5 services, 3 at level 4
        ("an", 2, 5, 2, None),  # 5 active (the 2 retired do not count), 2 at level 4
        ("ca", 3, 0, 0, NO_ACTIVE_SERVICE),
    ]
    assert ranks(ranked(db.session, "services_l3", source="verified")) == {"an": 1, "binh": 2, "ca": 3}


def test_verified_working_share_and_availability(db, observed):
    working = ranked(db.session, "working_share").rows
    assert [(r.agency_code, r.rank, r.value, r.note) for r in working] == [
        ("an", 1, 4 / 5, None), ("binh", 3, None, NO_DATA), ("ca", 3, None, NO_ACTIVE_SERVICE)]
    availability = ranked(db.session, "availability").rows
    assert [(r.agency_code, r.rank, r.note) for r in availability] == [
        ("binh", 1, None), ("an", 2, None), ("ca", 3, NO_ACTIVE_SERVICE)]
    assert availability[0].value == 1.0
    assert availability[1].value == pytest.approx((9 + 10) / (10 + 10))


def test_availability_totals_per_agency_follow_the_roll_ups(db):
    """The triggers keep agency_daily_rollups equal to the roll-ups grouped by the services' agencies."""
    s = db.session
    first, second = agency(s, "nhat", "Tỉnh Nhất"), agency(s, "nhi", "Tỉnh Nhì")
    one, two = services(s, first, l3=2)
    rollups(s, one, 1, checks=10, up=8)
    rollups(s, two, 1, checks=20, up=10, degraded=5)
    rollups(s, two, 2, checks=4, up=4)
    s.commit()

    def totals():
        return sorted(tuple(r) for r in s.execute(db.select(
            AgencyDailyRollup.agency_id, AgencyDailyRollup.day, AgencyDailyRollup.checks, AgencyDailyRollup.working)
            .where(AgencyDailyRollup.checks != 0)))

    def grouped():
        return sorted(tuple(r) for r in s.execute(db.select(
            Service.agency_id, DailyRollup.day, func.sum(DailyRollup.checks),
            func.sum(DailyRollup.up + DailyRollup.degraded)).join(Service, Service.id == DailyRollup.service_id)
            .group_by(Service.agency_id, DailyRollup.day)))

    assert totals() == grouped() and len(totals()) == 2
    s.execute(db.update(DailyRollup).where(DailyRollup.service_id == one.id).values(checks=12, up=12))
    s.execute(db.delete(DailyRollup).where(DailyRollup.service_id == two.id, DailyRollup.checks == 4))
    s.commit()
    assert totals() == grouped()
    two.agency_id = second.id  # the service moves with its history
    s.commit()
    assert totals() == grouped()
    assert {row[0] for row in totals()} == {first.id, second.id}
    assert ranked(s, "availability").by_code()["nhi"].value == 15 / 20


def test_verified_applications_are_the_newest_published_snapshot_of_the_quarter(db, observed):
    apps = ranked(db.session, "online_applications").rows
    assert [(r.agency_code, r.rank, r.value, r.note) for r in apps] == [
        ("an", 1, 100, None), ("binh", 3, None, NO_DATA), ("ca", 3, None, NO_DATA)]
    rate = ranked(db.session, "online_rate").rows
    assert [(r.agency_code, r.rank, r.value) for r in rate] == [("binh", 1, 0.9), ("an", 2, 0.25), ("ca", 3, None)]


def test_sub_units_roll_up_to_their_top_agency(db):
    s = db.session
    top = agency(s, "tinh-tren", "Tỉnh Trên")
    department = agency(s, "so-tren", "Sở Tài chính Tỉnh Trên", parent_id=top.id)
    district = agency(s, "huyen-tren", "Huyện Dưới", parent_id=department.id)
    other = agency(s, "tinh-khac", "Tỉnh Khác")
    unit = agency(s, "so-khac", "Sở Y tế Tỉnh Khác", parent_id=other.id)
    services(s, top, l3=1)
    services(s, department, l4=2)
    services(s, district, l4=1, health="dead")
    crawled(s, top, online=100, total=100)
    crawled(s, department, online=900, total=900)
    crawled(s, unit, online=40, total=80)
    s.commit()
    totals = ranked(s, "services_total", source="verified")
    assert [(r.agency_code, r.value, r.extra["services_l4"]) for r in totals.rows] == [
        ("tinh-tren", 4, 3), ("tinh-khac", 0, 0)]
    assert ranked(s, "working_share").by_code()["tinh-tren"].value == 3 / 4
    apps = ranked(s, "online_applications").by_code()
    assert apps["tinh-tren"].value == 100  # the agency's own statistics page stands for it
    assert apps["tinh-khac"].value == 40  # without one, its units' pages add up


# --- reorganisation ----------------------------------------------------------------------------------


@pytest.fixture
def merged(db):
    """Provinces A and B merged into C on 1 July 2025; D unchanged."""
    s = db.session
    c = agency(s, "c", "Tỉnh C")
    d = agency(s, "d", "Tỉnh D")
    a = agency(s, "a", "Tỉnh A", valid_to=date(2025, 7, 1), successor_id=c.id)
    b = agency(s, "b", "Tỉnh B", valid_to=date(2025, 7, 1), successor_id=c.id)
    early = datetime(2024, 10, 5, tzinfo=UTC)
    services(s, a, l3=2, created_at=early)
    services(s, b, l4=1, created_at=early)
    services(s, c, l3=1, created_at=early)
    services(s, d, l3=3)
    quarterly(s, a, "2024-Q4", l3=10, l4=0)
    quarterly(s, c, "2024-Q4", l3=5, l4=5)
    quarterly(s, c, "2025-Q4", l3=40, l4=4)
    s.commit()
    return s


def test_a_quarter_counts_the_services_registered_at_its_end(db):
    """Fewer services before the end than after: counted directly (the merger test below counts the other way)."""
    s = db.session
    province = agency(s, "tinh-quy", "Tỉnh Quý")
    before, after = datetime(2024, 11, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    services(s, province, l3=2, created_at=before)  # counted
    services(s, province, l4=3, created_at=after)  # registered after the quarter
    gone_later = services(s, province, l4=1, status="retired", created_at=before)  # retired after: counted
    gone_before = services(s, province, l3=5, status="retired", created_at=before)
    for service in gone_before:
        service.retired_at = datetime(2024, 12, 1, tzinfo=UTC)
    quarterly(s, province, "2024-Q4", l3=9, l4=9)
    s.commit()
    assert gone_later[0].retired_at > after
    quarter = ranked(s, "services_total", source="verified", period="2024-Q4").by_code()["tinh-quy"]
    assert (quarter.value, quarter.extra["services_l4"]) == (3, 1)
    now = ranked(s, "services_total", source="verified", period="current").by_code()["tinh-quy"]
    assert (now.value, now.extra["services_l4"]) == (5, 3)


def test_current_period_sums_merged_agencies_into_their_successor(merged):
    result = ranked(merged, "services_total", source="verified")
    assert [(r.agency_code, r.value, r.extra["merged_from"]) for r in result.rows] == [
        ("c", 4, ["a", "b", "c"]), ("d", 3, ["d"])]
    assert result.merged() == [("c", ["a", "b"])]


def test_a_period_before_the_merger_uses_the_agencies_of_that_time(merged):
    reported = ranked(merged, "services_total", source="reported", period="2024-Q4")
    assert [(r.agency_code, r.value) for r in reported.rows] == [("c", 10), ("a", 10)]
    assert ranks(reported) == {"c": 1, "a": 2}  # tie on 10 broken by the level-4 count
    assert reported.merges == {}
    verified = ranked(merged, "services_total", source="verified", period="2024-Q4")  # active now less newer
    assert {r.agency_code: r.value for r in verified.rows} == {"a": 2, "b": 1, "c": 1, "d": 0}
    assert verified.counterpart.selection.source == "reported"
    assert ranks(verified) == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert verified.movement("a") == 1 - 2 and verified.movement("c") == 3 - 1 and verified.movement("b") is None
    after = ranked(merged, "services_total", source="reported", period="2025-Q4")
    assert [(r.agency_code, r.value) for r in after.rows] == [("c", 44)]


def test_current_reported_sum_with_a_part_that_did_not_report_is_unknown(merged):
    result = ranked(merged, "services_total", source="reported", period="current")
    assert result.selection.basis.key == "2025-Q4"
    assert result.by_code()["c"].value == 44  # the latest quarter is after the merger: C reports for all
    before = rankings.inputs(merged, ranking_choice.Selection(
        "services_total", "province", "reported", ranking_choice.period_index(merged).get("current"),
        ranking_choice.period_index(merged).get("2024-Q4")))
    row = next(r for r in before.rows if r["code"] == "c")
    assert row["services_l3"] is None and row["missing_parts"]["services_l3"] == ["b"]


# --- ties, errors, aggregation -----------------------------------------------------------------------


def test_ties_share_a_rank_and_the_next_rank_skips(db):
    s = db.session
    for code, l3, l4 in [("p", 4, 1), ("q", 4, 1), ("r", 2, 2), ("t", 1, 0)]:
        services(s, agency(s, code, f"Tỉnh {code.upper()}"), l3=l3, l4=l4)
    s.commit()
    assert ranks(ranked(s, "services_total")) == {"p": 1, "q": 1, "r": 3, "t": 4}
    assert ranks(ranked(s, "services_l4")) == {"r": 1, "p": 2, "q": 2, "t": 4}


@pytest.mark.parametrize(("params", "param", "reason"), [
    ({"metric": "popularity"}, "metric", "unknown_metric"),
    ({"kind": "planet"}, "kind", "bad_kind"),
    ({"source": "rumour"}, "source", "bad_source"),
    ({"period": "2019"}, "period", "unknown_period"),
    ({"source": "verified", "period": "2016"}, "period", "not_observed"),
    ({"metric": "website_index", "source": "verified"}, "source", "index_not_observed"),
    ({"metric": "availability", "source": "reported"}, "source", "not_reported"),
    ({"metric": "online_rate", "period": "2016"}, "period", "no_rate_in_report"),
])
def test_unsupported_requests_say_why(official, params, param, reason):
    with pytest.raises(ranking_choice.RankingError) as info:
        ranking_choice.choose(official, **{"metric": "services_total", **params})
    assert (info.value.param, info.value.reason) == (param, reason)
    assert info.value.message


def test_the_rankings_are_aggregated_in_the_database(db):
    """The number of statements does not grow with the number of services, and no service is loaded."""
    s = db.session
    services(s, agency(s, "mot", "Tỉnh Một"), l3=2)
    agency(s, "hai", "Tỉnh Hai")
    s.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def run() -> list[int]:
        sizes = []
        for metric in ("services_total", "working_share", "availability", "online_applications"):
            statements.clear()
            ranked(s, metric, source="verified")
            sizes.append(len(statements))
        return sizes

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        s.expunge_all()
        small = run()
        services(s, get_by_code(s, "hai"), l3=150, l4=50)
        s.commit()
        s.expunge_all()
        assert run() == small
        assert [o for o in s.identity_map.values()] == []
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_periods_are_report_years_quarters_with_figures_and_current(official):
    index = ranking_choice.period_index(official)
    assert index.keys() == ["2016", "current"]
    assert index.reported == {"2016": {"ministry", "government_agency", "province"}}
    hanoi = get_by_code(official, "ha-noi")
    crawled(official, hanoi, online=1, period="2024-Q2")
    quarterly(official, hanoi, "2023-Q4", l3=1, l4=0)
    official.commit()
    index = ranking_choice.period_index(official)
    assert index.keys() == ["2016", "2023-Q4", "2024-Q2", "current"]
    assert [index.sources(p) for p in index.periods] == [
        ["reported"], ["reported", "verified"], ["verified"], ["reported", "verified"]]
    with pytest.raises(ranking_choice.RankingError) as info:
        ranking_choice.choose(official, metric="services_total", source="reported", period="2024-Q2")
    assert info.value.reason == "no_reports"


def test_rank_movement_only_between_the_same_period(db):
    """A quarter's report beside the registry at that quarter's end moves ranks; today's registry beside it does not."""
    s = db.session
    first, second = agency(s, "tinh-mot", "Tỉnh Một"), agency(s, "tinh-hai", "Tỉnh Hai")
    before = datetime(2024, 11, 1, tzinfo=UTC)
    services(s, first, l3=1, created_at=before)
    services(s, second, l3=3, created_at=before)
    quarterly(s, first, "2024-Q4", l3=9, l4=0)
    quarterly(s, second, "2024-Q4", l3=2, l4=0)
    s.commit()
    quarter = ranked(s, "services_total", source="verified", period="2024-Q4")
    assert rankings.comparable(quarter)
    assert quarter.movement("tinh-mot") == 2 - 1 and quarter.movement("tinh-hai") == 1 - 2
    today = ranked(s, "services_total", source="verified", period="current")
    assert today.counterpart is not None and not rankings.comparable(today)
    assert today.movement("tinh-mot") is None and today.movement("tinh-hai") is None

import pytest

from portal.crawlers.plausibility import (
    NEGATIVE,
    ON_TIME_EXCEEDS_RESOLVED,
    ONLINE_EXCEEDS_TOTAL,
    RATE_OUT_OF_RANGE,
    TOTAL_DROPPED,
    check,
)

GOOD = {
    "received_total": 125480,
    "received_online": 81562,
    "resolved": 118905,
    "resolved_on_time": 116230,
    "online_rate": 65.0,
}


def codes(figures, previous=None):
    return [p.code for p in check(figures, previous)]


def test_plausible_snapshot_has_no_problems():
    assert check(GOOD) == []
    assert check(GOOD, {**GOOD, "received_total": 200000}) == []


def test_missing_figures_are_not_problems():
    assert check(dict.fromkeys(GOOD)) == []
    assert check({"received_online": 5}, {"received_total": 100}) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"resolved_on_time": -1}, [NEGATIVE]),
        ({"resolved": -1}, [NEGATIVE, ON_TIME_EXCEEDS_RESOLVED]),
        ({"received_total": -5, "received_online": -6}, [NEGATIVE, NEGATIVE]),
        ({"received_online": 125481}, [ONLINE_EXCEEDS_TOTAL]),
        ({"resolved_on_time": 118906}, [ON_TIME_EXCEEDS_RESOLVED]),
        ({"online_rate": 100.5}, [RATE_OUT_OF_RANGE]),
        ({"online_rate": -0.1}, [NEGATIVE, RATE_OUT_OF_RANGE]),
    ],
)
def test_single_snapshot_problems(changes, expected):
    assert codes({**GOOD, **changes}) == expected


def test_boundaries_are_plausible():
    assert check({**GOOD, "received_online": 125480, "resolved_on_time": 118905, "online_rate": 100}) == []
    assert check({**GOOD, "online_rate": 0}) == []


def test_drop_of_more_than_half_against_previous_total():
    previous = {**GOOD, "received_total": 200000}
    assert codes({**GOOD, "received_total": 99999, "received_online": 5}, previous) == [TOTAL_DROPPED]
    assert codes({**GOOD, "received_total": 100000, "received_online": 5}, previous) == []
    assert codes({**GOOD, "received_total": 10}, {"received_total": 0}) == [ONLINE_EXCEEDS_TOTAL]


def test_messages_name_the_figures():
    (problem,) = check({**GOOD, "received_online": 200000})
    assert "received_online" in problem.message and "200000" in problem.message

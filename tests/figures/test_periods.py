"""Quarter helpers and report validation, as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.services import periods, quarterly_reports


def test_quarter_of_a_moment_is_in_vietnam_time():
    assert periods.quarter_of(datetime(2026, 6, 30, 16, 59, tzinfo=UTC)) == "2026-Q2"
    assert periods.quarter_of(datetime(2026, 6, 30, 17, 0, tzinfo=UTC)) == "2026-Q3"  # 00:00 on 1 July in Hà Nội


def test_bounds_labels_and_recent_periods():
    assert periods.bounds("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert periods.bounds("2024-Q1") == (date(2024, 1, 1), date(2024, 3, 31))
    assert periods.label("2026-Q3") == "Quý III/2026"
    assert periods.recent_quarters(datetime(2026, 2, 1, tzinfo=UTC), 3) == ["2026-Q1", "2025-Q4", "2025-Q3"]
    for bad in ("2026-Q5", "2026Q3", "26-Q1", "", "1999-Q1"):
        assert not periods.is_quarter(bad)
        with pytest.raises(ValueError):
            periods.parse_quarter(bad)


def test_report_errors():
    good = dict.fromkeys(quarterly_reports.REPORT_FIELDS, 0)
    assert quarterly_reports.report_errors(good) == {}
    errors = quarterly_reports.report_errors({**good, "online_l4": 3, "received_l4": 2, "new_services_l3": 1,
                                    "services_l4": None, "received_l3": True})
    assert set(errors) == {"online_l4", "new_services_l3", "services_l4", "received_l3"}

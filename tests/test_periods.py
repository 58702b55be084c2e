"""The one periods module: officers' spellings, canonical keys, bounds, labels, Vietnam time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.services import periods


@pytest.mark.parametrize("text", ["Quý IV/2026", "quý iv/2026", "Quy IV/2026", "Q4/2026", "q4/2026", "IV/2026",
                                  "2026-q4", "2026-Q4", "2026 Q4", "Quý 4/2026", "Quý IV năm 2026", " Q4 / 2026 "])
def test_officers_spellings_of_a_quarter(text):
    assert periods.normalize(text) == "2026-Q4"


def test_years_and_refusals():
    assert periods.normalize("2026") == "2026"
    for bad in ("", "Quý V/2026", "Q5/2026", "2026-Q0", "26-Q1", "1999", "quý IV", "2026/13", "năm ngoái"):
        with pytest.raises(ValueError):
            periods.normalize(bad)


def test_bounds_labels_and_time_zone():
    assert periods.bounds("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert periods.bounds("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert periods.label("2026-Q3") == "Quý III/2026"
    assert periods.label("2026-Q3", english=True) == "Q3 2026"
    assert periods.label("2026") == "2026"
    assert periods.quarter_of(datetime(2026, 6, 30, 17, 0, tzinfo=UTC)) == "2026-Q3"
    assert periods.local_day(datetime(2026, 6, 30, 17, 0, tzinfo=UTC)) == date(2026, 7, 1)
    assert periods.is_period("2026") and periods.is_period("2026-Q1") and not periods.is_period("Q1/2026")

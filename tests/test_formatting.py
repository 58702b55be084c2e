"""portal/formatting.py, the display helpers the templates use: numbers, dates and labels in the reader's language."""

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask_babel import refresh

from portal import formatting
from portal.crawlers.probe import READABLE_REASONS, reason_message
from portal.vocabulary import FAILING, HEALTH_STATES, REASON_OUTCOMES, REASONS

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def in_language(app):
    """Run the helpers as a page in `lang` would."""

    @contextmanager
    def enter(lang: str):
        with app.test_request_context(f"/?lang={lang}"):
            refresh()  # the locale is kept per context, and the test's app context outlives one page
            yield

    return enter


@pytest.mark.parametrize(
    ("value", "decimals", "vi", "en"),
    [
        (10309, None, "10.309", "10,309"),
        (21463626, None, "21.463.626", "21,463,626"),
        (0.942, None, "0,942", "0.942"),
        (1, 3, "1,000", "1.000"),
        (-1234.5, 1, "-1.234,5", "-1,234.5"),
        (999, None, "999", "999"),
    ],
)
def test_numbers_the_readers_way(in_language, value, decimals, vi, en):
    with in_language("vi"):
        assert formatting.number(value, decimals) == vi
    with in_language("en"):
        assert formatting.number(value, decimals) == en


def test_percent_and_missing_values(in_language):
    with in_language("vi"):
        assert formatting.percent(45.6) == "45,6\u00a0%"
        assert formatting.percent(100, 0) == "100\u00a0%"
        assert formatting.number(None) == formatting.percent(None) == "—"
    with in_language("en"):
        assert formatting.percent(45.6) == "45.6\u00a0%"


def test_times_in_vietnam_time_with_the_zone_said(in_language):
    moment = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)  # 15:30 in Hà Nội
    with in_language("vi"):
        assert formatting.datetime_local(moment) == "15:30 ngày 02/12/2026 (giờ Việt Nam)"
        assert formatting.datetime_local(None) == "—"
    with in_language("en"):
        shown = formatting.datetime_local(moment)
        assert "15:30" in shown and "2026" in shown and "giờ" not in shown


def test_every_label_table_covers_its_vocabulary(in_language):
    with in_language("vi"):
        assert [r for r in REASONS if formatting.reason_label(r) == r] == []
        assert {k for k, _ in formatting.reasons()} == set(REASONS)
        assert {k for k, _ in formatting.healths()} == set(HEALTH_STATES)
        assert len({label for _, label in formatting.healths()}) == len(HEALTH_STATES)
        assert formatting.reason_label(None) == "—"
    assert set(FAILING) <= set(HEALTH_STATES) and set(REASON_OUTCOMES.values()) == {"up", "degraded", "down"}
    unreadable = [r for r in REASONS if r not in READABLE_REASONS]
    assert [r for r in unreadable if reason_message(r) == r] == []

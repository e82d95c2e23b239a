"""Figures for the locale with Babel: money, deltas, dates, relative times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from console import formatting as fmt
from console import i18n
from tests.factories import NOW


@pytest.fixture
def locale(request: pytest.FixtureRequest) -> Iterator[str]:
    i18n.set_locale(request.param)
    yield request.param
    i18n.set_locale("en-US")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en-US", ["DKK 1,234.50", "-DKK 12.00", "+DKK 149.00", "—", "12,345", "1.2K"]),
        ("da-DK", ["1.234,50\xa0kr.", "-12,00\xa0kr.", "+149,00\xa0kr.", "—", "12.345", "1,2\xa0t"]),
    ],
    indirect=["locale"],
)
def test_numbers_and_money(locale: str, expected: list[str]) -> None:
    assert [
        fmt.money(Decimal("1234.5"), "dkk"),
        fmt.money(Decimal("-12"), "DKK"),
        fmt.signed_money(Decimal("149"), "DKK"),
        fmt.money(Decimal("1"), None),
        fmt.number(12345),
        fmt.compact(1234),
    ] == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en-US", ["+25.0%", "-3.2%", "0.0%", "—", "33.3%"]), ("da-DK", ["+25,0%", "-3,2%", "0,0%", "—", "33,3%"])],
    indirect=["locale"],
)
def test_deltas_have_one_decimal_and_a_sign(locale: str, expected: list[str]) -> None:
    assert [
        fmt.delta_percent(Decimal("25")),
        fmt.delta_percent(Decimal("-3.2")),
        fmt.delta_percent(Decimal("0")),
        fmt.delta_percent(None),
        fmt.percentage(Decimal("33.3")),
    ] == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en-US", ["May 7, 2026", "May 7", "Tuesday, May 12", "May 8, 2026, 12:00\u202fPM"]),
        ("da-DK", ["7. maj 2026", "7. maj", "tirsdag den 12. maj", "8. maj 2026 12.00"]),
    ],
    indirect=["locale"],
)
def test_dates(locale: str, expected: list[str]) -> None:
    assert [
        fmt.short_date(date(2026, 5, 7)),
        fmt.day_label(date(2026, 5, 7)),
        fmt.header_date(date(2026, 5, 12)),
        fmt.short_datetime(NOW),
    ] == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en-US",
            ["Just now", "5 minutes ago", "50 minutes ago", "23 hours ago", "Yesterday", "4 days ago", "Apr 28, 2026"],
        ),
        (
            "da-DK",
            [
                "Lige nu",
                "for 5 minutter siden",
                "for 50 minutter siden",
                "for 23 timer siden",
                "I går",
                "for 4 dage siden",
                "28. apr. 2026",
            ],
        ),
    ],
    indirect=["locale"],
)
def test_relative_times(locale: str, expected: list[str]) -> None:
    elapsed = [
        timedelta(seconds=20),
        timedelta(minutes=5),
        timedelta(minutes=50),
        timedelta(hours=23),
        timedelta(hours=30),
        timedelta(days=4),
        timedelta(days=10),
    ]
    assert [fmt.ago(NOW - delta, NOW) for delta in elapsed] == expected
    assert fmt.ago(None, NOW) == "—"

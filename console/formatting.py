"""Numbers, money, dates and relative times for the active UI locale (Babel).

Every figure the console prints goes through here, so en-US shows "DKK 1,234.50"
and "4 days ago" where da-DK shows "1.234,50 kr." and "for 4 dage siden".
Times are shown in UTC, the time zone of every day boundary in the figures
(docs/rules.md R85), and say so: a time in a sentence carries "UTC"
(`moment`, `time_of_day`), a column of times says it in its header.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from console.i18n import babel_locale, current_locale, t

DASH = "—"
_CODE_BEFORE_NUMBER = re.compile(r"^(-?)([A-Z]{3})(?=[\d-])")


def _locale(locale: str | None = None) -> Locale:
    return babel_locale(locale or current_locale())


def number(value: int | Decimal | None) -> str:
    """A count or plain number with the locale's grouping ("12,345" / "12.345")."""
    if value is None:
        return DASH
    return babel_numbers.format_decimal(value, locale=_locale())


def compact(value: int | float | Decimal) -> str:
    """Chart axis labels: at most one decimal, "1.2K" / "1,2 t"."""
    return babel_numbers.format_compact_decimal(value, format_type="short", fraction_digits=1, locale=_locale())


def money(amount: Decimal | None, currency: str | None, *, locale: str | None = None) -> str:
    """Standard currency style with the code upper-cased; "—" without a
    currency (an amount whose currency is not known is not shown as money).
    `locale` is the CLI's (the console's is the current one)."""
    if amount is None or not currency:
        return DASH
    text = babel_numbers.format_currency(amount, currency.upper(), locale=_locale(locale))
    # Babel writes "DKK1,234.50"; a space after a leading code reads better.
    return _CODE_BEFORE_NUMBER.sub(r"\1\2 ", text)


def amount(value: Decimal, *, decimals: int = 2) -> str:
    """Money without its currency, for a display that names the currency
    elsewhere: "1,234.50" / "1.234,50" (no decimals: "1,235")."""
    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    return babel_numbers.format_decimal(value, format=pattern, locale=_locale())


def signed_money(amount: Decimal | None, currency: str | None) -> str:
    """An MRR impact: explicit "+" for gains, "—" when there is no amount."""
    if amount is None:
        return DASH
    text = money(amount, currency)
    return f"+{text}" if amount > 0 else text


def delta_percent(value: Decimal | float | None, *, decimals: int = 1) -> str:
    """KPI deltas: one decimal (or as many as the figure has) and an explicit
    sign except for zero ("+25.0%", "-3.2%", "0.0%"; "-26%" whole)."""
    if value is None:
        return DASH
    number_ = Decimal(str(value))
    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    text = babel_numbers.format_decimal(abs(number_), format=pattern, locale=_locale())
    sign = "+" if number_ > 0 else "-" if number_ < 0 else ""
    return f"{sign}{text}%"


def percentage(value: Decimal | float | None) -> str:
    """A share as returned by core (already in percent, one decimal): "33.3%"."""
    if value is None:
        return DASH
    return babel_numbers.format_decimal(Decimal(str(value)), format="#,##0.0", locale=_locale()) + "%"


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def short_date(value: date | datetime | None) -> str:
    """ "May 7, 2026" / "7. maj 2026" (the UTC day of an instant)."""
    if value is None:
        return DASH
    if isinstance(value, datetime):
        value = utc(value)
    return babel_dates.format_date(value, "medium", locale=_locale())


def short_datetime(value: datetime | None) -> str:
    """ "May 7, 2026, 8:19 PM" / "7. maj 2026 20.19", in UTC: for a column
    whose header says "(UTC)"."""
    if value is None:
        return DASH
    value = utc(value)
    return t(
        "format.date_time",
        date=babel_dates.format_date(value, "medium", locale=_locale()),
        time=babel_dates.format_time(value, "short", locale=_locale()),
    )


def moment(value: datetime | None) -> str:
    """A time in a sentence: "May 7, 2026, 8:19 PM UTC"."""
    return DASH if value is None else t("format.utc", time=short_datetime(value))


def day_label(value: date) -> str:
    """Chart axis dates: "May 7" / "7. maj"."""
    return babel_dates.format_skeleton("MMMd", value, locale=_locale())


def time_of_day(value: datetime) -> str:
    """ "2:02 PM UTC" / "14.02 UTC"."""
    return t("format.utc", time=babel_dates.format_time(utc(value), "short", locale=_locale()))


def clock_face(value: datetime) -> tuple[str, str]:
    """A wall clock in the locale's short time, in UTC: the figures ("1:05" /
    "13.05") and the small text beside them ("PM UTC" / "UTC")."""
    pattern = babel_dates.get_time_format("short", locale=_locale()).pattern
    value = utc(value)
    if "a" not in pattern:
        return babel_dates.format_time(value, "short", locale=_locale()), t("format.utc", time="").strip()
    figures = pattern.replace("a", "").strip(" \u202f\u00a0")
    return (
        babel_dates.format_time(value, figures, locale=_locale()),
        t("format.utc", time=babel_dates.format_time(value, "a", locale=_locale())),
    )


def header_date(value: date) -> str:
    """The dashboard's "Tuesday, May 12" / "tirsdag den 12. maj"."""
    return babel_dates.format_date(value, t("format.header_date_pattern"), locale=_locale())


def ago(moment: datetime | None, now: datetime) -> str:
    """A relative time (docs/rules.md R181): "Just now", "5 minutes ago", "Yesterday",
    "4 days ago" (2 to 5 days), otherwise the short date."""
    if moment is None:
        return DASH
    elapsed = now - moment
    if elapsed < timedelta(minutes=1):
        return t("format.just_now")
    if elapsed < timedelta(hours=1):
        return _relative(timedelta(minutes=elapsed // timedelta(minutes=1)))
    if elapsed < timedelta(hours=24):
        return _relative(timedelta(hours=elapsed // timedelta(hours=1)))
    days = (utc(now).date() - utc(moment).date()).days
    if days <= 1:
        return t("format.yesterday")
    if days <= 5:
        return _relative(timedelta(days=days))
    return short_date(moment)


def _relative(elapsed: timedelta) -> str:
    # threshold=1 keeps the unit we chose ("50 minutes ago", not "1 hour ago").
    return babel_dates.format_timedelta(-elapsed, threshold=1, add_direction=True, locale=_locale())

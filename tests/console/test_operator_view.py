"""What the operator reads and how it looks: figures that say what they
count, times in UTC, drift in words, invoices opened as invoices, a menu and
banners that fit 80x24, a database outage said once, charts that tell their
series apart without colour, Danish through and through, and NO_COLOR."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rich.cells import cell_len
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import Static

from console import i18n
from console.app import BackofficeApp
from console.operator_errors import operator_message
from console.screens.account import AccountScreen
from console.screens.invoice import InvoiceScreen
from console.widgets.banners import BannerStrip
from console.widgets.cards import DataCard
from console.widgets.charts import Chart, axis_ticks
from console.widgets.side_menu import SideMenu
from core.errors import NotFound, StripeNotConfigured
from db.enums import SubscriptionPlan
from stripe_sync.drift import StateSnapshot, detect
from tests import factories as f
from tests.console.conftest import settle
from tests.console.lists_fixtures import plain
from tests.factories import NOW

NARROW = (80, 24)
WIDE = (120, 36)


def text_of(widget: Any) -> str:
    """What a widget shows, on one line, without styles."""
    texts = [widget, *widget.query(Static)] if isinstance(widget, Static) else list(widget.query(Static))
    return re.sub(r"\s+", " ", " ".join(plain(one) for one in texts)).strip()


def tile(app: BackofficeApp, tile_id: str) -> str:
    return text_of(app.screen.query_one(f"#{tile_id}"))


async def _open_account(pilot: Pilot[Any], tenant_id: int, tab: str = "overview") -> AccountScreen:
    await settle(pilot)
    pilot.app.navigate("account", tenant_id=str(tenant_id), tab=tab)  # type: ignore[attr-defined]
    await settle(pilot)
    await pilot.pause(0.3)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AccountScreen)
    return screen


# -- one account -----------------------------------------------------------------


async def test_a_canceled_account_shows_its_value_in_its_currency_and_an_expired_renewal(
    make_app: Callable[..., BackofficeApp], console_engine: Engine
) -> None:
    with console_engine.begin() as conn:
        gone = f.tenant(
            conn,
            name="Gone Quiet",
            current_period_end=NOW - timedelta(days=12),
            payment_transactions=[f.payment_transaction(amount_excluding_tax="299.00")],
        )
        f.user(conn, gone.id, email="ada@gone.example", email_confirmed=True, last_seen_at=NOW - timedelta(days=40))
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await _open_account(pilot, gone.id)
        assert "DKK 299.00" in text_of(screen.query_one("#tile-ltv"))
        assert "Expired Apr 26, 2026" in text_of(screen.query_one("#tile-mrr"))
        assert "Renews" not in text_of(screen.query_one("#tile-mrr"))
        await pilot.press("2")
        await settle(pilot)
        users = screen.query_one("#account-users")
        status = users.table.get_cell(users.result.items[0].id, "status")
        # Confirmed e-mail, not "Active": the tile's active means seen in 30 days.
        assert status.plain == "✓ Confirmed"
        assert "0 / 1" in text_of(screen.query_one("#tile-users")) and "1 inactive" in text_of(
            screen.query_one("#tile-users")
        )


async def test_drift_findings_read_in_words_with_both_values(
    make_app: Callable[..., BackofficeApp], console_engine: Engine
) -> None:
    found = detect(
        StateSnapshot(SubscriptionPlan.Premium, False, Decimal("299.00"), "DKK"),
        StateSnapshot(SubscriptionPlan.Premium, False, Decimal("349.00"), "DKK"),
        transaction_count=0,
        billing_event_count=0,
    )
    with console_engine.begin() as conn:
        drifting = f.tenant(conn, name="Drifty", plan="Premium")
        f.update_subscription(
            conn,
            drifting.id,
            has_drift_detected=True,
            drift_checked_at=NOW,
            drift_discrepancies=[d.to_json() for d in found],
        )
    for locale, words in (
        ("en-US", "Price differs: here DKK 299.00, in Stripe DKK 349.00 (critical)"),
        ("da-DK", "Prisen er forskellig: her 299,00 kr., i Stripe 349,00 kr. (kritisk)"),
    ):
        app = make_app(locale=locale)
        async with app.run_test(size=WIDE) as pilot:
            screen = await _open_account(pilot, drifting.id)
            note = text_of(screen.query_one("#account-drift"))
            assert words in note and "SubscriptionStateMismatch" not in note
            assert "UTC" in note  # when it was checked


async def test_an_invoice_opens_as_an_invoice_with_credit_applied_and_its_refund_negative(
    make_app: Callable[..., BackofficeApp], console_engine: Engine
) -> None:
    paid_partly = f.payment_transaction(
        amount_excluding_tax="149.00",
        tax="37.25",
        date=NOW - timedelta(days=3),
        Amount=161.25,
        AmountFromCredit=25.0,
        InvoiceUrl="https://pay.stripe.test/invoice/in_1/pdf",
    )
    refunded = f.payment_transaction(
        amount_excluding_tax="149.00",
        tax="37.25",
        date=NOW - timedelta(days=33),
        status="Refunded",
        RefundedAt=(NOW - timedelta(days=30)).isoformat(),
    )
    with console_engine.begin() as conn:
        acme = f.tenant(conn, name="Acme", plan="Standard", payment_transactions=[paid_partly, refunded])
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await _open_account(pilot, acme.id, tab="invoices")
        payments = screen.query_one("#account-invoices")
        rows = [payments.cells(item)[5].plain for item in payments.result.items]
        assert "credit applied DKK 25.00" in rows[0]
        assert "-DKK 186.25" in rows[1]
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        invoice = app.screen
        assert isinstance(invoice, InvoiceScreen) and invoice.invoice is not None
        body = text_of(invoice.query_one("#invoice-body"))
        assert "Credit applied -DKK 25.00" in body and "Paid DKK 161.25" in body and "Invoice PDF" in body
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


# -- lists and times -------------------------------------------------------------


async def test_the_billing_events_list_shows_date_and_time_in_utc(
    make_seeded_app: Callable[..., BackofficeApp],
) -> None:
    app = make_seeded_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        paged = app.screen.paged_list  # type: ignore[attr-defined]
        header = [str(column.label) for column in paged.table.columns.values()][0]
        first = paged.table.get_cell(paged.result.items[0].id, "occurred")
        assert header == "Time (UTC) ↓"  # the default sort: newest first (docs/rules.md R113)
        assert re.fullmatch(r"May \d+, 2026, \d+:\d\d\s[AP]M", str(first)), first
        assert "Yesterday" not in str(first)


def test_labels_say_what_they_count() -> None:
    english, danish = i18n.load_catalog("en-US"), i18n.load_catalog("da-DK")
    assert (english["users.column.last_seen"], danish["users.column.last_seen"]) == ("Last seen", "Sidst set")
    assert english["users.status.Confirmed"] == "Confirmed"
    assert english["dashboard.kpi.sessions_started"] == "Sessions started"
    # One en-US spelling of "cancel" in every label; the stored names keep theirs.
    assert not [key for key, value in english.items() if "ancelled" in str(value)]
    assert english["enum.event.SubscriptionCancelled"] == "Canceled"


def test_counts_use_plural_forms_in_both_locales() -> None:
    """A count beside a word is a plural object, chosen by the count."""
    for locale in ("en-US", "da-DK"):
        catalog = i18n.load_catalog(locale)
        # "{count} accounts" would be wrong for one; "Page 1 of 1 · {count}" takes a counted noun.
        singles = [
            key
            for key, value in catalog.items()
            if isinstance(value, str) and re.search(r"\{count\}\s+[^\W\d_]", value)
        ]
        assert not [key for key in singles if not key.startswith("activity.")], (locale, singles)
        assert not [
            key
            for key, value in catalog.items()
            if re.search(r"[a-z]\(s\)", str(value)) and not key.startswith("activity.")
        ]
    i18n.set_locale("da-DK")
    assert i18n.t("account.users_inactive", count=1) == "1 inaktiv"
    assert i18n.t("dashboard.kpi.new_count", count=1) == "+1 ny"
    assert i18n.t("dashboard.chart.accounts_total", count=1) == "1 konto"
    i18n.set_locale("en-US")
    assert i18n.t("accounts.count", count=1) == "1 account"
    assert i18n.t("dashboard.chart.growth_subtitle", count=1, prior_total="2") == "1 new signup · 2 prior period"


# -- 80 x 24 ---------------------------------------------------------------------


async def test_at_80_columns_the_menu_is_a_rail_and_ctrl_b_unfolds_it(
    make_seeded_app: Callable[..., BackofficeApp],
) -> None:
    app = make_seeded_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        menu = app.screen.query_one(SideMenu)
        assert menu.rail and menu.outer_size.width == 5
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert not menu.rail and menu.outer_size.width > 5
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert menu.rail
    app = make_seeded_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert not app.screen.query_one(SideMenu).rail


async def test_three_banners_fold_into_one_line_that_unfolds_on_focus(
    make_seeded_app: Callable[..., BackofficeApp],
) -> None:
    app = make_seeded_app(locale="da-DK")
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        strip = app.screen.query_one(BannerStrip)
        assert strip.size.height == 1
        assert "3 datakvalitetsadvarsler" in text_of(app.screen.query_one("#banner-summary .banner-text"))
        app.screen.query_one("#banner-summary").focus()
        await settle(pilot)
        assert strip.size.height == 3
        # The mismatch's two amounts fit an 80-column line in Danish too.
        mismatch = app.screen.query_one("#banner-mrr-mismatch")
        words = text_of(mismatch.query_one(".banner-text")) + text_of(mismatch.query_one(".banner-button"))
        assert "746,00 kr." in words and cell_len(words) < 76


# -- the database out of reach ---------------------------------------------------


async def test_with_the_database_down_one_banner_says_so_and_cards_keep_their_figures(
    make_seeded_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_seeded_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)

        def unreachable(*args: object, **kwargs: object) -> Any:
            raise OperationalError(None, None, Exception("connection refused"))

        monkeypatch.setattr(app, "read_only", unreachable)
        app.screen.reload_all()  # type: ignore[attr-defined]
        await settle(pilot)
        banner = app.screen.query_one("#banner-database")
        assert banner.display
        assert text_of(banner.query_one(".banner-text")) == (
            "⛁ Database unreachable since 12:00 PM UTC · Retrying in 10 s."
        )
        cards = list(app.screen.query(DataCard))
        assert all(card.has_class("-stale") for card in cards if card.id != "kpis")
        assert all("as of 12:00 PM UTC" in text_of(card.query_one(".card-age")) for card in cards if card.id != "kpis")
        assert not any("Could not load" in text_of(card.query_one("#error")) for card in cards)
        assert "DKK 746.00" in tile(app, "tile-blended-mrr")  # the last figures stay
        assert "Retrying" not in text_of(app.screen.query_one("#dashboard-updated"))  # the banner says it, once

        monkeypatch.undo()
        app.screen.reload_all()  # type: ignore[attr-defined]
        await settle(pilot)
        assert not app.screen.query_one("#banner-database").display
        assert not any(card.has_class("-stale") for card in app.screen.query(DataCard))


# -- charts ------------------------------------------------------------------------


def test_a_line_axis_starts_near_the_data_when_they_sit_far_above_zero() -> None:
    ticks, labels = axis_ticks(26_000, 26_300, integer=False)
    assert ticks[0] > 0 and ticks[0] <= 26_000 and ticks[-1] >= 26_300
    assert axis_ticks(0, 12, integer=True)[0][0] == 0
    assert axis_ticks(4, 12, integer=True)[0][0] == 0  # spread wider than the floor: from zero


async def test_charts_tell_their_series_apart_without_colour(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        legend = {
            card: text_of(app.screen.query_one(f"#{card} .chart-legend"))
            for card in ("account-growth", "user-logins", "mrr-trend")
        }
        assert legend["account-growth"].startswith("█ Current period") and "░ Prior period" in legend["account-growth"]
        assert "⠤⠤ Successful" in legend["user-logins"] and "xx Failed" in legend["user-logins"]
        assert "•• Prior period" in legend["mrr-trend"]
        growth = app.screen.query_one("#account-growth Chart", Chart)
        plotted = str(growth.render())
        assert "days per bar" in plotted  # 30 days of two bars do not fit two columns each


# -- Danish throughout -------------------------------------------------------------


def test_core_failures_read_in_the_consoles_language() -> None:
    i18n.set_locale("da-DK")
    try:
        assert operator_message(StripeNotConfigured("Stripe is not configured: set STRIPE_API_KEY")) == (
            "Stripe er ikke sat op: angiv STRIPE_API_KEY for at synkronisere med Stripe."
        )
        assert operator_message(NotFound("tenant 42 not found")) == "Kontoen 42 blev ikke fundet."
    finally:
        i18n.set_locale("en-US")


async def test_the_palette_and_the_plan_card_speak_danish(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app(locale="da-DK")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles[:2] == ["Tema", "Afslut"] and "Skærmbillede" in titles
        assert "Planfordeling" in text_of(app.screen.query_one("#plan-distribution .card-title"))
        await pilot.press("ctrl+p", *"qqqq")
        await pilot.pause(1.5)
        options = app.screen.query_one(CommandList)
        assert [str(options.get_option_at_index(i).prompt.renderable) for i in range(options.option_count)] == [
            "Ingen resultater"
        ]


# -- NO_COLOR ----------------------------------------------------------------------


def test_no_color_with_the_16_colour_theme_is_readable(
    snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    async def use_ansi(pilot: Pilot[Any]) -> None:
        pilot.app.theme = "backoffice-ansi"
        await settle(pilot)
        svg = pilot.app.export_screenshot()
        # Not black on black: the terminal's own colours, as NO_COLOR asks.
        assert re.search(r"fill: #c5c8c6", svg)

    assert snap_compare(make_seeded_app(), terminal_size=NARROW, run_before=use_ansi)

"""Billing events and invoices: snapshots and Pilot flows (views, period,
type filter, search, paging, opening the account on the matching tab)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from console.app import BackofficeApp
from console.screens.account import AccountScreen
from console.screens.billing_events import BillingEventsScreen
from console.screens.invoice import InvoiceScreen
from console.screens.invoices import InvoicesScreen
from console.widgets.filter_dialog import FilterDialog, FilterSelection
from console.widgets.period import PeriodSelector
from console.widgets.view_pills import ViewPill
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    WIDE,
    lists_database,
    lists_engine,
    make_lists_app,
    plain,
    platform,
    quiet_dashboard,
    settled,
)


def events(app: BackofficeApp) -> list[tuple[str, str]]:
    screen = app.screen
    assert isinstance(screen, BillingEventsScreen)
    result = screen.paged_list.result
    return [(row.tenant_name, row.event_type.value) for row in result.items] if result else []


def invoice_rows(app: BackofficeApp) -> list[tuple[str, str]]:
    screen = app.screen
    assert isinstance(screen, InvoicesScreen)
    result = screen.paged_list.result
    return [(row.tenant_name, row.row_kind.value) for row in result.items] if result else []


async def open_section(pilot: Pilot[Any], key: str) -> None:
    await settled(pilot)
    await pilot.press(key)
    await settled(pilot, DEBOUNCE)


def test_snapshot_billing_events(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_section(pilot, "b")

    assert snap_compare(make_lists_app(), terminal_size=WIDE, run_before=run_before)


def test_snapshot_invoices(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_section(pilot, "i")

    assert snap_compare(make_lists_app(), terminal_size=WIDE, run_before=run_before)


def test_snapshot_billing_events_at_80x24(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_section(pilot, "b")

    assert snap_compare(make_lists_app(), terminal_size=(80, 24), run_before=run_before)


async def test_newest_first_then_period_views_and_types(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=(160, 40)) as pilot:  # wide enough for the plan and MRR after columns
        await open_section(pilot, "b")
        assert events(app) == [
            ("Skovly IVS", "SubscriptionSuspended"),
            ("Birk & Co", "SubscriptionCancelled"),
            ("Fjordhus A/S", "SubscriptionDowngradeScheduled"),
            ("Skovly IVS", "PaymentFailed"),
            ("Nordlys ApS", "PaymentRefunded"),
            ("Nordlys ApS", "SubscriptionRenewed"),
        ]
        screen = app.screen
        assert isinstance(screen, BillingEventsScreen)
        table = screen.paged_list.table
        first = screen.paged_list.result.items
        assert table.get_cell(first[1].id, "impact").plain == "-DKK 299.00"
        assert "red" in str(table.get_cell(first[1].id, "impact").style)
        assert table.get_cell(first[2].id, "plan") == "Premium → Standard"
        assert table.get_cell(first[2].id, "after").plain == "DKK 149.00"
        await pilot.press("p")  # 30 -> 90 days
        await settled(pilot)
        assert screen.period == 90 and screen.query_one(PeriodSelector).period == 90
        assert len(events(app)) == 9
        await pilot.press("v")  # MRR impact: what moves MRR, a suspension too
        await settled(pilot)
        assert events(app) == [
            ("Skovly IVS", "SubscriptionSuspended"),
            ("Birk & Co", "SubscriptionCancelled"),
            ("Fjordhus A/S", "SubscriptionDowngradeScheduled"),
            ("Birk & Co", "SubscriptionCreated"),
            ("Klint Lab", "SubscriptionImmediatelyCancelled"),
            ("Skovly IVS", "SubscriptionCreated"),
        ]
        await pilot.click(ViewPill, offset=(1, 0))  # the first pill: All
        await settled(pilot)
        assert len(events(app)) == 9
        await pilot.press("f")
        await settled(pilot)
        assert isinstance(app.screen, FilterDialog)
        app.screen.query_one("#filter-types", FilterSelection).select("PaymentFailed")
        await pilot.press("escape")
        await settled(pilot)
        assert events(app) == [("Skovly IVS", "PaymentFailed")]
        assert "Payment failed" in plain(screen.query_one("#list-filters", Static))
        await pilot.press("p")  # 90 -> 7 days: too old
        await settled(pilot)
        assert screen.period == 7 and events(app) == []
        assert "No billing events match your filters" in plain(screen.query_one("#list-message", Static))
        await pilot.press("p")  # 30 days: back in range
        await settled(pilot)
        assert events(app) == [("Skovly IVS", "PaymentFailed")]


async def test_search_by_account_and_open_it(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_section(pilot, "b")
        await pilot.press("slash", *"nordlys", "enter")
        await settled(pilot, DEBOUNCE)
        assert events(app) == [("Nordlys ApS", "PaymentRefunded"), ("Nordlys ApS", "SubscriptionRenewed")]
        await pilot.press("enter")
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert isinstance(screen, AccountScreen) and screen.view.detail.name == "Nordlys ApS"
        assert screen.query_one(TabbedContent).active == "billing-events"


async def test_billing_events_page(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=(130, 14)) as pilot:  # room for a few rows: several pages
        await open_section(pilot, "b")
        await pilot.press("p")  # 90 days: 9 events
        await settled(pilot)
        screen = app.screen
        assert isinstance(screen, BillingEventsScreen)
        first = events(app)
        assert screen.paged_list.result.total_pages > 1
        await pilot.press("pagedown")
        await settled(pilot)
        assert screen.paged_list.result.page == 2 and events(app) != first
        await pilot.press("pageup")
        await settled(pilot)
        assert events(app) == first


async def test_invoices_views_statuses_and_open(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_section(pilot, "i")
        screen = app.screen
        assert isinstance(screen, InvoicesScreen)
        assert screen.paged_list.result.total == 21
        assert invoice_rows(app)[:3] == [
            ("Nordlys ApS", "CreditNote"),
            ("Fjordhus A/S", "Invoice"),
            ("Nordlys ApS", "Invoice"),
        ]
        credit_note = screen.paged_list.result.items[0]
        total = screen.paged_list.table.get_cell(f"{credit_note.id}:CreditNote", "total")
        # Money going back: negative, not only struck through.
        assert total.plain == "-DKK 373.75" and "red" in str(total.style)
        await pilot.press("v", "v")  # Refunds and credit notes
        await settled(pilot)
        assert invoice_rows(app) == [("Nordlys ApS", "CreditNote"), ("Nordlys ApS", "Refund")]
        await pilot.press("f")
        await settled(pilot)
        app.screen.query_one("#filter-statuses", FilterSelection).select("Failed")
        await pilot.press("escape")
        await settled(pilot)
        assert screen.view == "all" and invoice_rows(app) == [("Skovly IVS", "Invoice")]
        await pilot.press("enter")
        await settled(pilot, DEBOUNCE)
        detail = app.screen
        assert isinstance(detail, InvoiceScreen) and detail.invoice is not None
        assert detail.invoice.tenant_name == "Skovly IVS"
        await pilot.press("escape")
        await settled(pilot)
        await pilot.press("slash", *"zzz", "enter")
        await settled(pilot, DEBOUNCE)
        assert "No results match your search" in plain(screen.query_one("#list-message", Static))

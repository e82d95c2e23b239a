"""One account's detail: snapshots of every tab (en-US and da-DK, wide and
at 80x24 with drift) and Pilot flows (tiles, every tab, tiles opening their
tab, an unknown account)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from console.app import BackofficeApp
from console.screens.account import AccountScreen
from console.screens.user import UserScreen
from console.widgets.paged_list import PagedList
from tests.console.lists_data import Platform
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    NARROW,
    WIDE,
    lists_database,
    lists_engine,
    make_lists_app,
    plain,
    platform,
    quiet_dashboard,
    settled,
)

# -- snapshots -------------------------------------------------------------------


def _open_account(platform_: Platform, tab: str, locale: str = "en-US") -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        pilot.app.navigate("account", tenant_id=str(platform_.nordlys.id), tab=tab)
        await settled(pilot, DEBOUNCE)

    return run_before


@pytest.mark.parametrize("tab", ["overview", "users", "invoices", "billing-events"])
def test_snapshot_account_detail_tabs(
    snap_compare: Any, make_lists_app: Callable[..., BackofficeApp], platform: Platform, tab: str
) -> None:
    assert snap_compare(make_lists_app(), terminal_size=WIDE, run_before=_open_account(platform, tab))


def test_snapshot_account_detail_overview_da_dk(
    snap_compare: Any, make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    assert snap_compare(
        make_lists_app(locale="da-DK"), terminal_size=WIDE, run_before=_open_account(platform, "overview")
    )


def test_snapshot_account_with_drift_at_80x24(
    snap_compare: Any, make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        pilot.app.navigate("account", tenant_id=str(platform.solstrand.id))
        await settled(pilot, DEBOUNCE)

    assert snap_compare(make_lists_app(), terminal_size=NARROW, run_before=run_before)


# -- the detail --------------------------------------------------------------------


async def test_detail_tiles_and_every_tab(make_lists_app: Callable[..., BackofficeApp], platform: Platform) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("account", tenant_id=str(platform.nordlys.id))
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert isinstance(screen, AccountScreen)
        tiles = {tile: plain(screen.query_one(f"#tile-{tile}", Static)) for tile in ("users", "ltv", "mrr")}
        assert "2 / 4 · 50% activated" in tiles["users"] and "1 inactive · 1 pending" in tiles["users"]
        # Lifetime value: six paid months; the refunded and the credit-noted payments do not count.
        assert "DKK 1,794.00" in tiles["ltv"] and "Since" in tiles["ltv"]
        assert "DKK 299.00" in tiles["mrr"] and "Renews May 28, 2026" in tiles["mrr"]
        overview = plain(screen.query_one("#account-owners", Static)) + plain(screen.query_one("#account-plan", Static))
        for expected in ("Astrid Holm", "CEO", "Vestergade 12", "Visa •••• 4242", "DK12345678"):
            assert expected in overview, expected

        await pilot.press("2")
        await settled(pilot)
        users = screen.query_one("#account-users", PagedList)
        assert screen.query_one(TabbedContent).active == "users"
        assert [user.display_name for user in users.result.items] == [
            "Astrid Holm",
            "Bo Krag",
            "Carla Nyhavn",
            "invited@nordlys.example",
        ]
        await pilot.press("3")
        await settled(pilot)
        payments = screen.query_one("#account-invoices", PagedList)
        assert payments.result is not None and payments.result.total == 8
        newest = payments.result.items[0].id
        total = payments.table.get_cell(newest, "total")
        assert "Credit note" in payments.table.get_cell(newest, "status").plain
        assert total.plain == "DKK 373.75" and "strike" in str(total.style)
        # The documents column is the first a narrow table drops; its text:
        assert "Credit note: https://pay.stripe.test/credit_note/cn_1/pdf" in str(
            payments.cells(payments.result.items[0])[6]
        )
        refunded = payments.result.items[1].id
        assert "Refunded" in payments.table.get_cell(refunded, "status").plain
        await pilot.press("4")
        await settled(pilot)
        events = screen.query_one("#account-events", PagedList)
        assert [row.event_type.value for row in events.result.items] == [
            "PaymentRefunded",
            "SubscriptionRenewed",
            "SubscriptionCreated",
        ]
        await pilot.press("5")  # the fifth tab: the operators' actions on the account
        await settled(pilot)
        assert screen.query_one(TabbedContent).active == "activity"
        assert app.focused is screen.query_one("#account-activity", PagedList).table
        await pilot.press("2")
        await settled(pilot)
        await pilot.press("enter")  # a user row opens the person
        await settled(pilot)
        assert isinstance(app.screen, UserScreen)


async def test_tiles_open_their_tab(make_lists_app: Callable[..., BackofficeApp], platform: Platform) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("account", tenant_id=str(platform.fjordhus.id))
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert "DKK 299.00 → DKK 149.00" in plain(screen.query_one("#tile-mrr", Static))
        await pilot.click("#tile-mrr")
        await settled(pilot)
        assert screen.query_one(TabbedContent).active == "billing-events"


async def test_unknown_account_shows_the_message(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("account", tenant_id="42")
        await settled(pilot)
        assert "Account 42 was not found." in plain(app.screen.query_one("#account-error", Static))

"""The users list's role and activity filters, the account's Users tab role
filter, and the billing events sorts: Pilot flows and snapshots at 80x24
(docs/rules.md R110, R113)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from console.app import BackofficeApp
from console.screens.account import AccountScreen
from console.screens.account_tabs import TenantUsersList
from console.screens.billing_events import BillingEventsScreen
from console.screens.users import UsersScreen
from console.widgets.filter_dialog import FilterDialog, FilterSelection
from console.widgets.view_pills import ViewPill, ViewPills
from core.billing_events import BillingEventSort
from core.users import UserActivity
from db.enums import UserRole
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

EVERYONE = 11


def user_names(app: BackofficeApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, UsersScreen)
    result = screen.paged_list.result
    return [row.display_name for row in result.items] if result else []


def filters_line(app: BackofficeApp) -> str:
    line = app.screen.query_one("#list-filters", Static)
    return plain(line) if line.display else ""


async def open_section(pilot: Pilot[Any], key: str) -> None:
    await settled(pilot)
    await pilot.press(key)
    await settled(pilot, DEBOUNCE)


async def choose_roles(pilot: Pilot[Any], selection_id: str, *roles: str) -> None:
    await pilot.press("f")
    await settled(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, FilterDialog)
    for role in roles:
        dialog.query_one(selection_id, FilterSelection).select(role)
    await settled(pilot)
    await pilot.press("escape")
    await settled(pilot)


async def test_roles_activity_and_clearing_them(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_section(pilot, "u")
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        assert len(user_names(app)) == EVERYONE and filters_line(app) == ""
        assert screen.query_one(ViewPills).value == "any"

        await choose_roles(pilot, "#filter-roles", "Admin", "Member")
        assert screen.roles == {UserRole.Admin, UserRole.Member}
        assert user_names(app) == ["Bo Krag", "Astrid Holm", "Carla Nyhavn", "invited@nordlys.example"]
        assert filters_line(app) == "Role: Admin, Member  c clears"

        await pilot.press("v")  # seen in the last 24 hours
        await settled(pilot)
        assert screen.activity is UserActivity.active_24h
        assert screen.query_one(ViewPills).value == "24h"
        assert user_names(app) == ["Bo Krag"]  # seen exactly 24 hours ago: still within
        assert filters_line(app) == "Role: Admin, Member · Seen in the last 24 hours  c clears"
        status = plain(screen.query_one(".list-status", Static))
        assert status.startswith("Page 1 of 1 · 1 user")

        await pilot.click(ViewPill, offset=(1, 0))  # the first pill: any time
        await settled(pilot)
        assert screen.activity is None and len(user_names(app)) == 4
        for _ in range(4):  # any time -> 24 h -> 7 days -> 30 days -> inactive
            await pilot.press("v")
            await settled(pilot)
        assert screen.activity is UserActivity.inactive
        assert user_names(app) == ["Carla Nyhavn", "invited@nordlys.example"]
        assert "Inactive: not seen in 30 days" in filters_line(app)

        await pilot.press("slash", *"nordlys", "enter")  # the search keeps the filters
        await settled(pilot, DEBOUNCE)
        assert user_names(app) == ["Carla Nyhavn", "invited@nordlys.example"]
        await pilot.press("slash", *"holm", "enter")
        await settled(pilot, DEBOUNCE)
        assert user_names(app) == []
        assert "No users match these filters" in plain(screen.query_one("#list-message", Static))

        await pilot.press("c")  # enter handed the focus to the list
        await settled(pilot, DEBOUNCE)
        assert (screen.roles, screen.activity, screen.search) == (frozenset(), None, "")
        assert len(user_names(app)) == EVERYONE and filters_line(app) == ""
        assert screen.query_one(ViewPills).value == "any"


async def test_the_dialog_clears_every_filter_and_keeps_the_search(
    make_lists_app: Callable[..., BackofficeApp],
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_section(pilot, "u")
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        await pilot.press("v", "v")  # seen in the last 7 days
        await settled(pilot)
        assert user_names(app) == ["Astrid Holm", "Hanne Vang", "Bo Krag", "Dag Fjeld"]
        await choose_roles(pilot, "#filter-roles", "Owner")
        assert user_names(app) == ["Astrid Holm", "Hanne Vang", "Dag Fjeld"]
        await pilot.press("slash", *"example", "enter")
        await settled(pilot, DEBOUNCE)
        assert user_names(app) == ["Astrid Holm", "Hanne Vang", "Dag Fjeld"]
        await pilot.press("f")
        await settled(pilot)
        await pilot.press("c")  # as on every list: the filters go, the search stays
        await settled(pilot)
        await pilot.press("escape")
        await settled(pilot)
        assert (screen.roles, screen.activity, screen.search) == (frozenset(), None, "example")
        assert len(user_names(app)) == EVERYONE and screen.query_one(ViewPills).value == "any"


async def test_the_account_users_tab_filters_by_role(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("account", tenant_id=str(platform.nordlys.id), tab="users")
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert isinstance(screen, AccountScreen) and screen.query_one(TabbedContent).active == "users"
        users = screen.query_one(TenantUsersList)
        users.focus_table()
        await settled(pilot)
        line = screen.query_one("#account-users-filters", Static)
        assert not line.display and users.result is not None and users.result.total == 4
        await choose_roles(pilot, "#filter-roles", "Owner", "Admin")
        assert [user.display_name for user in users.result.items] == ["Astrid Holm", "Bo Krag"]
        assert line.display and plain(line) == "Role: Owner, Admin  c clears"
        search = screen.query_one("#users-search")
        search.focus()
        await pilot.press(*"bo", "enter")  # the search keeps the roles
        await settled(pilot, DEBOUNCE)
        assert [user.display_name for user in users.result.items] == ["Bo Krag"]
        users.focus_table()
        await pilot.press("c")
        await settled(pilot)
        assert not line.display and [user.display_name for user in users.result.items] == ["Bo Krag"]
        assert users.current_query is not None and users.current_query.roles == ()


def billing_rows(app: BackofficeApp) -> list[tuple[str, str]]:
    screen = app.screen
    assert isinstance(screen, BillingEventsScreen)
    result = screen.paged_list.result
    return [(row.tenant_name, row.event_type.value) for row in result.items] if result else []


async def test_billing_events_sort_by_type_and_account_both_ways(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await open_section(pilot, "b")
        screen = app.screen
        assert isinstance(screen, BillingEventsScreen)
        status = screen.paged_list.query_one(".list-status", Static)
        newest_first = billing_rows(app)
        assert (screen.sort, screen.descending) == (BillingEventSort.date, True)
        assert "Sorted by Time (UTC) ↓" in plain(status)
        assert str(screen.paged_list.table.columns["occurred"].label) == "Time (UTC) ↓"

        await pilot.press("greater_than_sign")  # the event type, A to Z by the labels on screen
        await settled(pilot)
        assert (screen.sort, screen.descending) == (BillingEventSort.event_type, False)
        table = screen.paged_list.table
        labels = [table.get_cell(row.id, "event").plain for row in screen.paged_list.result.items]
        assert labels == ["Canceled", "Downgrade scheduled", "Payment failed", "Refunded", "Renewed", "Suspended"]
        assert str(table.columns["event"].label) == "Event ↑"
        assert "Sorted by Event ↑" in plain(status)
        await pilot.press("I")
        await settled(pilot)
        labels_back = [table.get_cell(row.id, "event").plain for row in screen.paged_list.result.items]
        assert labels_back == labels[::-1]
        assert str(table.columns["event"].label) == "Event ↓"

        await pilot.press("greater_than_sign")  # the account, A to Z
        await settled(pilot)
        assert (screen.sort, screen.descending) == (BillingEventSort.tenant_name, False)
        names = [name for name, _ in billing_rows(app)]
        assert names == sorted(names, key=str.lower) and names[0] == "Birk & Co"
        assert "Sorted by Account ↑" in plain(status)
        await pilot.press("I")
        await settled(pilot)
        assert [name for name, _ in billing_rows(app)] == sorted(names, key=str.lower, reverse=True)
        # Within one account, newest first whichever way the names go.
        skovly = [event for name, event in billing_rows(app) if name == "Skovly IVS"]
        assert skovly == ["SubscriptionSuspended", "PaymentFailed"]

        await pilot.press("less_than_sign", "less_than_sign")  # back to the date
        await settled(pilot)
        assert screen.sort == BillingEventSort.date and billing_rows(app) == newest_first


def test_snapshot_filtered_users_at_80x24(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_section(pilot, "u")
        await choose_roles(pilot, "#filter-roles", "Owner")
        await pilot.press("v", "v", "v")  # seen in the last 30 days
        await settled(pilot)

    assert snap_compare(make_lists_app(), terminal_size=NARROW, run_before=run_before)


def test_snapshot_billing_events_by_account_at_80x24(
    snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_section(pilot, "b")
        await pilot.press("greater_than_sign", "greater_than_sign", "I")  # account, Z to A
        await settled(pilot)

    assert snap_compare(make_lists_app(), terminal_size=NARROW, run_before=run_before)

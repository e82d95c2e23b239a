"""The users list and a person's detail: snapshots and Pilot flows (search
from two characters, paging, every tab, a membership opening its account)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from console.app import BackofficeApp
from console.screens.account import AccountScreen
from console.screens.user import LoginsList, MembershipsList, SessionsList, UserScreen
from console.screens.users import UsersScreen
from console.widgets.paged_list import PagedList, PageTable
from core import users
from tests.console.lists_data import Platform
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


def user_names(app: BackofficeApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, UsersScreen)
    result = screen.paged_list.result
    return [row.display_name for row in result.items] if result else []


async def open_users(pilot: Pilot[Any]) -> None:
    await settled(pilot)
    await pilot.press("u")
    await settled(pilot, DEBOUNCE)


def _open_user(platform_: Platform, tab: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        pilot.app.navigate("user", user_id=platform_.astrid, tab=tab)
        await settled(pilot, DEBOUNCE)

    return run_before


def test_snapshot_users_list(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_lists_app(), terminal_size=WIDE, run_before=open_users)


@pytest.mark.parametrize("tab", ["overview", "logins", "sessions"])
def test_snapshot_user_detail_tabs(
    snap_compare: Any, make_lists_app: Callable[..., BackofficeApp], platform: Platform, tab: str
) -> None:
    assert snap_compare(make_lists_app(), terminal_size=WIDE, run_before=_open_user(platform, tab))


async def test_most_recently_seen_first_and_search_from_two_characters(
    make_lists_app: Callable[..., BackofficeApp],
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_users(pilot)
        assert user_names(app)[:3] == ["Astrid Holm", "Hanne Vang", "Bo Krag"]
        assert user_names(app)[-1] == "invited@nordlys.example"  # never seen: last
        assert (
            plain(app.screen.query_one(".list-status", Static)) == "Page 1 of 1 · 11 users · Most recently seen first"
        )
        await pilot.press("slash", "h")
        await settled(pilot, DEBOUNCE)
        assert len(user_names(app)) == 11  # one character: everyone
        assert "at least 2 characters" in plain(app.screen.query_one("#list-filters", Static))
        await pilot.press("o")
        await settled(pilot, DEBOUNCE)
        assert user_names(app) == ["Astrid Holm", "Astrid Holm"]  # ho: Holm in two accounts
        await pilot.press("backspace", "backspace", *"skovly")
        await settled(pilot, DEBOUNCE)
        # The account name matches too.
        assert sorted(user_names(app)) == ["Astrid Holm", "Gry Skov"]
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace", "backspace", *"zz")
        await settled(pilot, DEBOUNCE)
        assert user_names(app) == []
        assert "No users match your search" in plain(app.screen.query_one("#list-message", Static))


async def test_pages_follow_the_keys(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=(130, 14)) as pilot:  # a short terminal: several pages
        await open_users(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        first = screen.paged_list.result
        assert first is not None and first.total_pages > 1
        await pilot.press("pagedown")
        await settled(pilot)
        second = screen.paged_list.result
        assert second.page == 2 and not set(u.id for u in second.items) & set(u.id for u in first.items)
        assert plain(screen.query_one(".list-status", Static)).startswith(f"Page 2 of {first.total_pages}")
        await pilot.press("up")  # above the first row: back to the previous page, on its last row
        await settled(pilot)
        table = screen.query_one(PageTable)
        assert screen.paged_list.result.page == 1 and table.cursor_row == len(first.items) - 1


async def test_enter_opens_the_person_and_every_tab(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_users(pilot)
        await pilot.press("enter")  # Astrid Holm, seen last
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert isinstance(screen, UserScreen) and screen.detail is not None
        assert screen.detail.email == "astrid@holm.example"
        header = plain(screen.query_one("#user-header", Static))
        assert "Astrid Holm" in header and "Email confirmed" in header
        tiles = {
            name: plain(screen.query_one(f"#tile-{name}", Static)) for name in ("memberships", "sessions", "logins")
        }
        assert "2 memberships" in tiles["memberships"]
        assert "\n1\n" in tiles["sessions"]  # the revoked one does not count
        assert "\n2\n" in tiles["logins"]  # two successful sign-ins in 30 days
        memberships = screen.query_one(MembershipsList)
        assert [m.tenant_name for m in memberships.result.items] == ["Nordlys ApS", "Skovly IVS"]

        await pilot.press("2")
        await settled(pilot)
        assert screen.query_one(TabbedContent).active == "logins"
        logins = screen.query_one("#user-logins", LoginsList)
        outcomes = [
            plain_text.plain for plain_text in (logins.table.get_cell(row.id, "outcome") for row in logins.result.items)
        ]
        assert outcomes == ["✓ Succeeded", "⚠ TooManyRetries", "Pending", "⚠ IdentityProviderError", "✓ Succeeded"]
        assert logins.result.items[0].ip_address == "192.0.2.10"

        await pilot.press("3")
        await settled(pilot)
        sessions = screen.query_one("#user-sessions", SessionsList)
        statuses = [sessions.table.get_cell(row.id, "status").plain for row in sessions.result.items]
        assert statuses == ["✓ Active", "✕ Revoked", "· Expired"]

        await pilot.press("1")
        await settled(pilot)
        assert app.focused is screen.query_one(MembershipsList).table
        await pilot.press("down", "enter")  # the Skovly membership opens its account
        await settled(pilot, DEBOUNCE)
        assert isinstance(app.screen, AccountScreen) and app.screen.view.detail.name == "Skovly IVS"
        await pilot.press("escape")
        await settled(pilot)
        assert app.screen is screen


async def test_unknown_user_shows_the_message(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("user", user_id="usr_nobody")
        await settled(pilot)
        assert "User usr_nobody was not found." in plain(app.screen.query_one("#user-error", Static))
        assert isinstance(app.screen.query_one(PagedList), PagedList)


@pytest.mark.parametrize("too_low", [False, True])
async def test_a_broad_search_shows_an_estimate_labelled_as_one(
    make_lists_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch, too_low: bool
) -> None:
    """Beyond EXACT_UP_TO matches the total is sampled: the status says
    "about", and the last page, once reached, says the exact count, even when
    the estimate promised fewer pages."""
    monkeypatch.setattr(users, "EXACT_UP_TO", 2)
    if too_low:
        monkeypatch.setattr(users, "rounded_estimate", lambda _estimate, at_least: at_least)
    app = make_lists_app()
    async with app.run_test(size=(130, 12)) as pilot:  # a few rows a page
        await open_users(pilot)
        await pilot.press("slash", *"ex")
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        status = plain(screen.query_one(".list-status", Static))
        assert status.startswith("Page 1 of about ") and "· about " in status, status
        await pilot.press("escape")
        for _ in range(20):  # onwards until the page that ends the list, past any estimated last page
            if not screen.paged_list.result.total_is_estimate:
                break
            await pilot.press("pagedown")
            await settled(pilot)
        status = plain(screen.query_one(".list-status", Static))
        assert "about" not in status and status.endswith("· 11 users · Most recently seen first"), status

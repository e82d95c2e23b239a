"""The accounts list: snapshots of each state, and the operator's flows with
Pilot (search, filter, sort, side pane, open and come back with the state
kept), plus paging at 100,000 accounts. The detail: test_account_screen.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console.app import BackofficeApp
from console.screens import accounts as accounts_screen
from console.screens.account import AccountScreen
from console.screens.accounts import AccountsList, AccountsScreen
from console.widgets.account_pane import AccountPane
from console.widgets.filter_dialog import FilterDialog, FilterSelection
from console.widgets.paged_list import PagedList, PageTable
from console.widgets.search_box import SearchBox
from core.accounts import AccountRow, AccountSort, AccountStatus
from core.paging import Page, PageRequest
from db.enums import SubscriptionPlan
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
from tests.factories import NOW


def names(app: BackofficeApp) -> list[str]:
    """The accounts list's rows, also while a dialog covers it."""
    screen = next(screen for screen in reversed(app.screen_stack) if isinstance(screen, AccountsScreen))
    result = screen.paged_list.result
    return [row.name for row in result.items] if result else []


def pane_text(app: BackofficeApp) -> str:
    pane = app.screen.query_one(AccountPane)
    return " ".join(plain(static) for static in pane.query(Static))


async def open_accounts(pilot: Pilot[Any]) -> None:
    await settled(pilot)
    await pilot.press("a")
    await settled(pilot, DEBOUNCE)


# -- snapshots -------------------------------------------------------------------


def test_snapshot_accounts_list_with_side_pane(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_accounts(pilot)
        await pilot.press("down")  # Fjordhus: downgrading, MRR struck through
        await settled(pilot, DEBOUNCE)

    assert snap_compare(make_lists_app(), terminal_size=WIDE, run_before=run_before)


def test_snapshot_accounts_filtered_to_empty(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_accounts(pilot)
        pilot.app.navigate("accounts", search="nothing like this", statuses=["Canceling"])
        await settled(pilot, DEBOUNCE)

    assert snap_compare(make_lists_app(), terminal_size=WIDE, run_before=run_before)


def test_snapshot_accounts_list_at_80x24(snap_compare: Any, make_lists_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_lists_app(), terminal_size=NARROW, run_before=open_accounts)


# -- the list ----------------------------------------------------------------------


async def test_list_sorted_by_name_with_status_and_struck_mrr(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_accounts(pilot)
        assert names(app) == [
            "Birk & Co",
            "Fjordhus A/S",
            "Havblik Studio",
            "Klint Lab",
            "Nordlys ApS",
            "Skovly IVS",
            "Solstrand",
        ]
        table = app.screen.query_one(PageTable)
        assert app.focused is table
        mrr = {row.key.value: table.get_cell(row.key, "mrr") for row in table.ordered_rows}
        statuses = {row.name: row.status for row in app.screen.paged_list.result.items}
        assert (
            statuses["Fjordhus A/S"] is AccountStatus.Downgrading and statuses["Birk & Co"] is AccountStatus.Canceling
        )
        rows = {row.name: row.id for row in app.screen.paged_list.result.items}
        downgrading = mrr[rows["Fjordhus A/S"]]
        assert isinstance(downgrading, Text) and downgrading.plain == "DKK 299.00 → DKK 149.00"
        assert any("strike" in str(span.style) for span in downgrading.spans)
        assert mrr[rows["Birk & Co"]].plain == "DKK 299.00 → DKK 0.00"
        assert mrr[rows["Nordlys ApS"]].plain == "DKK 299.00" and not mrr[rows["Nordlys ApS"]].spans
        status_line = plain(app.screen.query_one(".list-status", Static))
        assert status_line == "Page 1 of 1 · 7 accounts · Sorted by Name ↑"


# The real delays (these two tests keep them: they test the debouncing).
SEARCH_SETTLES = SearchBox.DEBOUNCE_SECONDS + 0.05
PANE_SETTLES = AccountPane.DEBOUNCE_SECONDS + 0.05


@pytest.mark.debounce
async def test_search_is_debounced_and_latest_wins(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_accounts(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"nord")
        await pilot.pause(0.1)
        assert len(names(app)) == 7  # still typing: no query yet
        await settled(pilot, SEARCH_SETTLES)
        assert names(app) == ["Nordlys ApS"]
        await pilot.press("enter")  # enter hands focus to the list
        await settled(pilot)
        assert isinstance(app.focused, PageTable)
        await pilot.press("slash", "escape")  # escape clears a non-empty box
        await settled(pilot, SEARCH_SETTLES)
        assert len(names(app)) == 7


async def test_filters_plan_status_and_clear(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_accounts(pilot)
        await pilot.press("f")
        await settled(pilot)
        assert isinstance(app.screen, FilterDialog)
        await pilot.press("space")  # the first plan: Premium; the list behind follows at once
        await settled(pilot)
        assert names(app) == ["Birk & Co", "Fjordhus A/S", "Nordlys ApS"]
        statuses = app.screen.query_one("#filter-statuses", FilterSelection)
        statuses.select("Downgrading")
        statuses.select("Canceling")
        await settled(pilot)
        await pilot.press("escape")
        await settled(pilot)
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        assert names(app) == ["Birk & Co", "Fjordhus A/S"]
        summary = plain(screen.query_one("#list-filters", Static))
        assert "Premium" in summary and "Downgrading, Canceling" in summary
        await pilot.press("c")
        await settled(pilot)
        assert len(names(app)) == 7
        assert not screen.query_one("#list-filters").display


async def test_banner_filters_drift_and_unsynced(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_accounts(pilot)
        app.navigate("accounts", filter="drift")
        await settled(pilot)
        assert names(app) == ["Solstrand"]
        assert "Drift detected" in plain(app.screen.query_one("#list-filters", Static))
        app.navigate("accounts", filter="unsynced")
        await settled(pilot)
        # Paid accounts without a billing event: Solstrand (Klint's is Basis now).
        assert names(app) == ["Solstrand"]
        assert "Not synced yet" in plain(app.screen.query_one("#list-filters", Static))


async def test_sort_cycles_flips_and_follows_header_clicks(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await open_accounts(pilot)
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        await pilot.press("greater_than_sign")  # plan: a new column starts descending (docs/rules.md R180)
        await settled(pilot)
        assert screen.sort == AccountSort.plan and screen.descending
        assert names(app)[:3] == ["Birk & Co", "Fjordhus A/S", "Nordlys ApS"]
        await pilot.press("greater_than_sign")  # MRR, descending
        await settled(pilot)
        assert screen.sort == AccountSort.mrr
        assert names(app)[-2:] == ["Havblik Studio", "Klint Lab"] or set(names(app)[-2:]) == {
            "Havblik Studio",
            "Klint Lab",
        }
        await pilot.press("I")  # flip: ascending
        await settled(pilot)
        assert not screen.descending
        assert set(names(app)[:2]) == {"Havblik Studio", "Klint Lab"}
        header = screen.paged_list.table.columns["status"].label.plain
        assert "↑" not in header and screen.paged_list.table.columns["mrr"].label.plain == "MRR ↑"
        screen.paged_list.post_message(PagedList.SortRequested(screen.paged_list, "status"))
        await settled(pilot)
        assert screen.sort == AccountSort.status and screen.descending
        assert names(app)[0] == "Havblik Studio"  # Free ranks last, so first descending
        await pilot.click(PageTable, offset=(2, 0))  # the Name header
        await settled(pilot)
        assert screen.sort == AccountSort.name and not screen.descending
        assert names(app)[0] == "Birk & Co"


@pytest.mark.debounce
async def test_side_pane_follows_the_cursor_after_a_pause(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_accounts(pilot)
        pane = app.screen.query_one(AccountPane)
        assert pane.summary is not None and pane.summary.name == "Birk & Co"
        await pilot.press("down", "down", "down", "down")  # through Fjordhus, Havblik, Klint to Nordlys
        assert pane.row.name == "Nordlys ApS"  # the header follows at once
        assert pane.summary is None  # the rest waits for the cursor to rest
        await settled(pilot, PANE_SETTLES)
        assert pane.summary is not None and pane.summary.name == "Nordlys ApS"
        text = pane_text(app)
        for expected in ("Plan & revenue", "Owners", "Astrid Holm", "4 total", "Signed up", "7 months ago"):
            assert expected in text, expected
        assert [user.display_name for user in pane.summary.top_users] == ["Astrid Holm", "Bo Krag", "Carla Nyhavn"]


async def test_enter_opens_the_account_and_escape_comes_back_with_state(
    make_lists_app: Callable[..., BackofficeApp],
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_accounts(pilot)
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        await pilot.press("f")
        await settled(pilot)
        app.screen.query_one("#filter-plans", FilterSelection).select("Premium")
        await pilot.press("escape")
        await settled(pilot)
        await pilot.press("down", "enter")
        await settled(pilot, DEBOUNCE)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.view is not None and app.screen.view.detail.name == "Fjordhus A/S"
        await pilot.press("escape")
        await settled(pilot)
        assert app.screen is screen
        assert names(app) == ["Birk & Co", "Fjordhus A/S", "Nordlys ApS"]
        # Away to another section and back: the filters are still there.
        await pilot.press("u")
        await settled(pilot)
        await pilot.press("a")
        await settled(pilot)
        assert app.screen is screen and screen.plans == {SubscriptionPlan.Premium}
        assert names(app) == ["Birk & Co", "Fjordhus A/S", "Nordlys ApS"]


async def test_narrow_terminal_shows_the_pane_on_demand(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=NARROW) as pilot:
        await open_accounts(pilot)
        pane = app.screen.query_one(AccountPane)
        assert pane.region.area == 0
        await pilot.press("space")
        await settled(pilot, DEBOUNCE)
        assert pane.region.width > 0 and "Birk & Co" in pane_text(app)


# -- 100,000 accounts: only the visible page is fetched -----------------------------


def _row(index: int) -> AccountRow:
    return AccountRow(
        id=str(index),
        name=f"Account {index:06d}",
        logo_url=None,
        plan=SubscriptionPlan.Standard,
        state="Active",
        status=AccountStatus.Active,
        monthly_recurring_revenue=Decimal("149.00"),
        forward_monthly_recurring_revenue=Decimal("149.00"),
        mrr_changes_at_renewal=False,
        scheduled_price_amount=None,
        currency="DKK",
        renewal_date=NOW + timedelta(days=20),
        planned_change=None,
        subscribed_since=NOW,
        has_ever_subscribed=True,
        country="DK",
        created_at=NOW,
        modified_at=None,
        owner=None,
    )


async def test_moving_through_100k_accounts_fetches_only_the_visible_page(
    make_lists_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 100_000
    requests: list[PageRequest] = []

    def list_accounts(conn: object, *, page: PageRequest, **filters: object) -> Page[AccountRow]:
        requests.append(page)
        first = page.offset
        return Page(
            [_row(i) for i in range(first, min(first + page.page_size, total))], total, page.page, page.page_size
        )

    monkeypatch.setattr(accounts_screen, "list_accounts", list_accounts)
    monkeypatch.setattr(
        "console.widgets.account_pane.account_summary", lambda *a, **k: (_ for _ in ()).throw(LookupError("n/a"))
    )
    app = make_lists_app()
    async with app.run_test(size=NARROW) as pilot:
        await open_accounts(pilot)
        table = app.screen.query_one(PageTable)
        visible = table.size.height - 1  # less the header
        assert requests and requests[-1].page_size == visible == len(table.rows)
        fetched_before = len(requests)
        for _ in range(visible - 1):  # down to the last row of the page: no query
            await pilot.press("down")
        await settled(pilot)
        assert len(requests) == fetched_before
        await pilot.press("down")  # past it: the next page, cursor on its first row
        await settled(pilot)
        assert requests[-1].page == 2 and table.cursor_row == 0
        for _ in range(3):
            await pilot.press("pagedown")
            await settled(pilot)
        await pilot.press("pageup")
        await settled(pilot)
        assert [request.page for request in requests[fetched_before:]] == [2, 3, 4, 5, 4]
        assert all(request.page_size == visible for request in requests)
        assert (
            plain(app.screen.query_one(".list-status", Static))
            == f"Page 4 of {-(-total // visible):,} · 100,000 accounts · Sorted by Name ↑"
        )
        assert isinstance(app.screen.query_one(AccountsList), AccountsList)


# -- translations ------------------------------------------------------------------

MODULES = (
    "console/screens/accounts.py",
    "console/screens/account.py",
    "console/screens/account_tabs.py",
    "console/screens/account_actions.py",
    "console/screens/detail_screen.py",
    "console/screens/users.py",
    "console/screens/user.py",
    "console/screens/billing_events.py",
    "console/screens/invoices.py",
    "console/screens/list_screen.py",
    "console/widgets/account_pane.py",
    "console/widgets/badges.py",
    "console/widgets/dialogs.py",
    "console/widgets/filter_dialog.py",
    "console/widgets/paged_list.py",
    "console/widgets/tiles.py",
    "console/widgets/view_pills.py",
)
CATALOGS = ("lists", "accounts", "users", "billing", "admin")


def test_every_label_is_in_both_catalogs() -> None:
    import json
    import re
    from pathlib import Path

    from console import i18n

    root = Path(__file__).resolve().parents[2]
    patterns = (
        r"""\bt\(\s*["']([a-z_]+\.[A-Za-z0-9_.\-]+)["']""",  # t("key")
        r'Column\([^,]+,\s*"([^"]+)"',  # column headers
        r'(?:NOUN|SEARCH_PLACEHOLDER) = "([^"]+)"',
    )
    used = {
        key for module in MODULES for pattern in patterns for key in re.findall(pattern, (root / module).read_text())
    }
    assert len(used) > 200
    for locale in ("en-US", "da-DK"):
        catalog = i18n.load_catalog(locale)
        assert not sorted(key for key in used if key not in catalog), locale
    for name in CATALOGS:
        english = json.loads((root / "translations/en-US" / f"{name}.json").read_text())
        danish = json.loads((root / "translations/da-DK" / f"{name}.json").read_text())
        assert english.keys() == danish.keys(), name
        for key, value in english.items():
            assert isinstance(value, dict) == isinstance(danish[key], dict), key
            assert danish[key] != "", key


async def test_a_failing_query_shows_its_message_in_the_list_and_the_pane(
    make_lists_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError('relation "tenants" does not exist\nLINE 1: SELECT ...')

    monkeypatch.setattr("console.widgets.account_pane.account_summary", broken)
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_accounts(pilot)
        assert 'Could not load: relation "tenants" does not exist' in pane_text(app)
        monkeypatch.setattr(accounts_screen, "list_accounts", broken)
        await pilot.press("greater_than_sign")  # a new sort: the query fails
        await settled(pilot)
        message = plain(app.screen.query_one("#list-message", Static))
        assert message == 'Could not load: relation "tenants" does not exist'
        assert app.screen.paged_list.state == "error" and app.is_running

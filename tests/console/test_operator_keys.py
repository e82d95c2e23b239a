"""What an operator used to k9s, lazygit, htop and less expects: j/k, g/G and
ctrl+d/ctrl+u on every list and scrolling view; one key, one meaning; sorting
on its own keys with the order always said; a footer that keeps esc, ? and q;
focus where the first key acts; columns that hold still; an id to tell twins
apart, copied with y; and no cell cut without an ellipsis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from rich.cells import cell_len
from rich.text import Text
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import Static

from console import keys
from console.app import BackofficeApp
from console.screens import SCREENS
from console.screens.account import AccountScreen
from console.screens.accounts import AccountsScreen
from console.screens.help import HelpScreen
from console.screens.invoices import InvoicesScreen
from console.screens.operator_menu import OperatorMenu
from console.screens.user import MembershipsList, UserScreen
from console.widgets.footer import KeyFooter
from console.widgets.page_table import PageTable, cell_width
from console.widgets.paged_list import PagedList
from console.widgets.recent import RecentSignupsCard
from console.widgets.scroll import ScrollArea
from tests import factories
from tests.console.lists_data import Platform
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    NARROW,
    WIDE,
    app_factory,
    lists_database,
    lists_engine,
    make_lists_app,
    plain,
    platform,
    quiet_dashboard,
    settled,
)
from tests.factories import NOW

SECTIONS = ("d", "a", "u", "b", "i")


async def go(pilot: Pilot[Any], *keys_: str) -> None:
    await settled(pilot)
    await pilot.press(*keys_)
    await settled(pilot, DEBOUNCE)


def status_line(app: BackofficeApp) -> str:
    return plain(app.screen.query_one(".list-status", Static))


def cursor_item(app: BackofficeApp) -> Any:
    return app.screen.query_one(PagedList).highlighted


def footer_keys(app: BackofficeApp) -> list[str]:
    return [key.key for key in app.screen.query_one(KeyFooter).query("FooterKey")]


# -- 1. j/k, g/G, ctrl+d/ctrl+u ---------------------------------------------------


def test_the_scroll_keys_are_declared_once_and_kiosk_is_not_on_k() -> None:
    scroll = {entry.key: entry.action for entry in keys.keys_in("scroll")}
    assert scroll == {
        "j": "line(1)",
        "k": "line(-1)",
        "g": "first",
        "G": "last",
        "ctrl+d": "half_page(1)",
        "ctrl+u": "half_page(-1)",
    }
    assert all(entry.key not in scroll for entry in keys.KEYS if entry.scope != "scroll")
    assert not [entry for entry in keys.KEYS if "kiosk" in entry.action and entry.key == "k"]


@pytest.mark.parametrize("section", ["a", "u", "b", "i"])
async def test_every_list_takes_j_k_g_and_capital_g(make_lists_app: Callable[..., BackofficeApp], section: str) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await go(pilot, section)
        paged = app.screen.query_one(PagedList)
        items = paged.result.items
        assert len(items) >= 3 and isinstance(app.focused, PageTable)
        await pilot.press("j")
        assert cursor_item(app) == items[1]
        await pilot.press("G")
        assert cursor_item(app) == items[-1]
        await pilot.press("k")
        assert cursor_item(app) == items[-2]
        await pilot.press("g")
        assert cursor_item(app) == items[0]
        await pilot.press("ctrl+d")
        half = max(1, (paged.table.scrollable_content_region.height - 1) // 2)  # half the rows shown, less the header
        assert paged.table.cursor_row == min(half, len(items) - 1)
        await pilot.press("ctrl+u")
        assert cursor_item(app) == items[0]


async def test_capital_g_on_a_paged_list_is_the_last_row_of_the_page(
    make_lists_app: Callable[..., BackofficeApp],
) -> None:
    app = make_lists_app()
    async with app.run_test(size=(130, 14)) as pilot:  # a few rows a page
        await go(pilot, "u")
        paged = app.screen.query_one(PagedList)
        assert paged.result.has_next_page
        await pilot.press("G")
        await settled(pilot)
        assert paged.page == 1 and cursor_item(app) == paged.result.items[-1]
        await pilot.press("j")  # past the end: the next page, as the arrow does
        await settled(pilot)
        assert paged.page == 2 and cursor_item(app) == paged.result.items[0]
        await pilot.press("G", "g")
        assert paged.page == 2 and cursor_item(app) == paged.result.items[0]


async def test_the_dashboard_and_help_scroll_with_the_same_keys(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=NARROW) as pilot:
        await settled(pilot)
        cards = app.screen.query_one("#dashboard-cards", ScrollArea)
        assert app.focused is cards
        await pilot.press("j")
        assert cards.scroll_y == 1
        await pilot.press("ctrl+d")
        assert cards.scroll_y > 1
        await pilot.press("G")
        assert cards.scroll_y == cards.max_scroll_y > 0
        await pilot.press("ctrl+u")
        assert 0 < cards.scroll_y < cards.max_scroll_y
        await pilot.press("g")
        assert cards.scroll_y == 0
        await pilot.press("question_mark")
        await settled(pilot)
        help_ = app.screen.query_one("#help-dialog", ScrollArea)
        assert isinstance(app.screen, HelpScreen) and app.focused is help_ and help_.max_scroll_y > 0
        await pilot.press("G")
        assert help_.scroll_y == help_.max_scroll_y
        await pilot.press("k")
        assert help_.scroll_y == help_.max_scroll_y - 1
        await pilot.press("g")
        assert help_.scroll_y == 0


async def test_help_lists_the_new_keys_and_no_kiosk_key(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await go(pilot, "question_mark")
        text = plain(app.screen.query_one("#help-keys", Static))
        words = " ".join(text.split())
        for line in (
            "j Down a row",
            "G Last row of the page",
            "ctrl+d Half a page down",
            "y Copy the row's id",
            "> Sort by the next column",
        ):
            assert line in words, line
        lines = [" ".join(line.split()) for line in text.splitlines()]
        assert not any(line.startswith("k ") and "iosk" in line for line in lines)
        await pilot.press("escape", "a")
        await settled(pilot, DEBOUNCE)
        footer = " ".join(str(key.render()) for key in app.screen.query("FooterKey"))
        assert "iosk" not in footer


# -- 2. one key, one meaning; sorting -----------------------------------------------


def _screen_keys(screen_class: type) -> dict[str, set[str]]:
    scopes = ["global", *getattr(screen_class, "KEY_SCOPES", ())]
    if any(scope == "list" for scope in scopes) or screen_class.__name__ in {"AccountScreen", "UserScreen"}:
        scopes += [*PageTable.KEY_SCOPES]
    if screen_class.__name__ in {"DashboardScreen", "AccountScreen", "UserScreen"}:
        scopes += [*ScrollArea.KEY_SCOPES]
    meanings: dict[str, set[str]] = {}
    for scope in scopes:
        for entry in keys.keys_in(scope):
            meanings.setdefault(entry.key, set()).add(entry.action)
    return meanings


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_one_key_has_one_meaning_on_every_screen(name: str) -> None:
    meanings = _screen_keys(SCREENS[name])
    assert {key: actions for key, actions in meanings.items() if len(actions) > 1} == {}
    assert meanings["o"] == {"operator_menu"}


async def test_accounts_sort_on_their_own_keys_and_say_so(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await go(pilot, "a")
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        assert status_line(app).endswith("· Sorted by Name ↑")
        await pilot.press("greater_than_sign")  # plan: a new column starts descending (docs/rules.md R180)
        await settled(pilot)
        assert (screen.sort, screen.descending) == ("plan", True)
        assert status_line(app).endswith("· Sorted by Plan ↓")
        assert screen.paged_list.table.columns["plan"].label.plain == "Plan ↓"
        await pilot.press("I")
        await settled(pilot)
        assert (screen.sort, screen.descending) == ("plan", False) and status_line(app).endswith("Sorted by Plan ↑")
        await pilot.press("less_than_sign")  # back to the name, A to Z
        await settled(pilot)
        assert (screen.sort, screen.descending) == ("name", False)
        await pilot.press("less_than_sign")  # round to the last sortable column
        await settled(pilot)
        assert screen.sort == "created-at"
        await pilot.press("o")  # the operator menu, here as everywhere
        await settled(pilot)
        assert isinstance(app.screen, OperatorMenu)


async def test_the_sort_is_said_when_its_column_is_hidden(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=NARROW) as pilot:
        await go(pilot, "a")
        app.navigate("accounts", sort="country", descending=True)
        await settled(pilot)
        table = app.screen.query_one(PageTable)
        assert "country" not in table.columns
        assert status_line(app).endswith("Sorted by Country ↓")


async def test_view_all_signups_opens_the_accounts_newest_first(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        name, params = RecentSignupsCard.LINK
        app.navigate(name, **params)
        await settled(pilot, DEBOUNCE)
        assert status_line(app).endswith("Sorted by Signed up ↓")
        app.navigate("accounts", sort="no-such-sort")  # ignored, not a crash
        await settled(pilot, DEBOUNCE)
        assert isinstance(app.screen, AccountsScreen)


async def test_invoices_sort_by_keys_and_by_a_header_click(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await go(pilot, "i")
        screen = app.screen
        assert isinstance(screen, InvoicesScreen)
        assert status_line(app).endswith("· Sorted by Date ↓")
        await pilot.press("greater_than_sign")
        await settled(pilot)
        assert screen.sort == "total" and screen.descending
        totals = [row.amount for row in screen.paged_list.result.items]
        assert totals == sorted(totals, reverse=True)
        await pilot.click(PageTable, offset=(2, 0))  # the Account header: names A to Z
        await settled(pilot)
        assert screen.sort == "tenant-name" and not screen.descending
        names = [row.tenant_name for row in screen.paged_list.result.items]
        assert names == sorted(names, key=str.lower)
        assert status_line(app).endswith("Sorted by Account ↑")


@pytest.mark.parametrize(("section", "order"), [("u", "Most recently seen first")])  # billing events sort (R113)
async def test_lists_that_cannot_sort_say_their_order_and_offer_no_sort_keys(
    make_lists_app: Callable[..., BackofficeApp], section: str, order: str
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await go(pilot, section)
        assert status_line(app).endswith(f"· {order}")
        actions = {binding.action for _, binding, _, _ in app.screen.active_bindings.values()}
        assert not actions & {"next_sort", "previous_sort", "invert_sort"}
        before = [
            app.screen.query_one(PagedList).row_key(item) for item in app.screen.query_one(PagedList).result.items
        ]
        await pilot.press("greater_than_sign", "I")
        await settled(pilot)
        assert [
            app.screen.query_one(PagedList).row_key(i) for i in app.screen.query_one(PagedList).result.items
        ] == before


# -- 3. the footer keeps esc, ? and q -------------------------------------------------


@pytest.mark.parametrize("size", [NARROW, (120, 36)])
async def test_the_footer_keeps_escape_help_and_quit_on_every_screen(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform, size: tuple[int, int]
) -> None:
    app = make_lists_app()
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        screens: list[str] = []
        for section in SECTIONS:
            await go(pilot, section)
            screens.append(type(app.screen).__name__)
            shown = footer_keys(app)
            assert shown[:3] == ["escape", "question_mark", "q"], (section, shown)
        app.navigate("account", tenant_id=str(platform.solstrand.id))
        await settled(pilot, DEBOUNCE)
        assert footer_keys(app)[:3] == ["escape", "question_mark", "q"]
        app.navigate("user", user_id=platform.astrid)
        await settled(pilot, DEBOUNCE)
        assert footer_keys(app)[:3] == ["escape", "question_mark", "q"]
        footer = app.screen.query_one(KeyFooter)
        assert sum(key.outer_size.width for key in footer.query("FooterKey")) <= size[0]
        assert len(set(screens)) == len(SECTIONS)


# -- 4. the console's options without the word `console` ---------------------------------


@pytest.mark.parametrize(
    ("args", "opened"),
    [
        (("--kiosk",), (True, False, 20)),
        (("--kiosk", "--rotate", "7", "--seed-demo-if-empty"), (True, True, 7)),
        (("--rotate", "9", "console", "--kiosk"), (True, False, 9)),
        (("console",), (False, False, 20)),
    ],
)
def test_the_console_s_options_work_without_the_word_console(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], opened: tuple[bool, bool, float]
) -> None:
    from console.cli import commands
    from tests.cli_run import run_cli

    calls: list[tuple[bool, bool, float]] = []

    def open_console(_context: Any, *, kiosk: bool, seed_demo_if_empty: bool, rotate_seconds: float = 20) -> None:
        calls.append((kiosk, seed_demo_if_empty, rotate_seconds))

    monkeypatch.setattr(commands, "open_console", open_console)
    assert run_cli("--database-url", "postgresql://nobody@localhost/none", *args).code == 0
    assert calls == [opened]


def test_the_console_s_options_with_another_command_are_refused() -> None:
    from tests.cli_run import run_cli

    run = run_cli("--database-url", "postgresql://nobody@localhost/none", "--kiosk", "db", "upgrade")
    assert run.code == 2 and "open the console: give them without a command" in run.err


# -- 5. focus where the first key acts -------------------------------------------------


async def test_the_dashboard_scrolls_at_once_after_coming_back(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=NARROW) as pilot:
        await go(pilot, "a")
        await go(pilot, "d")
        cards = app.screen.query_one("#dashboard-cards", ScrollArea)
        assert app.focused is cards
        await pilot.press("pagedown")
        assert cards.scroll_y > 0
        await pilot.press("home")
        assert cards.scroll_y == 0
        await pilot.press("down")
        assert cards.scroll_y == 1
        await pilot.press("up")
        assert cards.scroll_y == 0
        await go(pilot, "a", "enter")  # an account, then escape twice: back on the dashboard
        await go(pilot, "escape", "escape")
        assert app.focused is app.screen.query_one("#dashboard-cards", ScrollArea)


async def test_detail_screens_open_with_the_active_tab_s_content_focused(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("user", user_id=platform.astrid)
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert isinstance(screen, UserScreen)
        assert app.focused is screen.query_one(MembershipsList).table
        await pilot.press("enter")  # at once: the first membership opens its account
        await settled(pilot, DEBOUNCE)
        assert isinstance(app.screen, AccountScreen)
        account = app.screen
        assert isinstance(app.focused, ScrollArea) and "overview" in app.focused.classes
        await pilot.press("escape")
        await settled(pilot)
        assert app.screen is screen and app.focused is screen.query_one(MembershipsList).table
        app.navigate("account", tenant_id=str(platform.nordlys.id), tab="invoices")
        await settled(pilot, DEBOUNCE)
        assert app.focused is app.screen.query_one("#account-invoices", PagedList).table
        assert account is not app.screen


# -- 10. columns that hold still ------------------------------------------------------------


def _columns(app: BackofficeApp) -> list[tuple[str, int]]:
    table = app.screen.query_one(PageTable)
    return [(str(column.key.value), column.width) for column in table.columns.values()]


async def test_columns_hold_still_across_pages_filters_and_sorts(make_lists_app: Callable[..., BackofficeApp]) -> None:
    app = make_lists_app()
    async with app.run_test(size=(200, 11)) as pilot:  # a few rows a page
        await go(pilot, "a")
        first = _columns(app)
        assert "plan" in dict(first)
        await pilot.press("pagedown")
        await settled(pilot)
        assert app.screen.query_one(PagedList).page == 2 and _columns(app) == first
        app.navigate("accounts", search="fjordhus")  # the one whose MRR changes at renewal
        await settled(pilot, DEBOUNCE)
        assert _columns(app) == first
        mrr = app.screen.query_one(PageTable).get_cell_at((0, [key for key, _ in first].index("mrr")))
        assert mrr.plain == "DKK 299.00 → DKK 149.00"
        app.navigate("accounts", search="nordlys")
        await settled(pilot, DEBOUNCE)
        assert _columns(app) == first
        app.navigate("accounts")
        await settled(pilot, DEBOUNCE)
        # A header click sorts the column drawn there, whatever the page held.
        offset = sum(width + 2 for key, width in first[: [key for key, _ in first].index("mrr")]) + 2
        await pilot.click(PageTable, offset=(offset, 0))
        await settled(pilot)
        assert app.screen.sort == "mrr"
        await pilot.resize_terminal(80, 24)
        await settled(pilot, DEBOUNCE)
        narrow = _columns(app)
        assert len(narrow) < len(first) and {"name", "mrr"} <= {key for key, _ in narrow}
        await pilot.resize_terminal(200, 11)
        await settled(pilot, DEBOUNCE)
        assert _columns(app) == first


# -- 11. ids, and y / Y -------------------------------------------------------------------


@pytest.fixture
def twins(console_engine: Engine) -> Iterator[tuple[Engine, list[factories.TenantRef]]]:
    """Two accounts with the same name, each with an owner."""
    with console_engine.begin() as conn:
        factories.restart_ids()
        refs = [
            factories.tenant(conn, name="Tvilling ApS", plan="Basis", created_at=NOW - timedelta(days=days))
            for days in (10, 20)
        ]
        for index, ref in enumerate(refs):
            factories.user(conn, ref.id, email=f"owner{index}@tvilling.example", role="Owner", first_name="Ejer")
    yield console_engine, refs


async def test_twins_are_told_apart_by_their_id_and_y_copies_it(
    twins: tuple[Engine, list[factories.TenantRef]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, refs = twins
    app = app_factory(engine)()
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(240, 40)) as pilot:  # wide enough for the id beside the side pane
        await go(pilot, "a")
        table = app.screen.query_one(PageTable)
        assert "id" in table.columns
        ids = [table.get_cell_at((row, list(table.columns).index("id"))).plain for row in range(table.row_count)]
        assert sorted(ids) == sorted(str(ref.id) for ref in refs)
        await pilot.press("y")
        await pilot.press("j", "Y")
        await settled(pilot)
        first, second = app.screen.query_one(PagedList).result.items
        assert copied == [first.id, second.owner.email]
        messages = [notification.message for notification in app._notifications]
        assert f"Copied id: {first.id}" in messages and f"Copied owner's e-mail: {second.owner.email}" in messages
        await pilot.resize_terminal(80, 24)
        await settled(pilot, DEBOUNCE)
        assert "id" not in app.screen.query_one(PageTable).columns  # dropped first


async def test_y_on_the_users_list_copies_the_id_and_capital_y_the_e_mail(
    make_lists_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_lists_app()
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=WIDE) as pilot:
        await go(pilot, "u", "y", "Y")
        first = app.screen.query_one(PagedList).result.items[0]
        assert copied == [first.id, first.email]
        await go(pilot, "b", "Y")  # an event has no e-mail: Y is not offered there
        assert copied == [first.id, first.email]


# -- 12. nothing cut without an ellipsis; amounts never ------------------------------------


def _cut_cells(app: BackofficeApp) -> list[str]:
    """Every shown cell that differs from its full text without an ellipsis,
    every cut amount, and every table wider than its list."""
    problems = []
    for paged in app.screen.query(PagedList):
        if paged.state != "data" or paged.size.width == 0:
            continue
        table = paged.table
        room = paged.content_size.width - 1
        used = sum(column.width + 2 for column in table.columns.values())
        if used > room:
            problems.append(f"{type(paged).__name__} is {used} wide in {room}")
        for item in paged.result.items:
            full = paged.cells(item)
            shown = table.get_row(paged.row_key(item))
            for index, cell in zip(paged._visible, shown, strict=True):
                column = paged.COLUMNS[index]
                text = cell.plain if isinstance(cell, Text) else cell
                whole = full[index].plain if isinstance(full[index], Text) else full[index]
                if cell_width(cell) > table.columns[column.key].width:
                    problems.append(f"{column.key}: {text!r} wider than its column")
                if text == whole:
                    continue
                if not column.cut:
                    problems.append(f"{column.key}: amount {whole!r} cut to {text!r}")
                elif not text.endswith("…") or cell_len(text) > table.columns[column.key].width:
                    problems.append(f"{column.key}: {whole!r} cut to {text!r} without an ellipsis")
    return problems


@pytest.mark.parametrize("locale", ["en-US", "da-DK"])
@pytest.mark.parametrize("size", [NARROW, (120, 36), (200, 50)])
async def test_no_list_cuts_a_cell_without_an_ellipsis(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform, locale: str, size: tuple[int, int]
) -> None:
    app = make_lists_app(locale=locale)
    async with app.run_test(size=size) as pilot:
        problems: list[str] = []
        for section in ("a", "u", "b", "i"):
            await go(pilot, section)
            problems += [f"{section}: {problem}" for problem in _cut_cells(app)]
        app.navigate("account", tenant_id=str(platform.nordlys.id))
        await settled(pilot, DEBOUNCE)
        for tab in "12345":
            await go(pilot, tab)
            problems += [f"account {tab}: {problem}" for problem in _cut_cells(app)]
        app.navigate("user", user_id=platform.astrid)
        await settled(pilot, DEBOUNCE)
        for tab in "123":
            await go(pilot, tab)
            problems += [f"user {tab}: {problem}" for problem in _cut_cells(app)]
        assert problems == []

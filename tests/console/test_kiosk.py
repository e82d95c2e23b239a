"""The kiosk with Pilot: big digits, every panel within one rotation, the
whole dashboard on a large terminal, nothing to focus or press, stale data
said out loud and recovery on its own, read-only transactions, a role that
is only a backoffice_reader. How kiosk mode is entered and left:
tests/console/test_shell.py; snapshots: test_kiosk_snapshots.py; the real
program under a pty: test_kiosk_terminal.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from textual.pilot import Pilot
from textual.widgets import DataTable, Digits

from console import i18n
from console.app import BackofficeApp
from console.screens.kiosk import PANELS, KioskScreen, KioskTiming
from console.widgets.banners import Banner
from console.widgets.cards import CardLink, DataCard
from console.widgets.kiosk_cards import fitting, money_figures
from console.widgets.kiosk_status import Problem, rotation_indicator, stale_notice
from tests.console.conftest import settle
from tests.console.kiosk_fixtures import breakable_engine, kiosk_app, spaced  # noqa: F401
from tests.factories import NOW

NARROW = (80, 24)
WALL = (200, 55)
READER_ROLE = "kiosk_wall_reader"


def kiosk(app: BackofficeApp) -> KioskScreen:
    assert isinstance(app.screen, KioskScreen)
    return app.screen


def digits(app: BackofficeApp, tile: str) -> str:
    return app.screen.query_one(f"#tile-{tile} Digits", Digits).value


def text_of(app: BackofficeApp, selector: str) -> str:
    return spaced(str(app.screen.query_one(selector).render()))


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until `condition` held; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        await pilot.pause(0.02)
    return time.monotonic() - started


# -- readable from across the room -------------------------------------------


@pytest.mark.parametrize(("locale", "mrr"), [("en-US", "746.00"), ("da-DK", "746,00")])
async def test_kpis_show_in_big_digits_with_label_and_change(seeded_engine: Engine, locale: str, mrr: str) -> None:
    app = kiosk_app(seeded_engine, locale=locale)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        assert digits(app, "total-accounts") == "7"
        assert digits(app, "blended-mrr") == mrr
        assert digits(app, "sessions-started") == "2"
        assert digits(app, "account-status") == "5"
        i18n.set_locale(locale)
        assert i18n.t("dashboard.kpi.blended_mrr").upper() in text_of(app, "#tile-blended-mrr .wall-tile-label")
        assert "DKK" in text_of(app, "#tile-blended-mrr .wall-tile-label")
        assert "+33" in text_of(app, "#tile-blended-mrr .wall-tile-change")


def test_a_figure_falls_back_to_a_shorter_one_that_fits() -> None:
    i18n.set_locale("en-US")
    figures = money_figures(Decimal("1234567.50"))
    assert figures == ["1,234,567.50", "1,234,568", "1.2M"]
    assert fitting(figures, 40) == "1,234,567.50"
    assert fitting(figures, 24) == "1,234,568"
    assert fitting(figures, 10) == "1.2M"
    assert fitting(figures, 3) == "1.2M"  # nothing fits: the shortest (shown as plain text)


def test_the_notice_and_the_indicator_read_as_sentences() -> None:
    i18n.set_locale("en-US")
    at = NOW.replace(hour=14, minute=2)
    since = NOW.replace(hour=14, minute=5)
    assert spaced(stale_notice(at, Problem("unreachable", since))) == (
        "Data from 2:02 PM UTC, database unreachable since 2:05 PM UTC"
    )
    assert spaced(stale_notice(None, Problem("failing", since, "boom"))) == (
        "No data yet: queries failing since 2:05 PM UTC (boom)"
    )
    assert rotation_indicator(1, ["A", "MRR and revenue", "C", "D", "E"]) == "○ ● ○ ○ ○  2/5 MRR and revenue"


# -- everything shows, at any size -------------------------------------------


async def test_rotation_shows_every_panel_within_one_cycle_at_80x24(seeded_engine: Engine) -> None:
    rotate = 0.25
    app = kiosk_app(seeded_engine, timing=KioskTiming(rotate=rotate))
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        screen = kiosk(app)
        assert not screen.everything
        seen: list[str] = []
        indicators: set[str] = set()
        started = time.monotonic()
        # Counted in panel changes, not seconds: a loaded machine may fire the rotation late.
        while len(seen) < len(PANELS) and time.monotonic() - started < 20:
            visible = screen.visible_panels
            assert len(visible) == 1, visible  # one panel at a time
            if not seen or seen[-1] != visible[0]:
                seen.append(visible[0])
            indicators.add(text_of(app, "#wall-rotation"))
            await pilot.pause(0.02)
        assert set(seen) == set(PANELS)  # the first five panels shown are all five
        assert "○ ● ○ ○ ○  2/5 MRR and revenue" in indicators


async def test_the_whole_dashboard_shows_where_it_fits_and_a_resize_lays_it_out_again(seeded_engine: Engine) -> None:
    app = kiosk_app(seeded_engine, timing=KioskTiming(rotate=0.1))
    async with app.run_test(size=WALL) as pilot:
        await settle(pilot)
        screen = kiosk(app)
        assert screen.everything and screen.visible_panels == list(PANELS)
        await pilot.pause(0.3)  # the rotation has nothing to do
        assert screen.visible_panels == list(PANELS) and text_of(app, "#wall-rotation") == ""
        assert {card.state for card in app.screen.query(DataCard)} == {"data"}
        wide_chart = app.screen.query_one("#mrr-trend Chart").size

        for size in (NARROW, (120, 36)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert not screen.everything and len(screen.visible_panels) == 1, size
            assert "/5" in text_of(app, "#wall-rotation")

        await pilot.resize_terminal(*WALL)
        await wait_until(pilot, lambda: screen.visible_panels == list(PANELS), 2)
        assert app.screen.query_one("#mrr-trend Chart").size == wide_chart


# -- nobody can walk in -------------------------------------------------------


async def test_nothing_can_be_focused_opened_or_selected(seeded_engine: Engine) -> None:
    app = kiosk_app(seeded_engine)
    async with app.run_test(size=WALL) as pilot:
        await settle(pilot)
        assert app.focused is None
        assert not app.screen.query(CardLink)  # no "View all"
        assert not app.screen.query("Button")
        tables = list(app.screen.query(DataTable))
        assert len(tables) == 4 and all(not table.can_focus and not table.show_cursor for table in tables)
        assert all(not banner.can_focus for banner in app.screen.query(Banner))
        assert all(not widget.can_focus for widget in app.screen.query("*"))


async def test_started_with_kiosk_no_key_but_ctrl_q_does_anything(seeded_engine: Engine) -> None:
    app = kiosk_app(seeded_engine)
    keys = [
        *"abcdefghijklmnopqrstuvwxyz",
        *"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        *"0123456789",
        "escape", "tab", "shift+tab", "enter", "space", "question_mark", "slash",
        "ctrl+p", "ctrl+k", "ctrl+c", "up", "down", "pagedown", "f1",
    ]  # fmt: skip
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        screen = app.screen
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen and app.screen_stack == [screen] and app.focused is None, key
            assert app.kiosk and app.is_running, key
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code in (None, 0)


# -- stale data is visible ----------------------------------------------------


async def test_stale_data_is_said_and_greyed_and_recovers_within_5_seconds(
    breakable_engine: tuple[Engine, dict[str, bool]],
) -> None:
    engine, state = breakable_engine
    timing = KioskTiming(refresh=0.3, retry=0.2, rotate=60)
    assert KioskTiming().retry <= 5  # the default retries at least that often
    app = kiosk_app(engine, timing=timing)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = kiosk(app)
        assert not screen.stale and digits(app, "total-accounts") == "7"

        state["down"] = True
        engine.dispose()  # the pooled connections go with the server
        cards = list(app.screen.query(DataCard))
        # Greyed and said: the notice follows the first failed round, which a loaded machine may finish later.
        await wait_until(pilot, lambda: screen.stale and all(card.has_class("-stale") for card in cards), 10)
        notice = text_of(app, "#wall-stale")
        assert "Data from 12:00 PM UTC, database unreachable since 12:00 PM UTC" in notice
        assert "Retrying in 0.2 s." in text_of(app, "#wall-updated")
        assert digits(app, "total-accounts") == "7"  # ... but still there, not an error
        assert {card.state for card in cards} == {"data"}
        rounds = screen.rounds_completed

        state["down"] = False
        recovered = await wait_until(
            pilot, lambda: not screen.stale and not any(card.has_class("-stale") for card in cards), 5
        )
        assert recovered < 5 and screen.rounds_completed > rounds
        assert text_of(app, "#wall-updated") == "Updated 12:00 PM UTC"


async def test_a_failing_query_greys_only_its_card_and_says_why(
    seeded_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = kiosk_app(seeded_engine, timing=KioskTiming(refresh=0.2, retry=0.1, rotate=60))
    async with app.run_test(size=WALL) as pilot:
        await settle(pilot)
        screen = kiosk(app)

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("canceling statement due to statement timeout")

        monkeypatch.setattr("console.widgets.trend_cards.mrr_trend", broken)
        await wait_until(pilot, lambda: screen.stale, 10)
        assert "queries failing since 12:00 PM UTC (canceling statement due to statement timeout)" in text_of(
            app, "#wall-stale"
        )
        stale = {card.id for card in app.screen.query(DataCard) if card.has_class("-stale")}
        assert stale == {"mrr-trend"}


async def test_no_data_yet_says_so(breakable_engine: tuple[Engine, dict[str, bool]]) -> None:
    engine, state = breakable_engine
    state["down"] = True
    app = kiosk_app(engine, timing=KioskTiming(refresh=0.1, retry=0.1, rotate=60))
    async with app.run_test(size=NARROW) as pilot:
        screen = kiosk(app)
        await wait_until(pilot, lambda: screen.stale, 10)
        assert "No data yet: database unreachable since 12:00 PM" in text_of(app, "#wall-stale")
        state["down"] = False
        await wait_until(pilot, lambda: not screen.stale and digits(app, "total-accounts") == "7", 5)


# -- read-only, and a reader role is enough -----------------------------------


async def test_every_kiosk_query_runs_in_a_read_only_transaction(seeded_engine: Engine) -> None:
    engine = create_engine(seeded_engine.url)
    first_statements: list[str] = []
    began: set[int] = set()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        began.add(id(conn))

    @event.listens_for(engine, "before_cursor_execute")
    def on_execute(conn: Any, cursor: Any, statement: str, *args: object) -> None:
        if id(conn) in began:
            began.discard(id(conn))
            first_statements.append(statement)

    app = kiosk_app(engine)
    async with app.run_test(size=WALL) as pilot:
        await settle(pilot)
        assert {card.state for card in app.screen.query(DataCard)} == {"data"}
    engine.dispose()
    assert len(first_statements) >= 10
    assert set(first_statements) == {"SET TRANSACTION READ ONLY"}


@pytest.fixture
def reader_only_engine(pg_server_url: str, seeded_engine: Engine) -> Iterator[Engine]:
    """A LOGIN role of the test cluster that is only a member of backoffice_reader."""
    server = pg_server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {READER_ROLE}")
        admin.execute(f"CREATE ROLE {READER_ROLE} LOGIN IN ROLE backoffice_reader")
    engine = create_engine(make_url(str(seeded_engine.url)).set(username=READER_ROLE, password=None))
    yield engine
    engine.dispose()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {READER_ROLE}")


async def test_the_kiosk_runs_as_a_role_that_can_only_read(reader_only_engine: Engine) -> None:
    with reader_only_engine.connect() as conn:
        memberships = (
            conn.exec_driver_sql(
                "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid"
                " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = current_user"
            )
            .scalars()
            .all()
        )
        assert memberships == ["backoffice_reader"]
        assert conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar() is False
    app = kiosk_app(reader_only_engine)
    async with app.run_test(size=WALL) as pilot:
        await settle(pilot)
        assert app.is_admin is False
        assert {card.state for card in app.screen.query(DataCard)} == {"data"}
        assert digits(app, "total-accounts") == "7"
        assert not kiosk(app).stale

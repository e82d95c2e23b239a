"""The shell with Pilot: navigation keys and history, side menu, help, kiosk
mode, how it is entered and left and its persistence, banners appearing and
disappearing. The kiosk's own display: tests/console/test_kiosk.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from console import preferences
from console.app import BackofficeApp
from console.screens.accounts import AccountScreen, AccountsScreen
from console.screens.billing_events import BillingEventsScreen
from console.screens.coming_soon import WaitListScreen
from console.screens.dashboard import DashboardScreen
from console.screens.help import HelpScreen
from console.screens.invoices import InvoicesScreen
from console.screens.kiosk import KioskScreen, LeaveKioskDialog
from console.screens.operator_menu import OperatorMenu
from console.screens.users import UsersScreen
from console.widgets.banners import Banner
from console.widgets.charts import Chart
from console.widgets.side_menu import SideMenu
from tests.console import data
from tests.console.conftest import settle

SIZE = (100, 30)


async def test_navigation_keys_and_back(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        for key, screen in (
            ("a", AccountsScreen),
            ("u", UsersScreen),
            ("b", BillingEventsScreen),
            ("i", InvoicesScreen),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen), key
            assert app.screen.query_one(SideMenu).highlighted_option.id == screen.NAME
        app.navigate("account", tenant_id="42")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen) and app.screen.params == {"tenant_id": "42"}
        assert app.screen.query_one(SideMenu).highlighted_option.id == "accounts"

        # escape: close the detail, then walk back through the sections visited
        for screen in (
            InvoicesScreen,
            BillingEventsScreen,
            UsersScreen,
            AccountsScreen,
            DashboardScreen,
            DashboardScreen,
        ):
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, screen)

        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_sections_keep_their_screen(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    """Leaving a section and coming back finds the same screen (its state survives);
    navigating with params hands them to it."""
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        accounts = app.screen
        await pilot.press("d")
        await settle(pilot)
        app.navigate("accounts", filter="drift")
        await settle(pilot)
        assert app.screen is accounts
        assert accounts.params == {"filter": "drift"}


async def test_side_menu_opens_coming_soon(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        menu = app.screen.query_one(SideMenu)
        menu.focus()
        menu.highlighted = menu.get_option_index("wait_list")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WaitListScreen)
        assert "coming soon" in str(app.screen.query_one("#coming-soon").render())


async def test_help_lists_the_keys(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("a")  # navigation keys do not leak through the dialog
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_kiosk_from_the_operator_menu_persists_and_is_left_only_deliberately(
    make_seeded_app: Callable[..., BackofficeApp], config_dir: Path
) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.click("#header-operator")  # the operator menu (`o` sorts the accounts list)
        await settle(pilot)
        await pilot.press("enter")  # its kiosk entry
        await settle(pilot)
        assert app.kiosk and isinstance(app.screen, KioskScreen)
        assert json.loads((config_dir / preferences.FILE_NAME).read_text())["kiosk"] is True

        # Stray keys neither quit, nor leave the wall display, nor open anything on it.
        for key in ("q", "a", "k", "o", "question_mark", "escape", "ctrl+p", "tab", "enter"):
            await pilot.press(key)
            await settle(pilot)
            assert app.is_running and isinstance(app.screen, KioskScreen), key
        assert not app.can_admin and app.focused is None

        await pilot.press("ctrl+k")  # leaving asks; staying is the default answer
        await settle(pilot)
        assert isinstance(app.screen, LeaveKioskDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert app.kiosk and isinstance(app.screen, KioskScreen)
        await pilot.press("ctrl+q")  # a deliberate quit still works
        await pilot.pause()
        assert not app.is_running

    reopened = make_seeded_app()
    async with reopened.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert reopened.kiosk and isinstance(reopened.screen, KioskScreen)  # remembered on this machine
        await pilot.press("ctrl+k", "y")
        await settle(pilot)
        assert not reopened.kiosk and isinstance(reopened.screen, DashboardScreen)
        assert reopened.screen.query_one("#side-menu").region.area > 0
        assert preferences.load().kiosk is False
        assert not reopened.query(KioskScreen)  # the wall display went, with its timers
        await pilot.press("q")
        await pilot.pause()
        assert not reopened.is_running


async def test_kiosk_flag_forces_kiosk_for_the_run(
    make_seeded_app: Callable[..., BackofficeApp], config_dir: Path
) -> None:
    app = make_seeded_app(kiosk=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.kiosk and app.kiosk_locked and isinstance(app.screen, KioskScreen)
        assert not (config_dir / preferences.FILE_NAME).exists()  # forcing it is not a preference
        await pilot.press("ctrl+k", "y")  # started with --kiosk, there is no way out but ctrl+q
        await settle(pilot)
        assert app.kiosk and isinstance(app.screen, KioskScreen)
        app.action_toggle_kiosk()
        assert app.kiosk


NO_BANNERS = dict.fromkeys(
    ("banner-summary", "banner-database", "banner-unsynced", "banner-mrr-mismatch", "banner-drift"), False
)


def _banners(app: BackofficeApp) -> dict[str, bool]:
    return {banner.id: banner.display for banner in app.screen.query(Banner)}


async def test_banners_appear_navigate_and_disappear(
    make_app: Callable[..., BackofficeApp], console_engine: Engine
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not any(_banners(app).values())

        data.seed(console_engine)
        app.refresh_banners()
        await settle(pilot)
        # Three alerts fold into one line ...
        assert _banners(app) == {**NO_BANNERS, "banner-summary": True}
        assert "3 data-quality alerts: accounts not synced, MRR mismatch, billing drift" in str(
            app.screen.query_one("#banner-summary .banner-text").render()
        )
        # ... that unfolds when it has the focus.
        app.screen.query_one("#banner-summary").focus()
        await settle(pilot)
        assert _banners(app) == {
            **NO_BANNERS,
            "banner-unsynced": True,
            "banner-mrr-mismatch": True,
            "banner-drift": True,
        }
        assert "1 account has billing drift detected." in str(
            app.screen.query_one("#banner-drift .banner-text").render()
        )

        app.screen.query_one("#banner-drift").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen) and app.screen.params == {"filter": "drift"}
        assert _banners(app)["banner-summary"]  # on every screen, folded again
        await pilot.click("#banner-summary")
        await settle(pilot)
        await pilot.click("#banner-mrr-mismatch")
        await settle(pilot)
        assert isinstance(app.screen, BillingEventsScreen)

        data.clear_data_quality_issues(console_engine)
        app.refresh_banners()
        await settle(pilot)
        assert not any(_banners(app).values())
        with console_engine.begin() as conn:
            conn.execute(text("UPDATE subscriptions SET has_drift_detected = true WHERE plan = 'Premium'"))
        app.refresh_banners()
        await settle(pilot)
        assert _banners(app) == {**NO_BANNERS, "banner-drift": True}  # one alert: its own line
        assert "2 accounts have billing drift detected." in str(
            app.screen.query_one("#banner-drift .banner-text").render()
        )


async def test_operator_menu_turns_kiosk_on(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OperatorMenu)
        await pilot.press("enter")  # the kiosk entry is highlighted first
        await settle(pilot)
        assert app.kiosk and isinstance(app.screen, KioskScreen)


async def test_no_color_is_honoured(
    make_seeded_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.no_color
        chart = app.screen.query_one("#mrr-trend Chart", Chart)
        assert chart.colour("current") == "blue"  # plain terminal colours, made monochrome by Textual

"""A key pressed while the console is still starting is acted on, not lost to
the dashboard that is still loading."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, text
from textual import events

from console.app import BackofficeApp
from console.screens.accounts import AccountsScreen
from console.screens.dashboard import DashboardScreen
from console.widgets.kpi import KpiCard
from core.settings import Settings
from tests.console.conftest import NOW, settle


async def test_a_key_pressed_before_the_dashboard_loads_is_acted_on(
    seeded_engine: Engine, make_seeded_app: Callable[..., BackofficeApp]
) -> None:
    app = make_seeded_app()
    # Hold the dashboard's data back: its queries wait for this lock.
    with seeded_engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE"))
        async with app.run_test(size=(100, 30)) as pilot:
            dashboard = app.screen
            assert isinstance(dashboard, DashboardScreen)
            assert dashboard.query_one(KpiCard).state == "loading"
            await pilot.press("a")
            await pilot.pause()
            blocker.rollback()
            await settle(pilot)
            assert isinstance(app.screen, AccountsScreen)


class KeyTypedAtStart(BackofficeApp):
    """The console with a key already waiting when it mounts, as the terminal
    driver posts one typed while the program starts."""

    async def on_mount(self) -> None:
        self.post_message(events.Key("a", "a"))
        await super().on_mount()


async def test_a_key_queued_while_the_console_starts_is_acted_on(seeded_engine: Engine) -> None:
    """The key is handled once the dashboard is in place, and the dashboard
    does not then replace the screen the key opened."""
    app = KeyTypedAtStart(
        settings=Settings(locale="en-US", operator="operator"), engine=seeded_engine, kiosk=False, now=NOW
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)

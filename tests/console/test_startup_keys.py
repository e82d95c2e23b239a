"""A key pressed while the console is still starting is acted on, not lost to
the dashboard that is still loading."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, text

from console.app import BackofficeApp
from console.screens.accounts import AccountsScreen
from console.screens.dashboard import DashboardScreen
from console.widgets.kpi import KpiCard
from tests.console.conftest import settle


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

"""Dashboard flows with Pilot: the period drives every card, tiles navigate,
failures stay in their card, refreshes re-arm."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from console.app import BackofficeApp
from console.screens.accounts import AccountsScreen
from console.screens.billing_events import BillingEventsScreen
from console.screens.dashboard import DashboardScreen
from console.screens.invoices import InvoicesScreen
from console.screens.users import UserScreen, UsersScreen
from console.widgets.cards import DataCard
from console.widgets.kpi import KpiTile
from console.widgets.period import PeriodChoice
from tests.console.conftest import settle

SIZE = (120, 40)


def _cards(app: BackofficeApp) -> list[DataCard]:  # type: ignore[type-arg]
    return list(app.screen.query(DataCard))


def _tile_text(app: BackofficeApp, tile_id: str) -> str:
    tile = app.screen.query_one(f"#{tile_id}", KpiTile)
    return " ".join(str(static.render()) for static in tile.query("Static"))


async def test_period_change_reloads_every_card(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cards = _cards(app)
        assert len(cards) == 11
        assert all(card.state == "data" and card.request.period == 30 for card in cards)
        rounds = {card.request.round for card in cards}

        await pilot.press("p")
        await settle(pilot)

        assert app.screen.period == 90
        for card in cards:
            assert card.state == "data", card.id
            assert card.request.period == 90, card.id
            assert card.request.round not in rounds, card.id
            if hasattr(card.data, "period"):
                assert card.data.period == 90, card.id
        assert len(card_points := app.screen.query_one("#mrr-trend").data.points) == 90
        assert card_points[-1].date.isoformat() == "2026-05-08"
        assert "Last 90 days" in _tile_text(app, "tile-users-active")
        active = [choice.days for choice in app.screen.query(PeriodChoice) if choice.has_class("-active")]
        assert active == [90]

        await pilot.press("p")
        await settle(pilot)
        assert {card.request.period for card in cards} == {7}
        assert len(app.screen.query_one("#revenue-trend").data.points) == 7


async def test_clicking_a_period_chooses_it(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.click("#period-7")
        await settle(pilot)
        assert app.screen.query_one("#kpis").data.period == 7


async def test_kpi_figures_come_from_core(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "7" in _tile_text(app, "tile-total-accounts")
        # The change is the change in new accounts, and says so.
        assert "+4 new new +300% vs prior 30d" in _tile_text(app, "tile-total-accounts")
        assert "DKK 746.00" in _tile_text(app, "tile-blended-mrr")
        assert "5 / 1 / 1" in _tile_text(app, "tile-account-status")


async def test_selecting_a_tile_opens_its_screen(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for tile, screen in (
            ("tile-total-accounts", AccountsScreen),
            ("tile-blended-mrr", BillingEventsScreen),
            ("tile-total-revenue", InvoicesScreen),
            ("tile-users-active", UsersScreen),
        ):
            app.screen.query_one(f"#{tile}").focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, screen), tile
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)


async def test_clicking_a_tile_navigates_and_plain_tiles_do_not(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.click("#tile-sessions-started")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.click("#tile-blended-mrr")
        await settle(pilot)
        assert isinstance(app.screen, BillingEventsScreen)


async def test_recent_login_row_opens_the_user(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen.query_one("#recent-logins")
        first = card.data.items[0]
        card.query_one("DataTable").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, UserScreen)
        assert app.screen.params == {"user_id": first.user_id}


async def test_a_failing_query_stays_in_its_card(
    make_seeded_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("canceling statement due to statement timeout")

    monkeypatch.setattr("console.widgets.kpi.kpis", broken)
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        states = {card.id: card.state for card in _cards(app)}
        assert states.pop("kpis") == "error"
        assert set(states.values()) == {"data"}
        message = str(app.screen.query_one("#kpis #error").render())
        assert "statement timeout" in message and "Traceback" not in message
        updated = app.screen.query_one("#dashboard-updated")
        assert "Retrying in 10 s." in str(updated.render()) and updated.has_class("-stale")
        assert app.screen._timer is not None  # the next round is armed: recovery needs no key press

        monkeypatch.undo()
        app.screen._refresh_due()
        await settle(pilot)
        assert app.screen.query_one("#kpis").state == "data"
        assert str(updated.render()).startswith("Updated 12:00") and not updated.has_class("-stale")


async def test_empty_database_shows_empty_states(make_app: Callable[..., BackofficeApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        states = {card.id: card.state for card in _cards(app)}
        assert states.pop("kpis") == "data"  # zeros are figures, not an empty card
        assert set(states.values()) == {"empty"}
        assert "No recent signups" in str(app.screen.query_one("#recent-signups #empty").render())


async def test_refresh_round_is_rearmed_after_it_finishes(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen._timer is not None  # armed once every card answered
        first_round = screen._round
        screen._refresh_due()
        await settle(pilot)
        assert screen._round == first_round + 1
        assert "Updated 12:00" in str(screen.query_one("#dashboard-updated").render())

        await pilot.press("question_mark")  # a dialog on top: the round waits
        screen._refresh_due()
        await settle(pilot)
        assert screen._round == first_round + 1
        await pilot.press("escape")
        await settle(pilot)
        assert screen._round == first_round + 2  # caught up when shown again

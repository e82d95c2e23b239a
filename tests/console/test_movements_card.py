"""The dashboard's "MRR movements" card (docs/rules.md R150,
docs/figures.md#mrr-movements): core's figures, the period, the empty, error
and unreconciled states, and how it looks at 80x24 in both locales."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import Static

from console.app import BackofficeApp
from console.widgets.movements import MrrMovementsCard
from core.currency import platform_currency
from core.dashboard.movements import MrrMovements, mrr_movements
from db.engine import read_only
from tests.console.conftest import settle
from tests.factories import NOW

SIZE = (120, 40)
NARROW = (80, 24)
D = Decimal


def _card(app: BackofficeApp) -> MrrMovementsCard:
    return app.screen.query_one("#mrr-movements", MrrMovementsCard)


def _text(app: BackofficeApp, selector: str) -> str:
    """What a Static shows, whitespace collapsed (a rich table rendered to text)."""
    console = Console(width=60, record=True, file=io.StringIO())
    console.print(app.screen.query_one(selector, Static).content)
    return " ".join(console.export_text().split())


async def test_the_card_shows_cores_movements_for_the_period(
    make_seeded_app: Callable[..., BackofficeApp], seeded_engine: Engine
) -> None:
    with read_only(seeded_engine) as conn:
        expected = {days: mrr_movements(conn, days, NOW, platform_currency(conn)) for days in (30, 90)}
    # The fixed platform: two sign-ups in the last 30 days, one of them cancelled since.
    assert (expected[30].new_mrr, expected[30].churned_mrr) == (D("448.00"), D("299.00"))
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = _card(app)
        assert card.state == "data"
        assert card.data == expected[30]
        subtitle = _text(app, "#mrr-movements .card-subtitle")
        assert subtitle == "DKK 448.00 → DKK 597.00 over 30 days"
        body = _text(app, "#mrr-movements .movements-table")
        for line in (
            "▲ New +DKK 448.00",
            "▲ Expansion DKK 0.00",
            "▲ Reactivation DKK 0.00",
            "▼ Contraction DKK 0.00",
            "▼ Churn -DKK 299.00",
            "= Net change +DKK 149.00",
        ):
            assert line in body
        assert not app.screen.query_one("#mrr-movements .movements-note").display

        await pilot.press("p")
        await settle(pilot)
        assert card.request.period == 90
        assert card.data == expected[90]
        assert "over 90 days" in _text(app, "#mrr-movements .card-subtitle")


async def test_gains_are_green_and_losses_red(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#mrr-movements .movements-table", Static).content
        assert isinstance(table, Table)
        cells = {str(label): str(label.style) for label in table.columns[0].cells if isinstance(label, Text)}
        assert cells["▲ New"] == "green"
        assert cells["▼ Churn"] == "red"
        assert cells["▲ Expansion"] == cells["▼ Contraction"] == "dim"  # nothing moved
        assert cells["= Net change"] == "bold green"


async def test_empty_database_says_there_is_no_mrr(make_app: Callable[..., BackofficeApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _card(app).state == "empty", _card(app).data
        assert "No MRR in this period" in _text(app, "#mrr-movements #empty")


async def test_a_failing_query_stays_in_the_card(
    make_seeded_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("canceling statement due to statement timeout")

    monkeypatch.setattr("console.widgets.movements.mrr_movements", broken)
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _card(app).state == "error"
        assert "statement timeout" in _text(app, "#mrr-movements #error")
        assert app.screen.query_one("#mrr-trend").state == "data"


async def test_movements_that_do_not_add_up_say_so(
    make_seeded_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_summaries = MrrMovements(
        period=30,
        currency="DKK",
        first_day=date(2026, 4, 9),
        last_day=date(2026, 5, 8),
        start_monthly_recurring_revenue=D("100.00"),
        new_mrr=D("50.00"),
        expansion_mrr=D("0"),
        reactivation_mrr=D("0"),
        contraction_mrr=D("0"),
        churned_mrr=D("0"),
        end_monthly_recurring_revenue=D("120.00"),
    )
    monkeypatch.setattr("console.widgets.movements.mrr_movements", lambda *args: broken_summaries)
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#mrr-movements .movements-note").display
        assert "add up to DKK 150.00, not DKK 120.00" in _text(app, "#mrr-movements .movements-note")


async def _scroll_to_the_card(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    for _ in range(2):  # again once the layout has followed the first scroll
        pilot.app.screen.query_one("#dashboard-cards").scroll_to_widget(
            _card(pilot.app), animate=False, immediate=True, top=True
        )
        await pilot.pause()


def test_snapshot_movements_card_at_80x24(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_seeded_app(), terminal_size=NARROW, run_before=_scroll_to_the_card)


def test_snapshot_movements_card_da_dk_at_80x24(
    snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]
) -> None:
    assert snap_compare(make_seeded_app(locale="da-DK"), terminal_size=NARROW, run_before=_scroll_to_the_card)

"""Screens and states at fixed terminal sizes, on fixed rows and a fixed clock.
The kiosk's: test_kiosk_snapshots.py. Update after an intended change:
pytest tests/console --snapshot-update."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from console.app import BackofficeApp
from tests.console.conftest import settle

WIDE = (120, 40)
NARROW = (80, 24)


async def _press(pilot: Pilot[Any], *keys: str) -> None:
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)


def test_dashboard_en_us(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_seeded_app(), terminal_size=WIDE, run_before=settle)


def test_dashboard_da_dk(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_seeded_app(locale="da-DK"), terminal_size=WIDE, run_before=settle)


def test_dashboard_at_80x24(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_seeded_app(), terminal_size=NARROW, run_before=settle)


def test_dashboard_lower_half(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    """The recent tables, scrolled into view."""

    async def scroll_down(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for _ in range(2):  # again once the layout has followed the first scroll
            pilot.app.screen.query_one("#dashboard-cards").scroll_end(animate=False, immediate=True)
            await pilot.pause()

    assert snap_compare(make_seeded_app(), terminal_size=WIDE, run_before=scroll_down)


def test_dashboard_empty_database(snap_compare: Any, make_app: Callable[..., BackofficeApp]) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=settle)


def test_dashboard_card_errors(
    snap_compare: Any,
    make_seeded_app: Callable[..., BackofficeApp],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failing query shows its message in its own card; the others still load."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError('relation "billing_events" does not exist')

    monkeypatch.setattr("console.widgets.trend_cards.mrr_trend", broken)
    monkeypatch.setattr("console.widgets.recent.recent_payments", broken)
    assert snap_compare(make_seeded_app(), terminal_size=WIDE, run_before=settle)


def test_help_screen(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await _press(pilot, "question_mark")

    assert snap_compare(make_seeded_app(), terminal_size=WIDE, run_before=open_help)


def test_coming_soon_screen(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    async def open_support(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.navigate("support")  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(make_seeded_app(locale="da-DK"), terminal_size=NARROW, run_before=open_support)


def test_operator_menu(snap_compare: Any, make_app: Callable[..., BackofficeApp]) -> None:
    async def open_menu(pilot: Pilot[Any]) -> None:
        await _press(pilot, "o")

    assert snap_compare(make_app(), terminal_size=NARROW, run_before=open_menu)


def test_ansi_theme(snap_compare: Any, make_seeded_app: Callable[..., BackofficeApp]) -> None:
    """The 16-colour theme for old terminals."""

    async def use_ansi(pilot: Pilot[Any]) -> None:
        pilot.app.theme = "backoffice-ansi"
        await settle(pilot)

    assert snap_compare(make_seeded_app(), terminal_size=NARROW, run_before=use_ansi)

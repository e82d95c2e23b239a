"""The kiosk at wall sizes, on the fixed rows and clock: rotating at 80x24 and
120x36 (the key figures first, in big digits), everything at once at
200x55; both locales; the 16-colour theme; figures gone stale; the question
before leaving. Update after an intended change:
pytest tests/console --snapshot-update."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot

from console.app import BackofficeApp
from console.screens.kiosk import KioskTiming
from core.settings import Settings
from tests.console.conftest import settle
from tests.console.kiosk_fixtures import breakable_engine, kiosk_app  # noqa: F401
from tests.factories import NOW

SIZES = {"80x24": (80, 24), "120x36": (120, 36), "200x55": (200, 55)}


@pytest.mark.parametrize("locale", ["en-US", "da-DK"])
@pytest.mark.parametrize("size", list(SIZES))
def test_kiosk(snap_compare: Any, seeded_engine: Engine, size: str, locale: str) -> None:
    assert snap_compare(kiosk_app(seeded_engine, locale=locale), terminal_size=SIZES[size], run_before=settle)


def test_kiosk_recent_activity_at_80x24(snap_compare: Any, seeded_engine: Engine) -> None:
    """The last panel of the rotation."""

    async def to_the_last_panel(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for _ in range(4):
            pilot.app.screen._rotate()  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(kiosk_app(seeded_engine), terminal_size=SIZES["80x24"], run_before=to_the_last_panel)


def test_kiosk_ansi_theme(snap_compare: Any, seeded_engine: Engine) -> None:
    async def use_ansi(pilot: Pilot[Any]) -> None:
        pilot.app.theme = "backoffice-ansi"
        await settle(pilot)

    assert snap_compare(kiosk_app(seeded_engine), terminal_size=SIZES["80x24"], run_before=use_ansi)


def test_kiosk_stale(snap_compare: Any, breakable_engine: tuple[Engine, dict[str, bool]]) -> None:  # noqa: F811
    """The database gone: the notice, and the figures greyed but kept."""
    engine, state = breakable_engine

    async def cut_off(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        state["down"] = True
        engine.dispose()
        cards = list(pilot.app.screen.query("DataCard"))
        for _ in range(200):
            if all(card.has_class("-stale") for card in cards):
                break
            await pilot.pause(0.05)
        await pilot.pause()

    app = kiosk_app(engine, timing=KioskTiming(refresh=0.2, retry=0.2, rotate=600))
    assert snap_compare(app, terminal_size=SIZES["120x36"], run_before=cut_off)


def test_leaving_kiosk_mode_asks(snap_compare: Any, seeded_engine: Engine) -> None:
    """Kiosk mode from the operator menu (not --kiosk): ctrl+k asks first."""

    async def press_ctrl_k(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("ctrl+k")
        await settle(pilot)

    app = BackofficeApp(settings=Settings(locale="en-US", operator="operator"), engine=seeded_engine, now=NOW)
    app.set_reactive(BackofficeApp.kiosk, True)  # as remembered from the operator menu
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=press_ctrl_k)

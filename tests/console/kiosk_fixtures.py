"""What the kiosk tests share: a kiosk app started as `--kiosk` on the fixed
clock, and the seeded database behind an engine that can be cut off."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, event

from console.app import BackofficeApp
from console.screens.kiosk import KioskTiming
from core.settings import Settings
from tests.factories import NOW


def kiosk_app(engine: Engine, *, locale: str = "en-US", timing: KioskTiming | None = None) -> BackofficeApp:
    """Started as `--kiosk` on a fixed clock."""
    return BackofficeApp(
        settings=Settings(locale=locale, operator="operator"), engine=engine, kiosk=True, now=NOW, kiosk_timing=timing
    )


def spaced(text: str) -> str:
    """Babel writes "12:00\u202fPM": compare with plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def breakable_engine(seeded_engine: Engine) -> Iterator[tuple[Engine, dict[str, bool]]]:
    """The seeded database on real PostgreSQL, through an engine whose new
    connections are refused while `state["down"]` is set."""
    state = {"down": False}
    engine = create_engine(seeded_engine.url)

    @event.listens_for(engine, "do_connect")
    def refuse(dialect: object, record: object, cargs: object, cparams: object) -> None:
        if state["down"]:
            raise psycopg.OperationalError("connection to server failed: Connection refused")

    yield engine, state
    engine.dispose()

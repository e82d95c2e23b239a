"""The header's replica state (docs/rules.md R162, R163) at fixed sizes, on the
lists' fixed platform, with the replica's answers fixed: nothing here needs a
standby (tests/replica/test_replica.py runs the same on a real one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from textual.pilot import Pilot
from textual.widgets import Static

from console import i18n
from console.app import BackofficeApp
from console.widgets import header
from console.widgets.header import AppHeader, replica_note
from core.settings import Settings
from db.engine import LAG_SHOWN_OVER_SECONDS, Engines, ReplicaLag
from tests.console.lists_data import Platform
from tests.console.lists_fixtures import (  # noqa: F401
    NARROW,
    WIDE,
    lists_database,
    lists_engine,
    plain,
    platform,
    quiet_dashboard,
    settled,
)
from tests.factories import NOW


class FixedReplica(Engines):
    """A replica `lag` seconds behind, or unreachable; reads go to the primary."""

    def __init__(self, primary: Engine, replica: Engine, lag: float | None) -> None:
        super().__init__(primary, replica)
        self.fixed_lag = lag
        self._down = lag is None

    def reads(self) -> Engine:
        return self.primary

    def lag(self) -> ReplicaLag | None:
        return None if self.fixed_lag is None else ReplicaLag(seconds=self.fixed_lag, bytes_behind=3_145_728)


@pytest.fixture
def make_app(lists_engine: Engine) -> Iterator[Callable[..., BackofficeApp]]:
    engines: list[Engines] = []

    def make(lag: float | None, locale: str = "en-US") -> BackofficeApp:
        primary, replica = create_engine(lists_engine.url), create_engine(lists_engine.url)
        engines.append(FixedReplica(primary, replica, lag))
        return BackofficeApp(
            settings=Settings(locale=locale, operator="operator"),
            engine=engines[-1].primary,
            engines=engines[-1],
            now=NOW,
        )

    yield make
    for pair in engines:
        pair.dispose()


async def accounts(pilot: Pilot[Any]) -> None:
    await settled(pilot)
    pilot.app.navigate("accounts")
    await settled(pilot)


def replica_text(app: BackofficeApp) -> str:
    shown = app.screen.query_one(AppHeader).query_one("#header-replica", Static)
    return plain(shown) if shown.display else ""


@pytest.mark.parametrize(
    ("lag", "down", "locale", "expected"),
    [
        (ReplicaLag(seconds=0.0, bytes_behind=0), False, "en-US", ""),
        (ReplicaLag(seconds=5.0, bytes_behind=512), False, "en-US", ""),
        (ReplicaLag(seconds=None, bytes_behind=512), False, "en-US", ""),
        (ReplicaLag(seconds=12.4, bytes_behind=512), False, "en-US", "Replica 12 sec behind"),
        (ReplicaLag(seconds=125.0, bytes_behind=512), False, "en-US", "Replica 2 min behind"),
        (ReplicaLag(seconds=12.0, bytes_behind=512), False, "da-DK", "Replika 12 sek. bagud"),
        (None, True, "en-US", "Replica unreachable"),
        (None, True, "da-DK", "Replika utilgængelig"),
    ],
)
def test_the_header_says_how_far_behind_the_replica_is_over_5_s(
    lag: ReplicaLag | None, down: bool, locale: str, expected: str
) -> None:
    i18n.set_locale(locale)
    try:
        assert replica_note(lag, down, LAG_SHOWN_OVER_SECONDS) == expected
    finally:
        i18n.set_locale("en-US")


async def test_the_header_loads_the_replica_s_state_in_a_worker_at_each_refresh(
    make_app: Callable[..., BackofficeApp], platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(header, "LAG_REFRESH_SECONDS", 0.2)
    app = make_app(12.0)
    async with app.run_test(size=WIDE) as pilot:
        await accounts(pilot)
        assert replica_text(app) == "Replica 12 sec behind"
        engines = app.engines
        assert isinstance(engines, FixedReplica)
        engines.fixed_lag = 3.0  # caught up: the next refresh hides it
        await pilot.pause(0.5)
        await settled(pilot)
        assert replica_text(app) == ""
        engines.fixed_lag = 7.0
        await pilot.pause(0.5)
        await settled(pilot)
        assert replica_text(app) == "Replica 7 sec behind"


async def test_without_a_replica_the_header_asks_nothing(lists_engine: Engine, platform: Platform) -> None:
    app = BackofficeApp(settings=Settings(operator="operator"), engine=lists_engine, now=NOW)
    async with app.run_test(size=WIDE) as pilot:
        await accounts(pilot)
        assert replica_text(app) == ""
        assert not [worker for worker in app.workers if worker.group == "replica-lag"]


def test_snapshot_replica_behind_at_80x24(
    snap_compare: Any, make_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    assert snap_compare(make_app(12.0), terminal_size=NARROW, run_before=accounts)


def test_snapshot_replica_unreachable(
    snap_compare: Any, make_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    assert snap_compare(make_app(None), terminal_size=WIDE, run_before=accounts)

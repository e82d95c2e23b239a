"""Fixtures of the list and detail screens' tests (import them into a test
module): the fixed platform of lists_data.py in a database with a fixed name
(the header shows it), apps on it, and a read-only login role.

    from tests.console.lists_fixtures import lists_engine, make_lists_app, platform, quiet_dashboard  # noqa: F401

(`quiet_dashboard` is autouse: importing it keeps the dashboard's cards from
loading behind the screens under test.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from rich.console import Console
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerCancelled

from console.app import BackofficeApp
from core.settings import Settings
from tests.console import lists_data
from tests.databases import cloned_database
from tests.factories import NOW

LISTS_DATABASE = "backoffice_console_lists"
WIDE = (130, 40)
NARROW = (80, 24)
# The debounce timers are 0 in tests (1 ms, conftest.no_debounce): one short pause
# lets a zero-second timer fire before `settled` waits for the workers.
DEBOUNCE = 0.02
READER_ROLE = "console_reader"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _admin_execute(server_url: str, *statements: str) -> None:
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


@pytest.fixture(scope="module")
def lists_database(pg_server_url: str, template_url: str) -> Iterator[tuple[str, lists_data.Platform]]:
    """The fixed platform, seeded once per test module; tests must not write
    to it (tests that write build their own database)."""
    with cloned_database(pg_server_url, template_url, LISTS_DATABASE) as url:
        engine = create_engine(url)
        platform = lists_data.seed(engine)
        engine.dispose()
        yield url, platform


@pytest.fixture(scope="module")
def lists_engine(lists_database: tuple[str, lists_data.Platform]) -> Iterator[Engine]:
    engine = create_engine(lists_database[0])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def platform(lists_database: tuple[str, lists_data.Platform]) -> lists_data.Platform:
    return lists_database[1]


@pytest.fixture(scope="module")
def reader_engine(pg_server_url: str, lists_database: tuple[str, lists_data.Platform]) -> Iterator[Engine]:
    """The same database, logged in as a role that is only a backoffice_reader."""
    _admin_execute(
        pg_server_url,
        f"DROP ROLE IF EXISTS {READER_ROLE}",
        f"CREATE ROLE {READER_ROLE} LOGIN IN ROLE backoffice_reader",
    )
    engine = create_engine(make_url(lists_database[0]).set(username=READER_ROLE, password=None))
    yield engine
    engine.dispose()
    _admin_execute(pg_server_url, f"DROP ROLE IF EXISTS {READER_ROLE}")


@pytest.fixture(autouse=True)
def quiet_dashboard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app starts on the dashboard; these tests look elsewhere, so its
    cards need not load (tests/console/test_dashboard.py covers them)."""
    monkeypatch.setattr("console.screens.dashboard.DashboardScreen.reload_all", lambda self: None)


def app_factory(engine: Engine) -> Callable[..., BackofficeApp]:
    def make(*, locale: str = "en-US", kiosk: bool = False, **settings: Any) -> BackofficeApp:
        return BackofficeApp(
            settings=Settings(locale=locale, operator="operator", **settings), engine=engine, kiosk=kiosk, now=NOW
        )

    return make


@pytest.fixture
def make_lists_app(lists_engine: Engine) -> Callable[..., BackofficeApp]:
    return app_factory(lists_engine)


async def settled(pilot: Pilot[Any], seconds: float = 0.0) -> None:
    """Let debounce timers fire (`seconds`), then wait for every worker and
    the messages it posted (a handled message may start more work)."""
    if seconds:
        await pilot.pause(seconds)
    for _ in range(50):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker replaced by a newer one
            pass
        await pilot.pause()
        if not any(worker.is_running for worker in pilot.app.workers):
            await pilot.pause()
            return
    raise AssertionError("workers never settled")


async def eventually(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Until `condition` holds: for what arrives as a message after the
    workers are done (a notification, say), however loaded the machine."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition(), "not within the timeout"


def plain(widget: Static, width: int = 200) -> str:
    """The text a Static shows, without styles."""
    console = Console(width=width, color_system=None, force_terminal=False)
    with console.capture() as capture:
        console.print(widget.content)
    return capture.get().rstrip("\n")

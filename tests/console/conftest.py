"""Console tests: a fixed clock, a fixed time zone, preferences in a temp dir,
and a database with a fixed name (the header shows it, snapshots must not change)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

from console.app import BackofficeApp
from console.widgets.account_pane import AccountPane
from console.widgets.search_box import SearchBox
from core.settings import Settings
from tests.console import data
from tests.databases import cloned_database
from tests.factories import NOW

os.environ["TZ"] = "UTC"
time.tzset()

SEEDED_DATABASE = "backoffice_console"
NO_DELAY = 0.001  # Textual's timers divide by their interval: not 0
FRESH_DATABASE = "backoffice_console_fresh"


@pytest.fixture(autouse=True)
def no_debounce(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches and the side pane load at once, so tests wait for no timer;
    a test marked `debounce` keeps the real delays (it tests them)."""
    if request.node.get_closest_marker("debounce") is None:
        monkeypatch.setattr(SearchBox, "DEBOUNCE_SECONDS", NO_DELAY)
        monkeypatch.setattr(AccountPane, "DEBOUNCE_SECONDS", NO_DELAY)


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "config"
    monkeypatch.setenv("BACKOFFICE_CONFIG_DIR", str(directory))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return directory


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def console_database_url(pg_server_url: str, template_url: str) -> Iterator[str]:
    """An empty database of the test's own (for tests that write)."""
    with cloned_database(pg_server_url, template_url, FRESH_DATABASE) as url:
        yield url


@pytest.fixture
def console_engine(console_database_url: str) -> Iterator[Engine]:
    engine = create_engine(console_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def seeded_engine(pg_server_url: str, template_url: str) -> Iterator[Engine]:
    """The fixed platform of tests/console/data.py, shared by the read-only
    tests of a module (seeded once; tests must not write to it)."""
    with cloned_database(pg_server_url, template_url, SEEDED_DATABASE) as url:
        engine = create_engine(url)
        data.seed(engine)
        yield engine
        engine.dispose()


def _app_factory(engine: Engine) -> Callable[..., BackofficeApp]:
    def make(*, locale: str = "en-US", kiosk: bool = False, **settings: Any) -> BackofficeApp:
        return BackofficeApp(
            settings=Settings(locale=locale, operator="operator", **settings),
            engine=engine,
            kiosk=kiosk,
            now=NOW,
        )

    return make


@pytest.fixture
def make_app(console_engine: Engine) -> Callable[..., BackofficeApp]:
    """Apps on an empty database of their own."""
    return _app_factory(console_engine)


@pytest.fixture
def make_seeded_app(seeded_engine: Engine) -> Callable[..., BackofficeApp]:
    """Apps on the shared fixed platform."""
    return _app_factory(seeded_engine)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker has finished and its messages are handled
    (a handled message may start more work, so loop until quiet)."""
    for _ in range(50):
        try:
            await pilot.app.workers.wait_for_complete()
        except (WorkerCancelled, WorkerFailed):
            pass  # a load superseded by a newer one, or failed: the screen shows the outcome
        await pilot.pause()
        if not any(worker.is_running for worker in pilot.app.workers):
            await pilot.pause()
            return
    raise AssertionError("workers never settled")

"""Lists and detail screens recover by themselves when the database comes
back: a failed load shows why and when it is tried again, is retried on a
timer while the screen is shown, and stops being retried once it loads or
the screen is left. The outage is real: the app logs in as a role whose
CONNECT is revoked and whose connections are terminated."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Static, TabbedContent

from console.app import BackofficeApp
from console.screens.account import AccountScreen
from console.screens.detail_screen import DetailScreen
from console.widgets.account_pane import AccountPane
from console.widgets.paged_list import PagedList
from tests.console import lists_data
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    WIDE,
    app_factory,
    lists_database,
    plain,
    quiet_dashboard,
    settled,
)

RETRY = 0.2
ROLE = "console_outage"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass
class Outage:
    """The lists database as one role sees it, and a switch to cut it off."""

    engine: Engine
    server_url: str
    database: str

    def _admin(self, *statements: str) -> None:
        with psycopg.connect(_libpq(self.server_url), autocommit=True) as admin:
            for statement in statements:
                admin.execute(statement)

    def down(self) -> None:
        self._admin(
            f'REVOKE CONNECT ON DATABASE "{self.database}" FROM PUBLIC',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'",
        )

    def up(self) -> None:
        self._admin(f'GRANT CONNECT ON DATABASE "{self.database}" TO PUBLIC')


@pytest.fixture
def outage(pg_server_url: str, lists_database: tuple[str, lists_data.Platform]) -> Iterator[Outage]:
    url = make_url(lists_database[0])
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {ROLE}")
        admin.execute(f"CREATE ROLE {ROLE} LOGIN IN ROLE backoffice_reader")
    engine = create_engine(url.set(username=ROLE, password=None))
    switch = Outage(engine, pg_server_url, str(url.database))
    yield switch
    switch.up()
    engine.dispose()
    switch._admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'", f"DROP ROLE {ROLE}"
    )


@pytest.fixture
def make_app(outage: Outage, monkeypatch: pytest.MonkeyPatch) -> Callable[..., BackofficeApp]:
    monkeypatch.setattr(PagedList, "RETRY_SECONDS", RETRY)
    monkeypatch.setattr(DetailScreen, "RETRY_SECONDS", RETRY)
    return app_factory(outage.engine)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for `condition` (a screen still composing does not meet it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except NoMatches:
            pass
        assert time.monotonic() < deadline, "the condition never held"
        await pilot.pause(0.05)


def shows(screen: DetailScreen[Any], part: str) -> bool:
    return screen.query_one(f"#{screen.ID}-switcher", ContentSwitcher).current == f"{screen.ID}-{part}"


def status(paged: PagedList[Any, Any]) -> str:
    return plain(paged.query_one(".list-status", Static))


async def open_accounts(pilot: Pilot[Any]) -> PagedList[Any, Any]:
    await settled(pilot)
    await pilot.press("a")
    await settled(pilot, DEBOUNCE)
    paged = pilot.app.screen.query_one(PagedList)
    assert paged.state == "data"
    return paged


async def test_the_accounts_list_retries_until_the_database_is_back(
    make_app: Callable[..., BackofficeApp], outage: Outage
) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        paged = await open_accounts(pilot)
        names = [row.name for row in paged.result.items]
        outage.down()
        paged.reload()
        await until(pilot, lambda: paged.state == "error")
        assert plain(paged.query_one("#list-message", Static)) == "Could not load: database unreachable"
        assert status(paged) in ("Retrying in 0.2 s.", "Loading…")
        tries = paged._request
        await until(pilot, lambda: paged._request >= tries + 2)  # no key pressed
        assert paged.state == "error"

        outage.up()
        await until(pilot, lambda: paged.state == "data")
        assert [row.name for row in paged.result.items] == names
        assert status(paged).startswith("Page 1 of 1")
        settled_tries = paged._request
        await pilot.pause(RETRY * 4)
        assert paged._request == settled_tries  # loaded: no more retries


async def test_a_list_left_behind_stops_retrying_and_resumes_when_shown(
    make_app: Callable[..., BackofficeApp], outage: Outage
) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        paged = await open_accounts(pilot)
        outage.down()
        paged.reload()
        await until(pilot, lambda: paged.state == "error")
        await pilot.press("d")  # the dashboard (its cards are quiet in these tests)
        await settled(pilot)
        tries = paged._request
        await pilot.pause(RETRY * 5)
        assert paged._request == tries

        outage.up()
        await pilot.press("a")
        await until(pilot, lambda: paged.state == "data")
        assert app.screen.query_one(PagedList) is paged


@pytest.mark.parametrize("locale", ["en-US", "da-DK"])
async def test_an_account_and_its_tab_retry_until_the_database_is_back(
    make_app: Callable[..., BackofficeApp], outage: Outage, lists_database: tuple[str, lists_data.Platform], locale: str
) -> None:
    platform = lists_database[1]
    app = make_app(locale=locale)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        outage.down()
        app.navigate("account", tenant_id=str(platform.nordlys.id))
        screen = app.screen
        assert isinstance(screen, AccountScreen)
        await until(pilot, lambda: shows(screen, "error"))
        message = plain(screen.query_one("#account-error", Static))
        expected = {
            "en-US": "Could not load: database unreachable\nRetrying in 0.2 s.",
            "da-DK": "Kunne ikke indlæse: databasen kan ikke nås\nPrøver igen om 0,2 s.",
        }
        assert message == expected[locale]

        outage.up()
        await until(pilot, lambda: shows(screen, "view"))
        assert screen.loaded is not None
        await settled(pilot)

        # A tab whose first load meets an outage retries too.
        outage.down()
        screen.query_one(TabbedContent).active = "users"
        users = screen.query_one("#account-users", PagedList)
        await until(pilot, lambda: users.state == "error")
        outage.up()
        await until(pilot, lambda: users.state == "data")
        assert users.result is not None and users.result.total > 0


async def test_an_unknown_account_is_an_answer_not_retried(
    make_app: Callable[..., BackofficeApp], outage: Outage
) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("account", tenant_id="42")
        screen = app.screen
        assert isinstance(screen, AccountScreen)
        await until(pilot, lambda: shows(screen, "error"))
        tries = screen._request
        await pilot.pause(RETRY * 4)
        assert screen._request == tries
        assert plain(screen.query_one("#account-error", Static)) == "Could not load: Account 42 was not found."


async def test_the_side_pane_retries_by_itself_while_the_list_stands(
    make_app: Callable[..., BackofficeApp], outage: Outage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the pane's summary meets the outage: it says so, tries again on
    its own timer and shows the account once the database is back, without
    a cursor move."""
    monkeypatch.setattr(AccountPane, "RETRY_SECONDS", RETRY)
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        paged = await open_accounts(pilot)
        pane = app.screen.query_one(AccountPane)
        await until(pilot, lambda: pane.summary is not None)
        outage.down()
        await pilot.press("j")  # the next account: its summary meets the outage
        body = lambda: plain(pane.query_one("#pane-body", Static))  # noqa: E731
        await until(pilot, lambda: "database unreachable" in body())
        assert body() == "Could not load: database unreachable · Retrying in 0.2 s."
        assert paged.state == "data" and pane.summary is None
        outage.up()
        await until(pilot, lambda: pane.summary is not None)  # no key pressed
        assert pane.summary.id == pane.tenant_id

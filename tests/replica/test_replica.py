"""Reads on a real streaming replica (docs/rules.md R160-R163): the console's
screens and the reports read the hot standby, an admin action's result shows
at once, a stopped replica falls back to the primary with one notice, and the
header shows a replica that is behind."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from textual.pilot import Pilot
from textual.widgets import Static

from console.app import BackofficeApp
from console.screens.account import AccountScreen
from console.widgets.header import AppHeader
from core.settings import Settings
from db.engine import Engines, make_engine
from db.enums import SubscriptionPlan
from stripe_sync import archive, sync
from tests import factories
from tests.cli_run import run_cli_captured
from tests.console.lists_fixtures import DEBOUNCE, WIDE, plain, settled
from tests.factories import NOW
from tests.replica.conftest import Replication
from tests.stripe_sync.fake_stripe import CUSTOMER, FakeStripe


@pytest.fixture(autouse=True)
def quiet_dashboard(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app starts on the dashboard; these tests look at accounts."""
    monkeypatch.setattr("console.screens.dashboard.DashboardScreen.reload_all", lambda self: None)


@pytest.fixture
def engines(replica: Replication) -> Iterator[Engines]:
    engines = Engines(make_engine(replica.primary_url), make_engine(replica.replica_url, connect_timeout=3))
    yield engines
    engines.dispose()


@pytest.fixture
def writer(replica: Replication) -> Iterator[Engine]:
    """Writes on the primary that are not the console's own."""
    engine = create_engine(replica.primary_url)
    yield engine
    engine.dispose()


class ReadCount:
    """How many read-only transactions (the screens' loads) each engine served."""

    def __init__(self, engines: Engines) -> None:
        self.primary = self.replica = 0
        assert engines.replica is not None
        for which, engine in (("primary", engines.primary), ("replica", engines.replica)):
            event.listen(engine, "before_cursor_execute", self._counter(which))

    def _counter(self, which: str) -> Any:
        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement == "SET TRANSACTION READ ONLY":
                setattr(self, which, getattr(self, which) + 1)

        return count


def make_app(engines: Engines, **settings: Any) -> BackofficeApp:
    return BackofficeApp(
        settings=Settings(locale="en-US", operator="operator", **settings),
        engine=engines.primary,
        engines=engines,
        now=NOW,
    )


def new_tenant(engine: Engine, name: str, **columns: Any) -> factories.TenantRef:
    with engine.begin() as conn:
        return factories.tenant(conn, name=name, created_at=NOW - timedelta(days=1), **columns)


async def open_account(pilot: Pilot[Any], tenant: factories.TenantRef) -> AccountScreen:
    pilot.app.navigate("account", tenant_id=str(tenant.id))
    await settled(pilot, DEBOUNCE)
    screen = pilot.app.screen
    assert isinstance(screen, AccountScreen)
    return screen


def header_replica(app: BackofficeApp) -> Static:
    return app.screen.query_one(AppHeader).query_one("#header-replica", Static)


async def test_a_row_written_on_the_primary_shows_on_the_replica_s_screens_once_replayed(
    replica: Replication, engines: Engines, writer: Engine
) -> None:
    reads = ReadCount(engines)
    replica.pause_replay()
    tenant = new_tenant(writer, "Nordlys Replika ApS")
    app = make_app(engines)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        screen = await open_account(pilot, tenant)
        assert screen.view is None  # the replica has not replayed it: not there yet
        assert "not found" in plain(screen.query_one("#account-error", Static)).lower()
        replica.resume_replay()
        replica.wait_for_replay()
        await pilot.press("escape")
        screen = await open_account(pilot, tenant)
        assert screen.view is not None and screen.view.detail.name == "Nordlys Replika ApS"
    assert reads.replica > 0 and reads.primary == 0  # every load read the replica


async def test_an_admin_sync_shows_its_result_at_once_on_a_console_reading_the_replica(
    replica: Replication, engines: Engines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R161: the sync commits on the primary; the screen's next loads wait for
    the replica to replay it, and read the primary when it has not in time
    (here it cannot: its replay is paused)."""
    stripe = FakeStripe()
    for module in (sync, archive):
        monkeypatch.setattr(module, "stripe_client_for", lambda settings: stripe)
    engines.replay_wait_seconds = 0.5
    kunde = new_tenant(engines.primary, "Kunde ApS", stripe_customer_id=CUSTOMER)
    replica.wait_for_replay()
    app = make_app(engines, stripe_api_key="sk_test_console")
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        screen = await open_account(pilot, kunde)
        assert screen.view is not None and screen.view.detail.plan is SubscriptionPlan.Basis
        replica.pause_replay()
        await pilot.press("s")
        await settled(pilot)
        await pilot.click("#confirm")
        await settled(pilot, 0.2)
        await pilot.press("escape")  # the result dialog
        await settled(pilot, DEBOUNCE)
        assert app.screen is screen
        # The plan Stripe reports and the billing events the sync appended.
        assert screen.view.detail.plan is SubscriptionPlan.Standard
        assert screen.query_one("#events-preview").result.total == 2
    with replica.standby() as standby:
        plan = standby.execute("SELECT plan FROM tenants WHERE id = %s", (kunde.id,)).fetchone()
    assert plan == ("Basis",)  # the replica has not replayed the sync: the screen read the primary


def test_after_a_write_the_next_read_waits_for_the_replica_to_replay_it(replica: Replication, engines: Engines) -> None:
    """R161 on a replica that replays: the read goes to the replica, after it
    has replayed the write."""
    reads = ReadCount(engines)
    tenant = new_tenant(engines.primary, "Skrevet ApS")
    with engines.reading() as conn:
        name = conn.execute(text("SELECT name FROM tenants WHERE id = :id"), {"id": tenant.id}).scalar_one()
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
    assert name == "Skrevet ApS" and reads.replica == 1 and reads.primary == 0
    assert engines._pending_write() is None  # replayed: later reads do not wait


async def test_a_stopped_replica_falls_back_to_the_primary_with_one_notice(
    replica: Replication, engines: Engines, writer: Engine
) -> None:
    """R162: said once, shown in the header, tried again every recheck."""
    engines.recheck_seconds = 0.5
    tenant = new_tenant(writer, "Fyrtårn ApS")
    replica.wait_for_replay()
    app = make_app(engines)
    said: list[str] = []
    notify = app.notify
    app.notify = lambda message, **options: (said.append(message), notify(message, **options))[1]  # type: ignore[method-assign]
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        assert not header_replica(app).display and not said
        replica.stop(replica.standby_dir)
        # The account's loads (its detail, its lists) all read the primary; one notice.
        screen = await open_account(pilot, tenant)
        assert screen.view is not None and screen.view.detail.name == "Fyrtårn ApS"
        await pilot.press("escape")
        await settled(pilot)
        assert said == [
            "The replica does not answer: reading from the primary database, trying the replica again every 1 s."
        ]
        assert engines.replica_down
        assert plain(header_replica(app)) == "Replica unreachable" and header_replica(app).display

        replica.start(replica.standby_dir)
        await pilot.pause(0.6)
        screen = await open_account(pilot, tenant)
        await settled(pilot)
        assert screen.view is not None and not engines.replica_down
        assert said[1:] == ["The replica answers again: reading from it."]
        assert not header_replica(app).display


async def test_the_header_shows_a_replica_that_is_behind(
    replica: Replication, engines: Engines, writer: Engine
) -> None:
    """R163: shown over `lag_shown_over` (5 s; 1 s here to keep the test short)."""
    new_tenant(writer, "Første ApS")
    replica.wait_for_replay()
    replica.pause_replay()
    new_tenant(writer, "Anden ApS")
    time.sleep(1.2)
    engines.lag_shown_over = 1.0
    app = make_app(engines)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        shown = header_replica(app)
        assert shown.display
        text = plain(shown)
        assert text.startswith("Replica ") and text.endswith(" sec behind")
        assert int(text.split()[1]) >= 1
        lag = engines.lag()
        assert lag is not None and lag.bytes_behind > 0
        engines.lag_shown_over = 60.0
        app.screen.query_one(AppHeader).load_replica_state()
        await settled(pilot)
        assert not header_replica(app).display


def test_a_report_with_read_database_url_reads_the_replica(
    replica: Replication, writer: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def total_tenants(*options: str) -> int:
        code, out, err = run_cli_captured(
            ["--database-url", replica.primary_url, *options, "report", "kpis", "--json"], monkeypatch, capsys
        )
        assert code == 0, err
        return int(json.loads(out)["total_tenants"])

    replica.wait_for_replay()
    before = total_tenants()
    replica.pause_replay()
    new_tenant(writer, "Rapport ApS")
    assert total_tenants() == before + 1  # the primary
    assert total_tenants("--read-database-url", replica.replica_url) == before  # the replica, paused
    code, out, err = run_cli_captured(
        ["--database-url", replica.primary_url, "report", "kpis", "--json"],
        monkeypatch,
        capsys,
        BACKOFFICE_READ_DATABASE_URL=replica.replica_url,
    )
    assert code == 0 and int(json.loads(out)["total_tenants"]) == before
    replica.resume_replay()
    replica.wait_for_replay()
    assert total_tenants("--read-database-url", replica.replica_url) == before + 1

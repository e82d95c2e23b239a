"""The audit trail (operator_actions, migration 0010): every admin action,
from the command line, the console and SSH, leaves exactly one row with the
right operator and path, a failed one too; nobody may change or delete a
row; `backoffice audit` and the account's Activity tab show them."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, select, text, update
from sqlalchemy.engine import make_url
from textual.widgets import Input

from console.app import BackofficeApp
from console.screens.account import AccountScreen
from console.screens.account_tabs import AccountActivityList
from console.widgets.dialogs import ConfirmDialog
from core.audit import Action, ActionPath, Actor, Outcome, list_actions
from core.operator_roles import OperatorRole, role_name
from core.paging import PageRequest
from core.settings import Settings
from db.models import OperatorAction, Subscription
from stripe_sync import archive, drift_worker, sync
from tests import factories
from tests.cli_run import run_cli_captured
from tests.console.lists_fixtures import quiet_dashboard, settled  # noqa: F401
from tests.factories import NOW
from tests.ssh.support import (
    LOADED,
    apply,
    connect,
    libpq,
    make_operator,
    open_console,
    running_server,
    write_operators,
)
from tests.stripe_sync.fake_stripe import CUSTOMER, FakeStripe

DRIFT = [{"Kind": "MissingEvent", "Severity": "Warning"}, {"Kind": "PriceMismatch", "Severity": "Critical"}]


def customer_tenant(
    engine: Engine, *, name: str = "Kunde ApS", drift: bool = False, customer: str = CUSTOMER
) -> factories.TenantRef:
    with engine.begin() as conn:
        tenant = factories.tenant(conn, name=name, plan="Basis", stripe_customer_id=customer)
        if drift:
            set_drift(conn, tenant)
    return tenant


def set_drift(conn: Any, tenant: factories.TenantRef) -> None:
    conn.execute(
        update(Subscription)
        .where(Subscription.id == tenant.subscription_id)
        .values(has_drift_detected=True, drift_discrepancies=DRIFT)
    )


def actions(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(OperatorAction.__table__).order_by(OperatorAction.id)))


@pytest.fixture
def stripe(monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    fake = FakeStripe()
    for module in (sync, archive, drift_worker):
        monkeypatch.setattr(module, "stripe_client_for", lambda settings: fake)
    monkeypatch.setattr("console.cli.stripe_cli.client_from_settings", lambda settings: fake)
    return fake


# -- the command line ---------------------------------------------------------------


def test_every_admin_command_leaves_exactly_one_row(
    engine: Engine, stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = customer_tenant(engine)
    base = ["--database-url", engine.url.render_as_string(hide_password=False), "--operator", "olga"]
    key = {"STRIPE_API_KEY": "sk_test_audit"}

    def one(args: list[str], expected: tuple[str, int | None, str], exit_code: int = 0, **env: str) -> Any:
        before = len(actions(engine))
        code, _, err = run_cli_captured([*base, *args], monkeypatch, capsys, **env)
        assert code == exit_code, err
        rows = actions(engine)
        assert len(rows) == before + 1, (args, rows[before:])
        row = rows[-1]
        assert (row.action, row.tenant_id, row.outcome) == expected
        assert (row.operator, row.path, row.db_role) == ("olga", "cli", make_url(base[1]).username)
        return row

    synced = one(["sync", str(tenant.id)], ("sync", tenant.id, "succeeded"), **key)
    assert synced.details["billing_events_appended"] == 3
    every = one(["sync", "--all"], ("sync-all", None, "succeeded"), **key)
    assert (every.details["synced"], every.details["failed"]) == (1, 0)
    one(["drift", "check", "--staleness", "0"], ("drift-check", None, "succeeded"), **key)
    one(["stripe", "poll"], ("poll", None, "succeeded"), **key)
    with engine.begin() as conn:
        set_drift(conn, tenant)
    acked = one(["drift", "ack", str(tenant.id)], ("drift-ack", tenant.id, "succeeded"))
    assert acked.details == {"discrepancy_count": 2}
    failed = one(["drift", "ack", str(tenant.id)], ("drift-ack", tenant.id, "failed"), exit_code=1)
    assert failed.details == {"error": "Subscription has no drift to acknowledge."}
    replay = one(
        ["stripe", "replay-archive", str(tenant.id)], ("replay-archive", tenant.id, "failed"), exit_code=1, **key
    )
    assert replay.details["error"].startswith("No archived events")
    # Refused for want of a Stripe key: recorded as failed.
    before = len(actions(engine))
    assert run_cli_captured([*base, "sync", "--all"], monkeypatch, capsys)[0] == 4
    assert len(actions(engine)) == before + 1 and actions(engine)[-1].outcome == "failed"


def test_demo_seed_and_operators_apply_are_recorded(
    engine: Engine,
    role_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ["--database-url", engine.url.render_as_string(hide_password=False), "--operator", "olga"]
    code, _, err = run_cli_captured(
        [*base, "demo", "seed", "--tenants", "3", "--history-days", "90"], monkeypatch, capsys
    )
    assert code == 0, err
    (seeded,) = actions(engine)
    assert (seeded.action, seeded.outcome, seeded.details["tenants"], seeded.details["rows"]["tenants"]) == (
        "demo-seed",
        "succeeded",
        3,
        3,
    )
    alice, bob = make_operator("alice", OperatorRole.admin), make_operator("bob", OperatorRole.reader)
    path = tmp_path / "operators.toml"
    write_operators(path, [alice, bob])
    code, out, err = run_cli_captured(
        [*base, "operators", "apply", "--operators", str(path), "--json"], monkeypatch, capsys
    )
    assert code == 0, err
    assert json.loads(out)["created"] == [role_name("alice"), role_name("bob")]
    write_operators(path, [bob])
    code, out, err = run_cli_captured(
        [*base, "operators", "apply", "--operators", str(path), "--json"], monkeypatch, capsys
    )
    assert (code, json.loads(out)["dropped"], json.loads(out)["unchanged"]) == (
        0,
        [role_name("alice")],
        [role_name("bob")],
    )
    rows = actions(engine)
    assert [(row.action, row.outcome) for row in rows[1:]] == [("operators-apply", "succeeded")] * 2
    assert rows[-1].details["dropped"] == [role_name("alice")]
    with psycopg.connect(libpq(engine.url.render_as_string(hide_password=False))) as conn:
        memberships = conn.execute(
            "SELECT r.rolname, g.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member"
            " JOIN pg_roles g ON g.oid = m.roleid WHERE left(r.rolname, length(%s)) = %s",
            (role_prefix, role_prefix),
        ).fetchall()
        assert memberships == [(role_name("bob"), "backoffice_reader")]


def test_the_audit_command_pages_newest_first(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = customer_tenant(engine)
    actor = Actor("olga", ActionPath.cli)
    with engine.begin() as conn:
        for hours, action in ((3, "sync"), (2, "drift-ack"), (1, "replay-archive")):
            conn.execute(
                text(
                    "INSERT INTO operator_actions (at, operator, path, action, tenant_id, outcome)"
                    " VALUES (:at, :operator, 'cli', :action, :tenant, 'succeeded')"
                ),
                {"at": NOW - timedelta(hours=hours), "operator": actor.operator, "action": action, "tenant": tenant.id},
            )
        conn.execute(
            text(
                "INSERT INTO operator_actions (at, operator, path, action, outcome) VALUES (:at, 'pia', 'ssh', 'poll', 'failed')"
            ),
            {"at": NOW},
        )
    url = engine.url.render_as_string(hide_password=False)
    code, out, err = run_cli_captured(
        ["--database-url", url, "audit", "--tenant", str(tenant.id), "--json", "--page-size", "2"], monkeypatch, capsys
    )
    assert code == 0, err
    page = json.loads(out)
    assert (page["total"], page["page"], page["page_size"]) == (3, 1, 2)
    assert [item["action"] for item in page["items"]] == ["replay-archive", "drift-ack"]
    first = page["items"][0]
    assert first["tenant_id"] == str(tenant.id) and isinstance(first["id"], str) and first["tenant_name"] == "Kunde ApS"
    assert first["at"] == (NOW - timedelta(hours=1)).isoformat()
    code, out, _ = run_cli_captured(
        ["--database-url", url, "audit", "--operator", "pia", "--since", NOW.date().isoformat(), "--json"],
        monkeypatch,
        capsys,
    )
    assert [item["operator"] for item in json.loads(out)["items"]] == ["pia"]
    code, out, _ = run_cli_captured(["--database-url", url, "audit"], monkeypatch, capsys)
    assert code == 0 and "Kunde ApS" in out and "Page 1 of 1 (4 actions)" in out
    assert run_cli_captured(["--database-url", url, "audit", "--since", "yesterday"], monkeypatch, capsys)[0] == 2


# -- append-only ---------------------------------------------------------------------


@pytest.fixture
def admin_login(database_url: str) -> Iterator[str]:
    """A LOGIN role in backoffice_admin (roles are cluster-wide: a unique name, dropped after)."""
    name = f"audit_admin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN IN ROLE backoffice_admin")
    yield libpq(make_url(database_url).set(username=name, password=None).render_as_string(hide_password=False))
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


def test_no_role_may_change_or_delete_a_row(database_url: str, admin_login: str) -> None:
    with psycopg.connect(admin_login, autocommit=True) as admin:
        admin.execute(
            "INSERT INTO operator_actions (operator, path, action, outcome) VALUES ('olga', 'cli', 'sync', 'succeeded')"
        )
        for statement in (
            "UPDATE operator_actions SET outcome = 'failed'",
            "DELETE FROM operator_actions",
            "TRUNCATE operator_actions",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                admin.execute(statement)
        assert admin.execute("SELECT db_role FROM operator_actions").fetchall() == [(make_url(admin_login).username,)]
    # Not even the owner, a superuser: the trigger refuses what privileges allow.
    with psycopg.connect(libpq(database_url), autocommit=True) as owner:
        for statement in (
            "UPDATE operator_actions SET operator = 'x'",
            "DELETE FROM operator_actions",
            "TRUNCATE operator_actions",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                owner.execute(statement)
        assert owner.execute("SELECT count(*) FROM operator_actions").fetchone() == (1,)


# -- the console --------------------------------------------------------------------


def app_for(engine: Engine, **settings: Any) -> BackofficeApp:
    return BackofficeApp(
        settings=Settings(locale="en-US", operator="carla", stripe_api_key="sk_test_console", **settings),
        engine=engine,
        now=NOW,
    )


async def open_account(pilot: Any, tenant: factories.TenantRef, tab: str = "overview") -> AccountScreen:
    await settled(pilot)
    pilot.app.navigate("account", tenant_id=str(tenant.id), tab=tab)
    await settled(pilot, 0.45)
    screen = pilot.app.screen
    assert isinstance(screen, AccountScreen) and screen.view is not None
    return screen


@pytest.mark.parametrize(("ssh", "path"), [(False, "console"), (True, "ssh")])
async def test_the_console_s_actions_leave_one_row_each(
    engine: Engine, stripe: FakeStripe, ssh: bool, path: str
) -> None:
    tenant = customer_tenant(engine)
    for key, expected in (
        ("s", ("sync", "succeeded")),
        ("A", ("drift-ack", "succeeded")),
        ("R", ("replay-archive", "failed")),
    ):
        if key == "A":
            with engine.begin() as conn:
                set_drift(conn, tenant)
        before = len(actions(engine))
        app = app_for(engine, ssh=ssh)
        async with app.run_test(size=(130, 40)) as pilot:
            await open_account(pilot, tenant)
            await pilot.press(key)
            await settled(pilot, 0.2)
            # Cancel has the focus; the replay also wants the account's id typed.
            dialog = pilot.app.screen
            assert isinstance(dialog, ConfirmDialog), key
            if dialog.require:
                dialog.query_one(Input).value = str(tenant.id)
                await settled(pilot, 0.2)
            await pilot.click("#confirm")
            await settled(pilot, 0.2)
        rows = actions(engine)
        assert len(rows) == before + 1, key
        assert (rows[-1].action, rows[-1].outcome) == expected
        assert (rows[-1].operator, rows[-1].path, rows[-1].tenant_id) == ("carla", path, tenant.id)


async def test_the_activity_tab_lists_the_account_s_actions(engine: Engine) -> None:
    tenant = customer_tenant(engine)
    other = customer_tenant(engine, name="Andet ApS", customer="cus_other")
    with engine.begin() as conn:
        Actor("carla", ActionPath.console).record(
            conn, "sync", tenant_id=tenant.id, details={"billing_events_appended": 3, "drift_discrepancy_count": 0}
        )
        Actor("alice", ActionPath.ssh).record(conn, "drift-ack", tenant_id=tenant.id, details={"discrepancy_count": 2})
        Actor("olga", ActionPath.cli).record(conn, "sync", tenant_id=other.id)
    app = app_for(engine)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_account(pilot, tenant, tab="activity")
        listed = screen.query_one(AccountActivityList)
        await settled(pilot)
        assert listed.result is not None and listed.result.total == 2
        assert [item.operator for item in listed.result.items] == ["alice", "carla"]
        cells = [str(cell) for cell in listed.cells(listed.result.items[0])]
        assert (
            cells[1:5] == ["alice", "Acknowledge drift", "SSH", "Succeeded"] and cells[5] == "2 finding(s) acknowledged"
        )
    with engine.connect() as conn:
        assert list_actions(conn, tenant_id=other.id, page=PageRequest(1, 10)).total == 1


# -- over SSH -----------------------------------------------------------------------------


@pytest.mark.slow
async def test_an_acknowledgement_over_ssh_is_the_operator_s_own(
    database_url: str, role_prefix: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    tenant = customer_tenant(engine, name="Driftig ApS", drift=True)
    alice = make_operator("alice", OperatorRole.admin)
    path = tmp_path / "operators.toml"
    write_operators(path, [alice])
    apply(engine, [alice])
    try:
        async with running_server(database_url, path, tmp_path) as server:
            async with await connect(server, alice.key) as conn:
                channel, screen = await open_console(conn, size=(130, 40))
                await screen.wait_for(LOADED["en-US"])
                await screen.wait_for(" Admin ")
                mark = screen.mark()
                channel.write(b"a")
                await screen.wait_for("Driftig ApS", after=mark)
                await asyncio.sleep(0.5)  # the first row is highlighted
                mark = screen.mark()
                channel.write(b"A")
                await screen.wait_for("Acknowledge billing drift of Driftig ApS?", after=mark)
                channel.write(b"\t\r")  # Cancel has the focus: tab to Acknowledge, then enter
                for _ in range(300):
                    if actions(engine):
                        break
                    await asyncio.sleep(0.05)
        (row,) = actions(engine)
        assert (row.operator, row.path, row.db_role, row.action, row.tenant_id, row.outcome) == (
            "alice",
            "ssh",
            role_name("alice"),
            "drift-ack",
            tenant.id,
            "succeeded",
        )
        with engine.connect() as conn:
            acknowledged_by = conn.execute(text("SELECT acknowledged_by FROM billing_drift_checks")).scalars().all()
            flag = conn.execute(
                select(Subscription.has_drift_detected).where(Subscription.id == tenant.subscription_id)
            ).scalar()
        assert flag is False and all(who == "alice" for who in acknowledged_by)
    finally:
        engine.dispose()


@pytest.mark.parametrize("locale", ["en-US", "da-DK"])
def test_every_action_path_and_outcome_has_a_label(locale: str) -> None:
    from console import i18n

    catalog = i18n.load_catalog(locale)
    for prefix, enum in (("activity.action", Action), ("activity.path", ActionPath), ("activity.outcome", Outcome)):
        for member in enum:
            assert f"{prefix}.{member.name}" in catalog or f"{prefix}.{member.value}" in catalog, (locale, member)

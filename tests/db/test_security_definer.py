"""SECURITY DEFINER functions run as their owner (a superuser here), so a role
that can make them run must not be able to make them run its own code."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from core.money import REVENUE_TRANSACTION_SQL
from db import migrate

PINNED_SEARCH_PATH = "search_path=pg_catalog, public, pg_temp"

# Runs as whoever fires it: inside a SECURITY DEFINER function that is the
# function's owner, so it could make the connected role a superuser.
ESCALATE_SQL = """
CREATE FUNCTION pg_temp.escalate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pg_temp.attack_log VALUES (current_user);
    EXECUTE format('ALTER ROLE %I SUPERUSER', session_user);
    RETURN NULL;
END
$$
"""

TENANT_SQL = (
    "INSERT INTO tenants (id, created_at, name, state, plan) VALUES (990001, now(), 'Shadow ApS', 'Active', 'Standard')"
)
TRANSACTION = (
    '[{"Id": "in_1", "Status": "Succeeded", "Date": "2026-01-01T00:00:00Z", "Amount": 186.25,'
    ' "AmountExcludingTax": 149.00, "TaxAmount": 37.25, "InvoiceTotal": 186.25, "AmountFromCredit": 0,'
    ' "Currency": "DKK", "Plan": "Standard"}]'
)

# A write an admin may make, and a table that a trigger function it fires
# writes (directly or through a helper it calls).
ADMIN_WRITES = {
    "email_logins": (
        "login_user_days",
        "INSERT INTO email_logins (id, created_at, type, email, one_time_password_hash, retry_count,"
        " resend_count, completed) VALUES ('el_1', now(), 'Login', 'a@example.com', 'x', 0, 0, true)",
    ),
    "external_logins": (
        "login_day_counts",
        "INSERT INTO external_logins (id, created_at, type, provider_type, email, code_verifier, nonce,"
        " browser_fingerprint, login_result)"
        " VALUES ('xl_1', now(), 'Login', 'Google', 'a@example.com', 'v', 'n', 'f', 'Success')",
    ),
    "billing_events": (
        "billing_event_day_counts",
        "INSERT INTO billing_events (tenant_id, id, subscription_id, created_at, stripe_event_id, event_type,"
        " committed_mrr, occurred_at, new_amount, amount_delta)"
        " VALUES (1, 'bilev_1', 'sub_1', now(), 'evt_1', 'SubscriptionCreated', 149, now(), 149, 149)",
    ),
    "billing_events_ledger": (
        "mrr_days",
        "INSERT INTO billing_events (tenant_id, id, subscription_id, created_at, stripe_event_id, event_type,"
        " committed_mrr, occurred_at, new_amount, amount_delta)"
        " VALUES (1, 'bilev_2', 'sub_2', now(), 'evt_2', 'SubscriptionCreated', 149, now(), 149, 149)",
    ),
    "subscriptions": (
        "payment_transaction_rows",
        f"{TENANT_SQL}; INSERT INTO subscriptions (tenant_id, id, created_at, plan, payment_transactions)"
        f" VALUES (990001, 'sub_3', now(), 'Standard', '{TRANSACTION}')",
    ),
    "payment_rows_revenue": (
        "revenue_days",
        f"{TENANT_SQL}; INSERT INTO subscriptions (tenant_id, id, created_at, plan, payment_transactions)"
        f" VALUES (990001, 'sub_4', now(), 'Standard', '{TRANSACTION}')",
    ),
    "payment_rows_invoices": (
        "invoice_row_counts",
        f"{TENANT_SQL}; INSERT INTO subscriptions (tenant_id, id, created_at, plan, payment_transactions)"
        f" VALUES (990001, 'sub_5', now(), 'Standard', '{TRANSACTION}')",
    ),
    "billing_events_deleted_accounts": (
        "deleted_account_event_day_counts",
        "INSERT INTO billing_events (tenant_id, id, subscription_id, created_at, stripe_event_id, event_type,"
        " committed_mrr, occurred_at, new_amount, amount_delta)"
        " VALUES (1, 'bilev_3', 'sub_6', now(), 'evt_3', 'SubscriptionCreated', 149, now(), 149, 149)",
    ),
    "payment_rows_deleted_accounts": (
        "deleted_account_invoice_row_counts",
        f"{TENANT_SQL}; INSERT INTO subscriptions (tenant_id, id, created_at, plan, payment_transactions)"
        f" VALUES (990001, 'sub_7', now(), 'Standard', '{TRANSACTION}')",
    ),
    "tenants_deleted_accounts": (
        "deleted_account_event_day_counts",
        f"{TENANT_SQL}; UPDATE tenants SET deleted_at = now()",
    ),
    "tenants_classes": ("account_classes", TENANT_SQL),
    "tenants_class_counts": ("account_class_counts", TENANT_SQL),
    "users": (
        "live_user_days",
        f"{TENANT_SQL}; INSERT INTO users (tenant_id, id, created_at, email, first_name, last_name, role,"
        " email_confirmed, last_seen_at) VALUES (990001, 'u_1', now(), 'a@example.com', 'A', 'B', 'Owner', true, now())",
    ),
}


@dataclass
class Role:
    name: str
    url: str


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def make_role(database_url: str) -> Iterator[Callable[[str], Role]]:
    """Login roles in the test cluster (roles are cluster-wide: unique names,
    dropped afterwards)."""
    created: list[str] = []

    def make(group: str) -> Role:
        name = f"attacker_{uuid.uuid4().hex[:10]}"
        password = secrets.token_urlsafe(16)
        with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE {group}")
        created.append(name)
        url = make_url(database_url).set(username=name, password=password).render_as_string(hide_password=False)
        return Role(name, _libpq(url))

    yield make
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        for name in created:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))
            conn.execute(f"DROP OWNED BY {name}")
            conn.execute(f"DROP ROLE {name}")


def _prepare_shadow(conn: psycopg.Connection, table: str) -> None:
    """A temporary table named like one a trigger function writes, with a
    trigger that tries to escalate."""
    conn.execute("CREATE TEMP TABLE attack_log (who text)")
    conn.execute(ESCALATE_SQL)
    conn.execute(f"CREATE TEMP TABLE {table} (LIKE public.{table} INCLUDING ALL)")
    conn.execute(
        f"CREATE TRIGGER escalate AFTER INSERT OR UPDATE OR DELETE ON pg_temp.{table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.escalate()"
    )


def _attempt(conn: psycopg.Connection, sql: str) -> str | None:
    """Run one step of the attack; a refusal is an acceptable outcome."""
    try:
        conn.execute(sql)
    except psycopg.Error as error:
        return type(error).__name__
    return None


def _assert_not_escalated(database_url: str, role: Role, attacker: psycopg.Connection) -> None:
    with psycopg.connect(_libpq(database_url)) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role.name,)).fetchone() == (False,)
    assert attacker.execute("SELECT count(*) FROM pg_temp.attack_log").fetchone() == (0,)


@pytest.mark.parametrize("write", sorted(ADMIN_WRITES))
def test_an_admin_cannot_run_its_code_as_the_owner_by_shadowing_a_table(
    database_url: str, make_role: Callable[[str], Role], write: str
) -> None:
    role = make_role("backoffice_admin")
    shadowed, sql = ADMIN_WRITES[write]
    with psycopg.connect(role.url, autocommit=True) as attacker:
        _prepare_shadow(attacker, shadowed)
        refused = _attempt(attacker, sql)
        _assert_not_escalated(database_url, role, attacker)
        # The write itself is the admin's to make: its triggers still run.
        assert refused is None


@pytest.mark.parametrize("write", ["email_logins", "subscriptions"])
def test_a_reader_cannot_fire_them_by_writing(database_url: str, make_role: Callable[[str], Role], write: str) -> None:
    role = make_role("backoffice_reader")
    shadowed, sql = ADMIN_WRITES[write]
    with psycopg.connect(role.url, autocommit=True) as attacker:
        _prepare_shadow(attacker, shadowed)
        refused = _attempt(attacker, sql)
        _assert_not_escalated(database_url, role, attacker)
        assert refused == "InsufficientPrivilege"


@pytest.mark.parametrize("group", ["backoffice_reader", "backoffice_admin"])
def test_a_role_cannot_attach_a_trigger_function_to_its_own_table(
    database_url: str, make_role: Callable[[str], Role], group: str
) -> None:
    role = make_role(group)
    with psycopg.connect(role.url, autocommit=True) as attacker:
        _prepare_shadow(attacker, "payment_transaction_rows")
        attacker.execute("CREATE TEMP TABLE bait (id text, tenant_id bigint, payment_transactions jsonb)")
        refused = _attempt(
            attacker,
            "CREATE TRIGGER bait AFTER INSERT ON pg_temp.bait FOR EACH ROW"
            " EXECUTE FUNCTION public.payment_transaction_rows_refresh()",
        )
        _attempt(attacker, f"INSERT INTO pg_temp.bait VALUES ('sub_bait', 1, '{TRANSACTION}')")
        _assert_not_escalated(database_url, role, attacker)
        assert refused == "InsufficientPrivilege"
    with psycopg.connect(_libpq(database_url)) as conn:
        assert conn.execute("SELECT count(*) FROM payment_transaction_rows").fetchone() == (0,)


def _security_definer_functions(database_url: str) -> list[tuple[str, list[str] | None]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        return conn.execute(
            "SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public' AND p.prosecdef ORDER BY 1"
        ).fetchall()


def test_every_security_definer_function_pins_a_safe_search_path(database_url: str) -> None:
    functions = _security_definer_functions(database_url)
    assert len(functions) >= 9
    for name, config in functions:
        paths = [setting for setting in config or [] if setting.startswith("search_path=")]
        assert paths == [PINNED_SEARCH_PATH], name


def test_no_role_but_the_owner_may_execute_a_security_definer_function(database_url: str) -> None:
    with psycopg.connect(_libpq(database_url)) as conn:
        granted = conn.execute(
            "SELECT p.oid::regprocedure::text, grantee.rolname FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " CROSS JOIN LATERAL aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) AS acl"
            " LEFT JOIN pg_roles grantee ON grantee.oid = acl.grantee"
            " WHERE n.nspname = 'public' AND p.prosecdef AND acl.privilege_type = 'EXECUTE'"
            " AND acl.grantee <> p.proowner"
        ).fetchall()
    assert granted == []


def test_downgrade_restores_the_previous_definitions_and_upgrade_pins_them_again(engine: Engine) -> None:
    migrate.downgrade(engine, "0008")
    url = engine.url.render_as_string(hide_password=False)
    assert {tuple(config or []) for _, config in _security_definer_functions(url)} == {('search_path="$user", public',)}
    migrate.upgrade(engine)
    assert {tuple(config or []) for _, config in _security_definer_functions(url)} == {(PINNED_SEARCH_PATH,)}


def _squeeze(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def test_the_installed_revenue_rule_is_the_one_the_code_uses(database_url: str) -> None:
    with psycopg.connect(_libpq(database_url)) as conn:
        (definition,) = conn.execute(
            "SELECT pg_get_functiondef('public.payment_transaction_rows_of(text, bigint, jsonb)'::regprocedure)"
        ).fetchone()
    assert f"COALESCE({_squeeze(REVENUE_TRANSACTION_SQL)}, false)" in _squeeze(definition)

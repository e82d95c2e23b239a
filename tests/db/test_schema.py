"""The schema: migrations, constraints, roles."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, ProgrammingError

from db import migrate

NOW = datetime(2026, 5, 8, 2, 15, tzinfo=UTC)
EXPECTED_TABLES = {
    "tenants",
    "users",
    "sessions",
    "email_logins",
    "external_logins",
    "subscriptions",
    "stripe_events",
    "billing_events",
    "stripe_sync_cursors",
}


def _fresh_engine(pg_server_url: str, name: str) -> Engine:
    with psycopg.connect(pg_server_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return create_engine(make_url(pg_server_url).set(database=name))


def test_migrations_apply_to_an_empty_database_and_reapply_as_a_no_op(pg_server_url: str) -> None:
    engine = _fresh_engine(pg_server_url, "migrate_twice")
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert EXPECTED_TABLES <= tables

    def schema_snapshot() -> list[tuple[str, str]]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2")
                )
            )

    before = schema_snapshot()
    migrate.upgrade(engine)
    assert schema_snapshot() == before
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_the_named_keys_and_indexes_exist(conn: Connection) -> None:
    names = {row[0] for row in conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"))}
    for expected in (
        "pk_tenants",
        "pk_billing_events",
        "ix_billing_events_stripe_event_id",
        "ix_billing_events_tenant_id_occurred_at",
        "ix_subscriptions_tenant_id",
        "ix_subscriptions_has_drift_detected",
        "ix_users_tenant_id_email",
        "ix_stripe_events_stripe_customer_id_status",
    ):
        assert expected in names


def _tenant_with_subscription(conn: Connection, tenant_id: int = 1) -> None:
    conn.execute(
        text("INSERT INTO tenants (id, created_at, name, state, plan) VALUES (:id, :now, 'Acme', 'Active', 'Basis')"),
        {"id": tenant_id, "now": NOW},
    )
    conn.execute(
        text("INSERT INTO subscriptions (tenant_id, id, created_at, plan) VALUES (:id, :sub, :now, 'Basis')"),
        {"id": tenant_id, "sub": f"sub_{tenant_id:026d}", "now": NOW},
    )


def _transaction(**overrides: object) -> dict[str, object]:
    transaction: dict[str, object] = {
        "Id": "pymnt_01",
        "Amount": 186.25,
        "AmountExcludingTax": 149.0,
        "TaxAmount": 37.25,
        "InvoiceTotal": 186.25,
        "AmountFromCredit": 0,
        "Currency": "DKK",
        "Status": "Succeeded",
        "Date": NOW.isoformat(),
    }
    transaction.update(overrides)
    return {k: v for k, v in transaction.items() if v is not None}


def _set_transactions(conn: Connection, transactions: list[dict[str, object]]) -> None:
    conn.execute(
        text("UPDATE subscriptions SET payment_transactions = CAST(:pt AS jsonb) WHERE tenant_id = 1"),
        {"pt": json.dumps(transactions)},
    )


def test_check_accepts_a_complete_payment_transaction(conn: Connection) -> None:
    _tenant_with_subscription(conn)
    _set_transactions(conn, [_transaction()])
    assert conn.execute(text("SELECT jsonb_array_length(payment_transactions) FROM subscriptions")).scalar() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"AmountExcludingTax": None},
        {"TaxAmount": None},
        {"TaxAmount": "37.25"},
        {"InvoiceTotal": None},
        {"AmountExcludingTax": -1},
        {"Currency": "dkk"},
    ],
    ids=["no-amount-excluding-tax", "no-tax-amount", "tax-as-string", "no-invoice-total", "negative", "lower-currency"],
)
def test_check_rejects_an_incomplete_payment_transaction(conn: Connection, overrides: dict[str, object]) -> None:
    _tenant_with_subscription(conn)
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError, match="chk_subscriptions_payment_transactions"):
        _set_transactions(conn, [_transaction(), _transaction(**overrides)])
    savepoint.rollback()


def test_billing_event_stripe_event_id_is_unique(conn: Connection) -> None:
    row = {
        "tenant_id": 1,
        "subscription_id": "sub_x",
        "created_at": NOW,
        "stripe_event_id": "evt_1",
        "event_type": "SubscriptionCreated",
        "committed_mrr": 149,
        "occurred_at": NOW,
    }
    insert = text(
        "INSERT INTO billing_events (tenant_id, id, subscription_id, created_at, stripe_event_id, event_type, committed_mrr, occurred_at)"
        " VALUES (:tenant_id, :id, :subscription_id, :created_at, :stripe_event_id, :event_type, :committed_mrr, :occurred_at)"
    )
    conn.execute(insert, {**row, "id": "bilev_A"})
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError, match="ix_billing_events_stripe_event_id"):
        conn.execute(insert, {**row, "id": "bilev_B"})
    savepoint.rollback()


def test_a_reader_role_cannot_write(database_url: str) -> None:
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text("DROP ROLE IF EXISTS test_reader_login"))
        conn.execute(text("CREATE ROLE test_reader_login LOGIN IN ROLE backoffice_reader"))
    reader = create_engine(make_url(database_url).set(username="test_reader_login", password=None))
    try:
        with reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tenants")).scalar() == 0
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(
                    text(
                        "INSERT INTO tenants (id, created_at, name, state, plan) VALUES (9, now(), 'x', 'Active', 'Basis')"
                    )
                )
    finally:
        reader.dispose()
        with admin.begin() as conn:
            conn.execute(text("DROP OWNED BY test_reader_login"))
            conn.execute(text("DROP ROLE test_reader_login"))
        admin.dispose()


def test_admin_rule_follows_role_membership(database_url: str) -> None:
    from db.engine import is_admin

    admin = create_engine(database_url)
    with admin.connect() as conn:
        assert is_admin(conn)  # a superuser counts
    with admin.begin() as conn:
        for role, group in (("test_admin_login", "backoffice_admin"), ("test_reader_only", "backoffice_reader")):
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
            conn.execute(text(f"CREATE ROLE {role} LOGIN IN ROLE {group}"))
    try:
        for role, expected in (("test_admin_login", True), ("test_reader_only", False)):
            engine = create_engine(make_url(database_url).set(username=role, password=None))
            with engine.connect() as conn:
                assert is_admin(conn) is expected
            engine.dispose()
    finally:
        with admin.begin() as conn:
            for role in ("test_admin_login", "test_reader_only"):
                conn.execute(text(f"DROP OWNED BY {role}"))
                conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def test_models_describe_every_migrated_table_and_column(engine: Engine) -> None:
    """The typed models and the migrations agree on tables, columns and types
    (indexes live in the migrations only)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from db.models import metadata

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = [
            diff
            for diff in compare_metadata(context, metadata)
            if not (isinstance(diff, tuple) and diff[0] in ("add_index", "remove_index"))
            and not (isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version")
        ]
    assert differences == []

"""Migration 0013 backfills the class counts from the rows a database already
holds, and its downgrade removes them (docs/rules.md R190)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text

from db import migrate
from tests import factories as f
from tests.core.test_account_classes import assert_counts_exact
from tests.factories import NOW

OBJECTS_SQL = text(
    "SELECT (SELECT count(*) FROM pg_class WHERE relname IN ('account_classes', 'account_class_counts'))"
    " + (SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%account_classes%')"
    " + (SELECT count(*) FROM pg_proc WHERE proname LIKE '%account_classes%')"
)


def test_upgrade_backfills_the_existing_rows_and_downgrade_removes_the_counts(engine: Engine) -> None:
    migrate.downgrade(engine, "0012")
    with engine.begin() as conn:
        assert conn.execute(OBJECTS_SQL).scalar_one() == 0
        synced = f.tenant(conn, plan="Premium", has_drift_detected=True)
        f.billing_event(conn, synced, "NoOp", occurred_at=NOW - timedelta(days=1))
        f.tenant(conn, plan="Standard", cancel_at_period_end=True)
        f.tenant(conn, plan="Standard", deleted_at=NOW)
        f.tenant(conn, plan="Basis", payment_transactions=[f.payment_transaction()])
        f.tenant(conn, plan="Basis", state="Suspended")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM account_classes")).scalar_one() == 5
        assert_counts_exact(conn)
        # The triggers follow the rows from here on.
        f.tenant(conn, plan="Premium")
        assert_counts_exact(conn)
    migrate.downgrade(engine, "0012")
    with engine.begin() as conn:
        assert conn.execute(OBJECTS_SQL).scalar_one() == 0
    migrate.upgrade(engine)
    with engine.begin() as conn:
        assert_counts_exact(conn)

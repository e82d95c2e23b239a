"""Migration 0015 backfills the counts of soft-deleted accounts' rows from the
rows a database already holds, and its downgrade removes them (docs/rules.md R220)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text

from db import migrate
from tests import factories as f
from tests.core.test_deleted_account_counts import assert_counts_exact
from tests.factories import NOW

OBJECTS_SQL = text(
    "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'deleted_account_%')"
    " + (SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%deleted_counts%')"
    " + (SELECT count(*) FROM pg_proc WHERE proname LIKE 'deleted_account_%')"
)


def test_upgrade_backfills_the_existing_rows_and_downgrade_drops_them(engine: Engine) -> None:
    migrate.downgrade(engine, "0014")
    with engine.begin() as conn:
        assert conn.execute(OBJECTS_SQL).scalar_one() == 0
        transactions = [
            f.payment_transaction(),
            f.payment_transaction(status="Refunded", RefundedAt=NOW.isoformat()),
            f.payment_transaction(CreditNoteUrl="https://example.com/cn.pdf"),
        ]
        live = f.tenant(conn, name="Live", payment_transactions=transactions)
        gone = f.tenant(conn, name="Gone", deleted_at=NOW, payment_transactions=transactions)
        for days in (1, 2, 40):
            f.billing_event(conn, live, "SubscriptionRenewed", occurred_at=NOW - timedelta(days=days))
            f.billing_event(conn, gone, "PaymentFailed", occurred_at=NOW - timedelta(days=days))
    migrate.upgrade(engine)
    with engine.begin() as conn:
        assert assert_counts_exact(conn) == (3, 3 + 2)
        # The triggers follow the rows from here on.
        conn.execute(text("UPDATE tenants SET deleted_at = :now WHERE id = :id"), {"now": NOW, "id": live.id})
        assert assert_counts_exact(conn) == (6, 10)
    migrate.downgrade(engine, "0014")
    with engine.begin() as conn:
        assert conn.execute(OBJECTS_SQL).scalar_one() == 0
    migrate.upgrade(engine)
    with engine.begin() as conn:
        assert assert_counts_exact(conn) == (6, 10)

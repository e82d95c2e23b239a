"""Migration 0014 backfills the window summaries from an existing database
(docs/rules.md R210-R214) and its downgrade removes them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, Engine, text

from core import users
from db import migrate
from demo import seed as demo_seed
from tests.core.test_window_summaries import (
    REFERENCE_COUNTED_USER_DAYS_SQL,
    REFERENCE_COUNTED_USER_HOURS_SQL,
    REFERENCE_LIVE_TENANT_DAYS_SQL,
    REFERENCE_MOVEMENT_DAYS_SQL,
    REFERENCE_SESSION_HOURS_SQL,
    SUMMARY_COUNTED_USER_DAYS_SQL,
    SUMMARY_COUNTED_USER_HOURS_SQL,
    SUMMARY_LIVE_TENANT_DAYS_SQL,
    SUMMARY_MOVEMENT_DAYS_SQL,
    SUMMARY_SESSION_HOURS_SQL,
)
from tests.factories import NOW

TABLES = ("mrr_movement_days", "live_tenant_days", "session_hours", "counted_user_days", "counted_user_hours")
PAIRS = [
    (REFERENCE_MOVEMENT_DAYS_SQL, SUMMARY_MOVEMENT_DAYS_SQL),
    (REFERENCE_LIVE_TENANT_DAYS_SQL, SUMMARY_LIVE_TENANT_DAYS_SQL),
    (REFERENCE_SESSION_HOURS_SQL, SUMMARY_SESSION_HOURS_SQL),
    (REFERENCE_COUNTED_USER_DAYS_SQL, SUMMARY_COUNTED_USER_DAYS_SQL),
    (REFERENCE_COUNTED_USER_HOURS_SQL, SUMMARY_COUNTED_USER_HOURS_SQL),
]


def _existing_tables(conn: Connection) -> set[str]:
    return set(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(:names)"),
            {"names": list(TABLES)},
        ).scalars()
    )


def test_the_migration_backfills_an_existing_database_and_downgrades(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=60, seed=4, now=NOW)
    with engine.begin() as conn:
        conn.execute(text("UPDATE tenants SET deleted_at = :at WHERE id % 7 = 0"), {"at": NOW - timedelta(days=2)})
        conn.execute(text("UPDATE sessions SET revoked_at = :at WHERE random() < 0.3"), {"at": NOW})
        active = users.counted_users(conn, seen_since=NOW - timedelta(days=30))
    migrate.downgrade(engine, "0012")
    with engine.connect() as conn:
        assert _existing_tables(conn) == set()
        triggers = conn.execute(
            text(
                "SELECT count(*) FROM pg_trigger WHERE tgname"
                " ~ '^trg_(billing_events_mrr_movements|tenants_live_days|sessions_hours|users_count_seen|tenants_count_users)_'"
            )
        ).scalar_one()
        assert triggers == 0
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert _existing_tables(conn) == set(TABLES)
        for reference, summary in PAIRS:
            rows = conn.execute(summary).all()
            assert rows and rows == conn.execute(reference).all()
        assert users.counted_users(conn, seen_since=NOW - timedelta(days=30)) == active

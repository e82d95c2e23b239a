"""The summaries behind the dashboard's time windows (migration 0014,
docs/rules.md R210-R214) give the figures of the plain queries they replaced
after any mix of inserts, updates, deletes, bulk COPY and TRUNCATE, and the
queries that read them read no table that grows with the platform whole.

The REFERENCE_* statements are the plain queries: they read the source tables
only, so every comparison below checks a summary against the rows themselves."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, insert, text, update

from core import users
from core.dashboard.kpis import kpis, sessions_started_since
from core.dashboard.movements import mrr_movements
from core.dashboard.trends import new_tenants_trend
from db.models import BillingEvent, Session, Tenant, User
from tests import factories as f
from tests.concurrent_writers import second_writer_waits
from tests.core.conftest import Statement
from tests.core.test_dashboard_summaries import at, billing_row, random_instant
from tests.factories import NOW
from tests.query_plans import plan_of, seq_scanned_tables

D = Decimal
TODAY = NOW.date()
GROWING_TABLES = {"billing_events", "sessions", "users", "tenants"}

# docs/rules.md R150 as the card computed it before 0014: the steps of every
# subscription that moved in the period, over its whole history.
REFERENCE_MOVEMENTS_SQL = text(
    """
    WITH moved AS (
        SELECT DISTINCT b.subscription_id
        FROM billing_events AS b
        WHERE b.amount_delta IS NOT NULL
          AND b.occurred_at >= :period_start AND b.occurred_at < :period_end
    ),
    steps AS (
        SELECT b.occurred_at,
               COALESCE(b.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(b.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(b.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM moved
        JOIN billing_events AS b ON b.subscription_id = moved.subscription_id
        WHERE b.amount_delta IS NOT NULL AND b.occurred_at < :period_end
        WINDOW replay AS (
            PARTITION BY b.subscription_id ORDER BY b.occurred_at, b.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )
    )
    SELECT
        COALESCE(SUM(after) FILTER (WHERE before = 0 AND after > 0 AND NOT paid_before), 0) AS new,
        COALESCE(SUM(after - before) FILTER (WHERE before > 0 AND after > before), 0) AS expansion,
        COALESCE(SUM(after) FILTER (WHERE before = 0 AND after > 0 AND paid_before), 0) AS reactivation,
        COALESCE(SUM(before - after) FILTER (WHERE after > 0 AND after < before), 0) AS contraction,
        COALESCE(SUM(before) FILTER (WHERE before > 0 AND after = 0), 0) AS churn
    FROM steps
    WHERE occurred_at >= :period_start
    """
)

MOVEMENTS = ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr")

# Every day's movements, from the whole log.
REFERENCE_MOVEMENT_DAYS_SQL = text(
    """
    WITH steps AS (
        SELECT b.occurred_at,
               COALESCE(b.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(b.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(b.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM billing_events AS b
        WHERE b.amount_delta IS NOT NULL
        WINDOW replay AS (
            PARTITION BY b.subscription_id ORDER BY b.occurred_at, b.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )
    ),
    days AS (
        SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
               COALESCE(SUM(after) FILTER (WHERE before = 0 AND after > 0 AND NOT paid_before), 0) AS new_mrr,
               COALESCE(SUM(after - before) FILTER (WHERE before > 0 AND after > before), 0) AS expansion_mrr,
               COALESCE(SUM(after) FILTER (WHERE before = 0 AND after > 0 AND paid_before), 0) AS reactivation_mrr,
               COALESCE(SUM(before - after) FILTER (WHERE after > 0 AND after < before), 0) AS contraction_mrr,
               COALESCE(SUM(before) FILTER (WHERE before > 0 AND after = 0), 0) AS churned_mrr
        FROM steps
        GROUP BY 1
    )
    SELECT * FROM days
    WHERE (new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr) <> (0, 0, 0, 0, 0)
    ORDER BY day
    """
)

SUMMARY_MOVEMENT_DAYS_SQL = text(
    f"""
    SELECT day, {", ".join(f"SUM({m}) AS {m}" for m in MOVEMENTS)}
    FROM mrr_movement_days
    GROUP BY day
    HAVING ({", ".join(f"SUM({m})" for m in MOVEMENTS)}) <> (0, 0, 0, 0, 0)
    ORDER BY day
    """
)

REFERENCE_LIVE_TENANT_DAYS_SQL = text(
    "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) FROM tenants"
    " WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 1"
)
SUMMARY_LIVE_TENANT_DAYS_SQL = text(
    "SELECT day, SUM(created) FROM live_tenant_days GROUP BY day HAVING SUM(created) <> 0 ORDER BY day"
)
REFERENCE_NEW_TENANTS_SQL = text(
    "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS value FROM tenants"
    " WHERE deleted_at IS NULL AND created_at >= :loaded_from AND created_at < :loaded_until GROUP BY 1"
)

REFERENCE_SESSION_HOURS_SQL = text(
    "SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, count(*) FROM sessions"
    " WHERE revoked_at IS NULL GROUP BY 1 ORDER BY 1"
)
SUMMARY_SESSION_HOURS_SQL = text(
    "SELECT hour, SUM(started) FROM session_hours GROUP BY hour HAVING SUM(started) <> 0 ORDER BY hour"
)
REFERENCE_SESSIONS_SQL = text("SELECT count(*) FROM sessions WHERE created_at >= :since AND revoked_at IS NULL")

COUNTED = (
    "u.deleted_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM tenants d WHERE d.id = u.tenant_id AND d.deleted_at IS NOT NULL)"
)
REFERENCE_COUNTED_USER_DAYS_SQL = text(
    "SELECT COALESCE((u.last_seen_at AT TIME ZONE 'UTC')::date, '-infinity'::date)::text AS day, count(*)"
    f" FROM users u WHERE {COUNTED} GROUP BY 1 ORDER BY 1"
)
SUMMARY_COUNTED_USER_DAYS_SQL = text(
    "SELECT day::text, SUM(users) FROM counted_user_days GROUP BY day HAVING SUM(users) <> 0 ORDER BY day"
)
REFERENCE_COUNTED_USER_HOURS_SQL = text(
    "SELECT COALESCE(date_trunc('hour', u.last_seen_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',"
    f" '-infinity'::timestamptz)::text AS hour, count(*) FROM users u WHERE {COUNTED} GROUP BY 1 ORDER BY 1"
)
SUMMARY_COUNTED_USER_HOURS_SQL = text(
    "SELECT hour::text, SUM(users) FROM counted_user_hours GROUP BY hour HAVING SUM(users) <> 0 ORDER BY hour"
)
REFERENCE_SEEN_USERS_SQL = text(f"SELECT count(*) FROM users u WHERE {COUNTED} AND u.last_seen_at >= :since")
REFERENCE_USERS_SQL = text(f"SELECT count(*) FROM users u WHERE {COUNTED}")

# Instants that start inside an hour, on the hour, at midnight, late in a day.
SINCE = [
    NOW - timedelta(hours=24),
    NOW - timedelta(days=30),
    NOW - timedelta(days=7, minutes=13),
    NOW - timedelta(days=2, hours=11, minutes=59, seconds=59),
    datetime(2026, 5, 1, tzinfo=UTC),
    datetime(2026, 5, 3, 23, 30, tzinfo=UTC),
    NOW + timedelta(days=2),
]


def same_rows(conn: Connection, reference: Any, summary: Any) -> None:
    assert conn.execute(summary).all() == conn.execute(reference).all()


# --- MRR movements ---------------------------------------------------------------


def assert_movements_exact(conn: Connection) -> None:
    same_rows(conn, REFERENCE_MOVEMENT_DAYS_SQL, SUMMARY_MOVEMENT_DAYS_SQL)
    for days in (7, 30, 90):
        result = mrr_movements(conn, days, NOW, "DKK")
        period = {
            "period_start": datetime.combine(result.first_day, datetime.min.time(), tzinfo=UTC),
            "period_end": datetime.combine(result.last_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
        }
        expected = conn.execute(REFERENCE_MOVEMENTS_SQL, period).one()
        assert (
            result.new_mrr,
            result.expansion_mrr,
            result.reactivation_mrr,
            result.contraction_mrr,
            result.churned_mrr,
        ) == tuple(expected)
        assert result.reconciles


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mrr_movements_match_the_ledger_through_inserts_updates_and_deletes(conn: Connection, seed: int) -> None:
    rng = random.Random(seed)
    tenants = [f.tenant(conn, plan=rng.choice(["Standard", "Premium"])) for _ in range(6)]
    index = iter(range(100_000))
    # Several subscriptions in one statement, out of time order, then single rows.
    conn.execute(insert(BillingEvent).values([billing_row(rng, rng.choice(tenants), next(index)) for _ in range(60)]))
    assert_movements_exact(conn)
    rows = []
    for _ in range(25):
        # Most land in the middle of a history and reclassify the steps after them.
        row = billing_row(rng, rng.choice(tenants), next(index))
        conn.execute(insert(BillingEvent).values(row))
        rows.append(row)
    assert_movements_exact(conn)

    event_ids = [row["id"] for row in rows]
    for _ in range(20):
        change = rng.choice(
            [
                {"new_amount": rng.choice([None, D("0"), D("49.99"), D("149.00"), D("299.00")])},
                {"amount_delta": None},
                {"amount_delta": D("5")},
                {"occurred_at": random_instant(rng)},
                {"subscription_id": rng.choice(tenants).subscription_id},
                {"stripe_event_id": f"evt_{rng.choice('aAbB')}{next(index):05d}"},
            ]
        )
        conn.execute(update(BillingEvent).where(BillingEvent.id == rng.choice(event_ids)).values(**change))
        assert_movements_exact(conn)
    # Bulk statements over whole histories.
    conn.execute(
        update(BillingEvent)
        .where(BillingEvent.subscription_id == tenants[1].subscription_id)
        .values(new_amount=D("10.00"))
    )
    assert_movements_exact(conn)
    conn.execute(delete(BillingEvent).where(BillingEvent.id.in_(rng.sample(event_ids, 10))))
    assert_movements_exact(conn)
    conn.execute(delete(BillingEvent).where(BillingEvent.subscription_id == tenants[2].subscription_id))
    assert_movements_exact(conn)


def test_a_row_inserted_into_the_middle_of_a_history_reclassifies_the_later_steps(conn: Connection) -> None:
    sub = f.tenant(conn, plan="Standard")
    f.billing_event(conn, sub, "SubscriptionCreated", occurred_at=at(60), previous_amount="0", new_amount="149")
    f.billing_event(conn, sub, "SubscriptionCancelled", occurred_at=at(40), previous_amount="149", new_amount="0")
    comeback = f.billing_event(
        conn, sub, "SubscriptionCreated", occurred_at=at(3), previous_amount="0", new_amount="149"
    )
    assert mrr_movements(conn, 7, NOW, "DKK").reactivation_mrr == D("149")
    assert_movements_exact(conn)

    # The first paid row goes: the comeback is now the subscription's first money.
    conn.execute(delete(BillingEvent).where(BillingEvent.occurred_at == at(60)))
    assert (mrr_movements(conn, 7, NOW, "DKK").new_mrr, mrr_movements(conn, 7, NOW, "DKK").reactivation_mrr) == (
        D("149"),
        D("0"),
    )
    assert_movements_exact(conn)

    # A row between the cancellation and the comeback: the comeback expands it.
    f.billing_event(conn, sub, "SubscriptionCreated", occurred_at=at(5), previous_amount="0", new_amount="49.99")
    result = mrr_movements(conn, 7, NOW, "DKK")
    assert (result.new_mrr, result.expansion_mrr, result.reactivation_mrr) == (D("49.99"), D("99.01"), D("0"))
    assert_movements_exact(conn)

    # An amount changed: the comeback now contracts.
    conn.execute(update(BillingEvent).where(BillingEvent.occurred_at == at(5)).values(new_amount=D("299.00")))
    assert mrr_movements(conn, 7, NOW, "DKK").contraction_mrr == D("150.00")
    assert_movements_exact(conn)
    conn.execute(delete(BillingEvent).where(BillingEvent.id == comeback))
    assert_movements_exact(conn)


def test_billing_events_copied_in_bulk_and_truncated_move_the_movements(conn: Connection) -> None:
    rng = random.Random(5)
    tenants = [f.tenant(conn, plan="Standard") for _ in range(4)]
    rows = [billing_row(rng, rng.choice(tenants), index) for index in range(400)]
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY billing_events ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])
    assert_movements_exact(conn)
    assert conn.execute(text("SELECT count(*) FROM mrr_movement_days")).scalar_one() > 0

    conn.execute(text("TRUNCATE billing_events"))
    assert conn.execute(text("SELECT count(*) FROM mrr_movement_days")).scalar_one() == 0
    assert_movements_exact(conn)


# --- tenants created -------------------------------------------------------------


def assert_tenants_exact(conn: Connection) -> None:
    same_rows(conn, REFERENCE_LIVE_TENANT_DAYS_SQL, SUMMARY_LIVE_TENANT_DAYS_SQL)
    for days in (7, 30, 90):
        trend = new_tenants_trend(conn, days, NOW)
        windows = {
            "loaded_from": datetime.combine(trend.prior_points[0].date, datetime.min.time(), tzinfo=UTC),
            "loaded_until": datetime.combine(
                trend.points[-1].date + timedelta(days=1), datetime.min.time(), tzinfo=UTC
            ),
        }
        expected = dict(conn.execute(REFERENCE_NEW_TENANTS_SQL, windows).all())
        assert {p.date: p.value for p in trend.prior_points + trend.points if p.value} == expected


def test_new_tenants_follow_inserts_soft_deletes_and_deletes(conn: Connection) -> None:
    rng = random.Random(7)
    created = [random_instant(rng, 200) for _ in range(40)]
    tenants = [f.tenant(conn, created_at=when) for when in created]
    assert_tenants_exact(conn)
    ids = [t.id for t in tenants]
    conn.execute(update(Tenant).where(Tenant.id.in_(ids[:10])).values(deleted_at=NOW))
    assert_tenants_exact(conn)
    conn.execute(update(Tenant).where(Tenant.id.in_(ids[:3])).values(deleted_at=None))
    conn.execute(update(Tenant).where(Tenant.id == ids[20]).values(created_at=at(1, 3)))
    conn.execute(update(Tenant).where(Tenant.id.in_(ids[5:15])).values(name="Renamed"))
    assert_tenants_exact(conn)
    conn.execute(text("DELETE FROM subscriptions WHERE tenant_id = ANY(:ids)"), {"ids": ids[30:]})
    conn.execute(delete(Tenant).where(Tenant.id.in_(ids[30:])))
    assert_tenants_exact(conn)
    conn.execute(text("TRUNCATE tenants CASCADE"))
    assert conn.execute(text("SELECT count(*) FROM live_tenant_days")).scalar_one() == 0
    assert_tenants_exact(conn)


# --- sessions ---------------------------------------------------------------------


def assert_sessions_exact(conn: Connection) -> None:
    same_rows(conn, REFERENCE_SESSION_HOURS_SQL, SUMMARY_SESSION_HOURS_SQL)
    for since in SINCE:
        assert sessions_started_since(conn, since) == conn.execute(REFERENCE_SESSIONS_SQL, {"since": since}).scalar()


def test_sessions_started_follow_inserts_revokes_and_deletes(conn: Connection) -> None:
    rng = random.Random(11)
    tenant = f.tenant(conn)
    people = [f.user(conn, tenant.id) for _ in range(3)]
    rows = [
        {
            "tenant_id": tenant.id,
            "id": f"sess_{index}",
            "user_id": rng.choice(people),
            "created_at": NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 9)),
            "refresh_token_jti": f"jti_{index}",
            "refresh_token_version": 1,
            "login_method": "OneTimePassword",
            "device_type": "Desktop",
            "user_agent": "test",
            "ip_address": "192.0.2.1",
            "revoked_at": NOW if rng.random() < 0.2 else None,
        }
        for index in range(150)
    ]
    conn.execute(insert(Session).values(rows))
    f.session(conn, tenant.id, people[0], created_at=NOW - timedelta(hours=24))  # on the window's edge
    assert_sessions_exact(conn)
    ids = [row["id"] for row in rows]
    conn.execute(update(Session).where(Session.id.in_(ids[:30])).values(revoked_at=NOW))
    conn.execute(update(Session).where(Session.id.in_(ids[:5])).values(revoked_at=None))
    conn.execute(update(Session).where(Session.id == ids[40]).values(created_at=NOW - timedelta(minutes=5)))
    conn.execute(update(Session).where(Session.id.in_(ids[50:60])).values(user_agent="other"))
    assert_sessions_exact(conn)
    conn.execute(delete(Session).where(Session.id.in_(ids[60:90])))
    conn.execute(delete(User).where(User.id == people[1]))  # its sessions go with it
    assert_sessions_exact(conn)
    conn.execute(text("TRUNCATE sessions"))
    assert conn.execute(text("SELECT count(*) FROM session_hours")).scalar_one() == 0
    assert_sessions_exact(conn)


# --- users who count ------------------------------------------------------------------


def assert_users_exact(conn: Connection) -> None:
    same_rows(conn, REFERENCE_COUNTED_USER_DAYS_SQL, SUMMARY_COUNTED_USER_DAYS_SQL)
    same_rows(conn, REFERENCE_COUNTED_USER_HOURS_SQL, SUMMARY_COUNTED_USER_HOURS_SQL)
    assert users.counted_users(conn) == conn.execute(REFERENCE_USERS_SQL).scalar_one()
    for since in SINCE:
        expected = conn.execute(REFERENCE_SEEN_USERS_SQL, {"since": since}).scalar_one()
        assert users.counted_users(conn, seen_since=since) == expected


def test_counted_users_follow_users_and_their_tenants_soft_deletes(conn: Connection) -> None:
    rng = random.Random(13)
    tenants = [f.tenant(conn) for _ in range(5)]

    def seen() -> datetime | None:
        return None if rng.random() < 0.1 else NOW - timedelta(minutes=rng.randint(-60, 60 * 24 * 40))

    rows = [
        {
            "tenant_id": rng.choice(tenants).id,
            "id": f"usr_{index}",
            "created_at": NOW - timedelta(days=100),
            "deleted_at": NOW if rng.random() < 0.1 else None,
            "last_seen_at": seen(),
            "email": f"u{index}@example.com",
            "external_identities": [],
            "email_confirmed": True,
            "role": "Member",
            "locale": "en-US",
            "avatar": {},
        }
        for index in range(120)
    ]
    conn.execute(insert(User).values(rows))
    assert_users_exact(conn)
    ids = [row["id"] for row in rows]
    for user_id in rng.sample(ids, 30):  # logins, one by one
        conn.execute(update(User).where(User.id == user_id).values(last_seen_at=seen()))
    conn.execute(update(User).where(User.id.in_(ids[:10])).values(deleted_at=NOW))
    conn.execute(update(User).where(User.id.in_(ids[5:8])).values(deleted_at=None))
    conn.execute(update(User).where(User.id.in_(ids[20:30])).values(tenant_id=tenants[0].id))
    assert_users_exact(conn)
    conn.execute(update(Tenant).where(Tenant.id.in_([tenants[0].id, tenants[1].id])).values(deleted_at=NOW))
    assert_users_exact(conn)
    conn.execute(update(User).where(User.tenant_id == tenants[0].id).values(last_seen_at=NOW))
    conn.execute(update(User).where(User.id.in_(ids[40:50])).values(tenant_id=tenants[1].id))
    assert_users_exact(conn)
    conn.execute(update(Tenant).where(Tenant.id == tenants[0].id).values(deleted_at=None))
    conn.execute(update(Tenant).where(Tenant.id == tenants[1].id).values(deleted_at=NOW + timedelta(days=1)))
    assert_users_exact(conn)
    conn.execute(delete(User).where(User.id.in_(ids[60:100])))
    assert_users_exact(conn)
    conn.execute(text("TRUNCATE users CASCADE"))
    assert conn.execute(text("SELECT count(*) FROM counted_user_days")).scalar_one() == 0
    assert_users_exact(conn)


# --- plans ---------------------------------------------------------------------------


def _seed_a_little_of_everything(conn: Connection) -> None:
    rng = random.Random(3)
    tenants = [f.tenant(conn, plan="Standard", created_at=random_instant(rng)) for _ in range(8)]
    conn.execute(insert(BillingEvent).values([billing_row(rng, rng.choice(tenants), index) for index in range(80)]))
    for tenant in tenants:
        user_id = f.user(conn, tenant.id, last_seen_at=NOW - timedelta(hours=rng.randint(0, 500)))
        f.session(conn, tenant.id, user_id, created_at=NOW - timedelta(hours=rng.randint(0, 48)))
    conn.execute(update(Tenant).where(Tenant.id == tenants[0].id).values(deleted_at=NOW))


FIGURES: dict[str, Callable[[Connection], object]] = {
    "mrr movements": lambda conn: mrr_movements(conn, 90, NOW, "DKK"),
    "new tenants": lambda conn: new_tenants_trend(conn, 90, NOW),
    "users": lambda conn: users.counted_users(conn),
    "active users": lambda conn: users.counted_users(conn, seen_since=NOW - timedelta(days=30, minutes=7)),
    "sessions": lambda conn: sessions_started_since(conn, NOW - timedelta(hours=24, minutes=7)),
}
SUMMARIES = {
    "mrr movements": "mrr_movement_days",
    "new tenants": "live_tenant_days",
    "users": "counted_user_days",
    "active users": "counted_user_hours",
    "sessions": "session_hours",
}


@pytest.mark.parametrize("figure", list(FIGURES))
def test_the_window_figures_read_their_summaries_and_no_growing_table_whole(
    conn: Connection, statements: list[Statement], figure: str
) -> None:
    _seed_a_little_of_everything(conn)
    conn.execute(text("ANALYZE"))
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    statements.clear()
    FIGURES[figure](conn)
    sent = list(statements)
    assert any(SUMMARIES[figure] in sql for sql, _ in sent), f"{figure} did not read {SUMMARIES[figure]}"
    for sql, params in sent:
        plan = plan_of(conn, sql, params)
        assert not seq_scanned_tables(plan) & GROWING_TABLES, plan


def test_the_sessions_tile_is_the_kpis_figure(conn: Connection) -> None:
    _seed_a_little_of_everything(conn)
    since = NOW - timedelta(hours=24)
    tile = kpis(conn, 30, NOW, "DKK").sessions_started_last_24_hours
    assert tile == conn.execute(REFERENCE_SESSIONS_SQL, {"since": since}).scalar_one() > 0


# --- concurrent writers -----------------------------------------------------------


def test_concurrent_writers_of_one_subscription_classify_against_each_others_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        paid = f.tenant(conn, plan="Premium")
        f.billing_event(conn, paid, "SubscriptionCreated", occurred_at=at(30), previous_amount="0", new_amount="149")
    # The second writer inserts before the first one's row: its step reclassifies it.
    second_writer_waits(
        engine,
        lambda conn: f.billing_event(
            conn, paid, "SubscriptionUpgraded", occurred_at=at(3), previous_amount="149", new_amount="299"
        ),
        lambda conn: f.billing_event(
            conn, paid, "SubscriptionCancelled", occurred_at=at(5), previous_amount="149", new_amount="0"
        ),
    )
    with engine.connect() as conn:
        result = mrr_movements(conn, 7, NOW, "DKK")
        assert (result.churned_mrr, result.reactivation_mrr, result.expansion_mrr) == (D("149"), D("299"), D("0"))
        assert_movements_exact(conn)


def test_a_login_and_its_tenants_soft_delete_take_turns(engine: Engine) -> None:
    with engine.begin() as conn:
        tenant = f.tenant(conn)
        user_id = f.user(conn, tenant.id, last_seen_at=NOW - timedelta(days=3))
    second_writer_waits(
        engine,
        lambda conn: conn.execute(update(User).where(User.id == user_id).values(last_seen_at=NOW)),
        lambda conn: conn.execute(update(Tenant).where(Tenant.id == tenant.id).values(deleted_at=NOW)),
    )
    with engine.connect() as conn:
        assert users.counted_users(conn) == 0
        assert_users_exact(conn)

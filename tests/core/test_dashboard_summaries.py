"""The trigger-kept summaries behind the dashboard (migration 0005) give the
same figures as the plain queries they replaced, after any mix of inserts,
updates, deletes, bulk COPY and TRUNCATE, and under concurrent writers.

The REFERENCE_* statements are the plain queries: they read the source tables
only, so every comparison below checks a summary against the rows themselves."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, insert, text, update

from core import ids
from core.banners import unsynced_summary
from core.dashboard import daily_mrr, daily_revenue, kpis, latest_mrr, plan_distribution, trends
from core.dashboard.periods import DayWindows
from db.models import BillingEvent, EmailLogin, ExternalLogin, Subscription, Tenant, User
from tests import factories as f
from tests.concurrent_writers import second_writer_waits
from tests.factories import NOW

D = Decimal
TODAY = NOW.date()

REFERENCE_LOGIN_ACTIVITY_SQL = text(
    """
    WITH attempts AS (
        SELECT created_at, email, completed AS succeeded, (NOT completed AND retry_count >= 3) AS failed
        FROM email_logins
        WHERE created_at >= :loaded_from AND created_at < :loaded_until
        UNION ALL
        SELECT created_at, email, login_result = 'Success', login_result <> 'Success'
        FROM external_logins
        WHERE created_at >= :loaded_from AND created_at < :loaded_until AND login_result IS NOT NULL
    )
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
           count(*) FILTER (WHERE succeeded) AS value,
           count(*) FILTER (WHERE failed) AS failed,
           count(DISTINCT email) FILTER (WHERE succeeded) AS distinct_users
    FROM attempts
    GROUP BY 1
    """
)

REFERENCE_NEW_USERS_SQL = text(
    """
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS value
    FROM users
    WHERE deleted_at IS NULL AND created_at >= :loaded_from AND created_at < :loaded_until
    GROUP BY 1
    """
)

REFERENCE_USER_COUNTS_SQL = text(
    """
    SELECT count(*) AS total, count(*) FILTER (WHERE u.last_seen_at >= :period_start) AS active_in_period
    FROM users AS u JOIN tenants AS t ON t.id = u.tenant_id
    WHERE u.deleted_at IS NULL AND t.deleted_at IS NULL
    """
)

REFERENCE_DAILY_MRR_SQL = text(
    """
    WITH opening AS (
        SELECT s.id AS subscription_id, last_move.amount
        FROM subscriptions AS s
        CROSS JOIN LATERAL (
            SELECT COALESCE(b.new_amount, 0) AS amount
            FROM billing_events AS b
            WHERE b.subscription_id = s.id
              AND b.amount_delta IS NOT NULL
              AND b.occurred_at < :window_start
            ORDER BY b.occurred_at DESC, b.stripe_event_id COLLATE "C" DESC
            LIMIT 1
        ) AS last_move
    ),
    moves AS (
        SELECT b.subscription_id,
               b.occurred_at,
               COALESCE(b.new_amount, 0) AS amount,
               LAG(COALESCE(b.new_amount, 0)) OVER (
                   PARTITION BY b.subscription_id
                   ORDER BY b.occurred_at, b.stripe_event_id COLLATE "C"
               ) AS previous_amount
        FROM billing_events AS b
        WHERE b.amount_delta IS NOT NULL
          AND b.occurred_at >= :window_start
          AND b.occurred_at < :window_end
    ),
    daily_changes AS (
        SELECT (m.occurred_at AT TIME ZONE 'UTC')::date AS day,
               SUM(m.amount - COALESCE(m.previous_amount, o.amount, 0)) AS change
        FROM moves AS m
        LEFT JOIN opening AS o ON m.previous_amount IS NULL AND o.subscription_id = m.subscription_id
        GROUP BY 1
    )
    SELECT d::date AS day,
           (SELECT COALESCE(SUM(amount), 0) FROM opening)
               + COALESCE(SUM(c.change) OVER (ORDER BY d), 0) AS mrr
    FROM generate_series(CAST(:first_day AS date), CAST(:last_day AS date), interval '1 day') AS d
    LEFT JOIN daily_changes AS c ON c.day = d::date
    ORDER BY d
    """
)

REFERENCE_LATEST_MRR_SQL = text(
    """
    SELECT COALESCE(SUM(last_move.amount), 0)
    FROM subscriptions AS s
    CROSS JOIN LATERAL (
        SELECT COALESCE(b.new_amount, 0) AS amount
        FROM billing_events AS b
        WHERE b.subscription_id = s.id AND b.amount_delta IS NOT NULL
        ORDER BY b.occurred_at DESC, b.stripe_event_id COLLATE "C" DESC
        LIMIT 1
    ) AS last_move
    """
)

REFERENCE_UNSYNCED_COUNT_SQL = text(
    "SELECT count(*) FROM subscriptions AS s WHERE s.current_price_amount IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM billing_events AS b WHERE b.subscription_id = s.id)"
)

# Every account's charges added up to the end of today, less what was taken
# back by then (docs/rules.md R46, R47), deleted tenants included.
REFERENCE_TOTAL_REVENUE_SQL = text(
    """
    SELECT COALESCE(SUM(amount_excluding_tax) FILTER (WHERE added_on <= :today), 0)
         - COALESCE(SUM(amount_excluding_tax) FILTER (WHERE reversed_on <= :today), 0)
    FROM payment_transaction_rows
    """
)

REFERENCE_DAILY_REVENUE_SQL = text(
    """
    WITH movements AS (
        SELECT GREATEST(added_on, CAST(:opening_day AS date)) AS day, SUM(amount_excluding_tax) AS amount
        FROM payment_transaction_rows
        WHERE added_on <= :last_day
        GROUP BY 1
        UNION ALL
        SELECT GREATEST(reversed_on, CAST(:opening_day AS date)), -SUM(amount_excluding_tax)
        FROM payment_transaction_rows
        WHERE reversed_on <= :last_day
        GROUP BY 1
    ),
    daily AS (SELECT day, SUM(amount) AS amount FROM movements GROUP BY day)
    SELECT d::date AS day, COALESCE(SUM(daily.amount) OVER (ORDER BY d), 0) AS revenue
    FROM generate_series(CAST(:opening_day AS date), CAST(:last_day AS date), interval '1 day') AS d
    LEFT JOIN daily ON daily.day = d::date
    ORDER BY d
    """
)

REFERENCE_TENANT_CLASSES_SQL = text(
    """
    SELECT count(*) AS total,
           count(*) FILTER (WHERE t.state = 'Active' AND t.plan <> 'Basis') AS active,
           count(*) FILTER (WHERE t.state = 'Active' AND t.plan = 'Basis' AND NOT COALESCE(paid, false)) AS trial,
           count(*) FILTER (WHERE t.plan = 'Basis' AND COALESCE(paid, false)) AS canceled,
           count(*) FILTER (WHERE t.plan = 'Basis' AND NOT COALESCE(paid, false)) AS free
    FROM tenants AS t
    LEFT JOIN LATERAL (
        SELECT jsonb_path_exists(s.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")')
            AS paid
        FROM subscriptions AS s WHERE s.tenant_id = t.id
    ) AS s ON true
    WHERE t.deleted_at IS NULL
    """
)


def at(days_ago: int, hour: int = 9, minute: int = 0) -> datetime:
    day = TODAY - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def random_instant(rng: random.Random, days: int = 200) -> datetime:
    return at(rng.randint(-2, days), rng.randint(0, 23), rng.randint(0, 59))


def window_params(period: int = 90) -> dict[str, Any]:
    windows = DayWindows.ending(NOW, period)
    return {"loaded_from": windows.loaded_from, "loaded_until": windows.loaded_until}


# --- logins -------------------------------------------------------------------

EMAILS = ["ada@example.com", "bob@example.com", "cyd@example.com", "dan@example.com", "Eve@example.com"]
EXTERNAL_RESULTS = [None, "Success", "Success", "IdentityProviderError", "LoginExpired"]


def login_days(conn: Connection) -> dict[date, tuple[int, int, int]]:
    """Every day of the 90-day trend (current and prior window) as (value, failed, distinct users)."""
    result = trends(conn, 90, NOW).login_activity
    return {p.date: (p.value, p.failed, p.distinct_users) for p in result.prior_points + result.points}


def reference_login_days(conn: Connection) -> dict[date, tuple[int, int, int]]:
    windows = DayWindows.ending(NOW, 90)
    found = {
        row.day: (row.value, row.failed, row.distinct_users)
        for row in conn.execute(REFERENCE_LOGIN_ACTIVITY_SQL, window_params())
    }
    return {day: found.get(day, (0, 0, 0)) for day in windows.prior_days + windows.current_days}


def assert_login_summaries_exact(conn: Connection) -> None:
    assert login_days(conn) == reference_login_days(conn)
    # No reference count is left at zero or below, and each matches the rows.
    stored = dict(conn.execute(text("SELECT (day, email)::text, successes FROM login_user_days")).all())
    counted = dict(
        conn.execute(
            text(
                """
                SELECT (day, email)::text, count(*) FROM (
                    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, email FROM email_logins WHERE completed
                    UNION ALL
                    SELECT (created_at AT TIME ZONE 'UTC')::date, email FROM external_logins
                    WHERE login_result = 'Success' AND email IS NOT NULL
                ) AS successes GROUP BY 1
                """
            )
        ).all()
    )
    assert stored == counted


def random_login_rows(rng: random.Random, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    email_rows, external_rows = [], []
    for _ in range(count):
        created = random_instant(rng)
        if rng.random() < 0.5:
            email_rows.append(
                {
                    "id": ids.prefixed("emlog", created, rng),
                    "created_at": created,
                    "type": "Login",
                    "email": rng.choice(EMAILS),
                    "one_time_password_hash": "hash",
                    "retry_count": rng.randint(0, 4),
                    "resend_count": 0,
                    "completed": rng.random() < 0.6,
                }
            )
        else:
            external_rows.append(
                {
                    "id": ids.prefixed("exlog", created, rng),
                    "created_at": created,
                    "type": "Login",
                    "provider_type": "Google",
                    "email": rng.choice(EMAILS + [None]),
                    "code_verifier": "v",
                    "nonce": "n",
                    "browser_fingerprint": "f",
                    "login_result": rng.choice(EXTERNAL_RESULTS),
                }
            )
    return email_rows, external_rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_login_activity_matches_the_login_rows_through_inserts_updates_and_deletes(conn: Connection, seed: int) -> None:
    rng = random.Random(seed)
    # Many rows in one statement, then one row per statement.
    email_rows, external_rows = random_login_rows(rng, 120)
    conn.execute(insert(EmailLogin).values(email_rows))
    conn.execute(insert(ExternalLogin).values(external_rows))
    for _ in range(15):
        f.email_login(conn, rng.choice(EMAILS), created_at=random_instant(rng), completed=rng.random() < 0.5)
        f.external_login(
            conn, rng.choice(EMAILS + [None]), created_at=random_instant(rng), result=rng.choice(EXTERNAL_RESULTS)
        )
    assert_login_summaries_exact(conn)

    email_ids = [row["id"] for row in email_rows]
    external_ids = [row["id"] for row in external_rows]
    for _ in range(40):
        email_id, external_id = rng.choice(email_ids), rng.choice(external_ids)
        match rng.randint(0, 4):
            case 0:
                conn.execute(update(EmailLogin).where(EmailLogin.id == email_id).values(completed=True))
            case 1:
                retried = {"retry_count": EmailLogin.retry_count + 1}
                conn.execute(update(EmailLogin).where(EmailLogin.id == email_id).values(**retried))
            case 2:
                moved = {"created_at": random_instant(rng), "email": rng.choice(EMAILS)}
                conn.execute(update(EmailLogin).where(EmailLogin.id == email_id).values(**moved))
            case 3:
                conn.execute(
                    update(ExternalLogin)
                    .where(ExternalLogin.id == external_id)
                    .values(login_result=rng.choice(EXTERNAL_RESULTS), email=rng.choice(EMAILS + [None]))
                )
            case 4:
                moved = {"created_at": random_instant(rng)}
                conn.execute(update(ExternalLogin).where(ExternalLogin.id == external_id).values(**moved))
    assert_login_summaries_exact(conn)

    # One statement updating many rows of the same days and e-mails.
    conn.execute(update(EmailLogin).where(EmailLogin.email == EMAILS[0]).values(completed=True))
    conn.execute(update(ExternalLogin).where(ExternalLogin.email == EMAILS[1]).values(login_result="LoginExpired"))
    assert_login_summaries_exact(conn)

    conn.execute(delete(EmailLogin).where(EmailLogin.id.in_(rng.sample(email_ids, len(email_ids) // 2))))
    conn.execute(delete(ExternalLogin).where(ExternalLogin.email == EMAILS[2]))
    assert_login_summaries_exact(conn)


def test_login_rows_copied_in_bulk_and_truncated_are_counted(conn: Connection) -> None:
    rng = random.Random(11)
    email_rows, external_rows = random_login_rows(rng, 300)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    for table, rows in (("email_logins", email_rows), ("external_logins", external_rows)):
        columns = list(rows[0])
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[column] for column in columns])
    assert_login_summaries_exact(conn)
    assert sum(value for value, _, _ in login_days(conn).values()) > 0

    conn.execute(text("TRUNCATE email_logins"))
    assert_login_summaries_exact(conn)
    conn.execute(text("TRUNCATE external_logins"))
    assert login_days(conn) == reference_login_days(conn)
    assert conn.execute(text("SELECT count(*) FROM login_day_counts")).scalar_one() == 0


def test_a_user_with_several_successes_on_a_day_counts_once_until_the_last_goes(conn: Connection) -> None:
    first = f.email_login(conn, "ada@example.com", created_at=at(1, 8))
    second = f.external_login(conn, "ada@example.com", created_at=at(1, 20))
    assert login_days(conn)[TODAY - timedelta(days=1)] == (2, 0, 1)

    conn.execute(delete(EmailLogin).where(EmailLogin.id == first))
    assert login_days(conn)[TODAY - timedelta(days=1)] == (1, 0, 1)
    conn.execute(update(ExternalLogin).where(ExternalLogin.id == second).values(login_result="NonceMismatch"))
    assert login_days(conn)[TODAY - timedelta(days=1)] == (0, 1, 0)
    assert conn.execute(text("SELECT count(*) FROM login_user_days")).scalar_one() == 0


# --- users --------------------------------------------------------------------


def assert_user_figures_exact(conn: Connection) -> None:
    for period in (7, 30, 90):
        windows = DayWindows.ending(NOW, period)
        found = dict(conn.execute(REFERENCE_NEW_USERS_SQL, window_params(period)).all())
        result = trends(conn, period, NOW).new_users
        assert [p.value for p in result.prior_points + result.points] == [
            found.get(day, 0) for day in windows.prior_days + windows.current_days
        ]
        expected = conn.execute(REFERENCE_USER_COUNTS_SQL, {"period_start": NOW - timedelta(days=period)}).one()
        figures = kpis(conn, period, NOW, None)
        assert (figures.total_users, figures.active_users_in_period) == (expected.total, expected.active_in_period)


@pytest.mark.parametrize("seed", [1, 2])
def test_new_and_active_users_match_the_user_rows(conn: Connection, seed: int) -> None:
    rng = random.Random(seed)
    acme = f.tenant(conn)

    def maybe(instant: datetime) -> datetime | None:
        return None if rng.random() < 0.15 else instant

    users = [
        {
            "tenant_id": acme.id,
            "id": ids.prefixed("usr", NOW, rng),
            "created_at": random_instant(rng),
            "deleted_at": maybe(NOW) if rng.random() < 0.3 else None,
            "last_seen_at": maybe(random_instant(rng, 120)),
            "email": f"user{index}@example.com",
            "email_confirmed": True,
            "role": "Member",
        }
        for index in range(150)
    ]
    conn.execute(insert(User).values(users))
    for _ in range(10):
        f.user(conn, acme.id, created_at=random_instant(rng), last_seen_at=maybe(random_instant(rng, 40)))
    # The users of a deleted account count nowhere (docs/rules.md R78).
    gone = f.tenant(conn, name="Gone", deleted_at=NOW)
    for _ in range(5):
        f.user(conn, gone.id, created_at=random_instant(rng), last_seen_at=maybe(random_instant(rng, 40)))
    assert_user_figures_exact(conn)

    user_ids = [user["id"] for user in users]
    for _ in range(60):
        user_id = rng.choice(user_ids)
        change = rng.choice(
            [
                {"last_seen_at": maybe(random_instant(rng, 100))},
                {"last_seen_at": NOW - timedelta(minutes=rng.randint(0, 30))},
                {"deleted_at": maybe(NOW)},
                {"created_at": random_instant(rng)},
                {"email_confirmed": False},
            ]
        )
        conn.execute(update(User).where(User.id == user_id).values(**change))
    assert_user_figures_exact(conn)

    # The period's first day is cut at the instant: a user seen that morning is not active.
    f.user(conn, acme.id, last_seen_at=NOW - timedelta(days=7, hours=1))
    f.user(conn, acme.id, last_seen_at=NOW - timedelta(days=7) + timedelta(hours=1))
    assert_user_figures_exact(conn)

    later = {"last_seen_at": User.last_seen_at + timedelta(hours=13)}
    conn.execute(update(User).where(User.tenant_id == acme.id).values(**later))
    conn.execute(delete(User).where(User.id.in_(rng.sample(user_ids, 40))))
    assert_user_figures_exact(conn)


# --- billing events -------------------------------------------------------------

AMOUNTS = [None, D("0"), D("49.99"), D("149.00"), D("299.00")]


def billing_row(
    rng: random.Random, tenant: f.TenantRef, index: int, occurred: datetime | None = None
) -> dict[str, Any]:
    occurred = occurred or random_instant(rng)
    moving = rng.random() < 0.8
    event_id = f"evt_{rng.choice('aAbB')}{index:05d}"
    event_type = "SubscriptionRenewed" if moving else "NoOp"
    return {
        "tenant_id": tenant.id,
        "id": ids.billing_event_id(tenant.subscription_id, event_type, event_id, occurred),
        "subscription_id": tenant.subscription_id,
        "created_at": occurred,
        "stripe_event_id": event_id,
        "event_type": event_type,
        "new_amount": rng.choice(AMOUNTS),
        "amount_delta": D("1") if moving else None,
        "committed_mrr": D("0"),
        "occurred_at": occurred,
    }


def assert_mrr_exact(conn: Connection) -> None:
    first, last = TODAY - timedelta(days=210), TODAY + timedelta(days=3)
    expected = conn.execute(
        REFERENCE_DAILY_MRR_SQL,
        {
            "first_day": first,
            "last_day": last,
            "window_start": datetime.combine(first, datetime.min.time(), UTC),
            "window_end": datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
        },
    ).all()
    assert [(p.date, p.monthly_recurring_revenue) for p in daily_mrr(conn, first, last)] == [
        (row.day, row.mrr) for row in expected
    ]
    for period in (7, 30, 90):  # the windows the screens ask for
        windows = DayWindows.ending(NOW, period)
        points = daily_mrr(conn, windows.prior_start, windows.today)
        assert points == [p for p in daily_mrr(conn, first, last) if windows.prior_start <= p.date <= windows.today]
    assert latest_mrr(conn) == conn.execute(REFERENCE_LATEST_MRR_SQL).scalar_one()
    # The daily totals are the per-subscription changes summed, day by day.
    per_day = "SELECT day, SUM(change) FROM {} GROUP BY day HAVING SUM(change) <> 0 ORDER BY day"
    assert (
        conn.execute(text(per_day.format("mrr_days"))).all()
        == conn.execute(text(per_day.format("mrr_day_changes"))).all()
    )
    unsynced = conn.execute(REFERENCE_UNSYNCED_COUNT_SQL).scalar_one()
    assert unsynced_summary(conn).unsynced_subscriptions_count == unsynced


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_daily_mrr_matches_the_ledger_through_inserts_updates_and_deletes(conn: Connection, seed: int) -> None:
    rng = random.Random(seed)
    tenants = [f.tenant(conn, plan=rng.choice(["Standard", "Premium"])) for _ in range(6)]
    index = iter(range(100_000))
    # Several subscriptions in one statement, out of time order, then single rows.
    conn.execute(insert(BillingEvent).values([billing_row(rng, rng.choice(tenants), next(index)) for _ in range(60)]))
    rows = []
    for _ in range(25):
        row = billing_row(rng, rng.choice(tenants), next(index))
        conn.execute(insert(BillingEvent).values(row))
        rows.append(row)
    # Same-instant rows: the ordinal Stripe event id decides.
    instant = at(3, 10)
    for event_id, amount in (("evt_B", D("149.00")), ("evt_a", D("0"))):
        row = billing_row(rng, tenants[0], next(index), occurred=instant) | {"stripe_event_id": event_id}
        conn.execute(insert(BillingEvent).values(row | {"new_amount": amount, "amount_delta": D("1")}))
    assert_mrr_exact(conn)

    event_ids = [row["id"] for row in rows]
    for _ in range(20):
        event_id = rng.choice(event_ids)
        change = rng.choice(
            [
                {"new_amount": rng.choice(AMOUNTS)},
                {"amount_delta": None},
                {"amount_delta": D("5")},
                {"occurred_at": random_instant(rng)},
                {"subscription_id": rng.choice(tenants).subscription_id},
            ]
        )
        conn.execute(update(BillingEvent).where(BillingEvent.id == event_id).values(**change))
    repriced = update(BillingEvent).where(BillingEvent.subscription_id == tenants[1].subscription_id)
    conn.execute(repriced.values(new_amount=D("10.00")))
    assert_mrr_exact(conn)

    conn.execute(delete(BillingEvent).where(BillingEvent.id.in_(rng.sample(event_ids, 10))))
    conn.execute(delete(BillingEvent).where(BillingEvent.subscription_id == tenants[2].subscription_id))
    assert_mrr_exact(conn)
    # A subscription whose last billing event went is unsynced again.
    assert (
        conn.execute(
            text("SELECT count(*) FROM ledger_subscriptions WHERE subscription_id = :s"),
            {"s": tenants[2].subscription_id},
        ).scalar_one()
        == 0
    )


def test_a_row_dated_in_the_future_moves_only_the_latest_figure(conn: Connection) -> None:
    paid = f.tenant(conn, plan="Premium")
    f.billing_event(conn, paid, "SubscriptionCreated", occurred_at=at(10), previous_amount="0", new_amount="149")
    f.billing_event(conn, paid, "SubscriptionUpgraded", occurred_at=at(-2), previous_amount="149", new_amount="299")

    assert [p.monthly_recurring_revenue for p in daily_mrr(conn, TODAY - timedelta(days=11), TODAY)] == (
        [D("0")] + [D("149")] * 11
    )
    assert latest_mrr(conn) == D("299")
    assert_mrr_exact(conn)


def test_billing_events_copied_in_bulk_and_truncated_are_summarised(conn: Connection) -> None:
    rng = random.Random(5)
    tenants = [f.tenant(conn, plan="Standard") for _ in range(4)]
    f.tenant(conn, plan="Premium")  # priced, never synced
    rows = [billing_row(rng, rng.choice(tenants), index) for index in range(400)]
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY billing_events ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])
    assert_mrr_exact(conn)
    assert unsynced_summary(conn).unsynced_subscriptions_count == 1

    conn.execute(text("TRUNCATE billing_events"))
    assert_mrr_exact(conn)
    assert conn.execute(text("SELECT count(*) FROM ledger_subscriptions")).scalar_one() == 0
    assert conn.execute(text("SELECT count(*) FROM mrr_days")).scalar_one() == 0
    assert unsynced_summary(conn).unsynced_subscriptions_count == 5


# --- tenants --------------------------------------------------------------------


def test_tenant_classes_match_the_payment_rows(conn: Connection) -> None:
    rng = random.Random(3)
    paid = f.payment_transaction()
    refunded = f.payment_transaction(status="Refunded")
    failed = f.payment_transaction(status="Failed")
    for _ in range(40):
        plan = rng.choice(["Basis", "Basis", "Standard", "Premium"])
        made = f.tenant(
            conn,
            plan=plan,
            state=rng.choice(["Active", "Active", "Suspended"]),
            created_at=random_instant(rng),
            deleted_at=NOW if rng.random() < 0.15 else None,
            payment_transactions=rng.choice([[], [paid], [refunded], [failed], [failed, paid]]),
        )
        if rng.random() < 0.1:
            conn.execute(delete(Subscription).where(Subscription.tenant_id == made.id))

    expected = conn.execute(REFERENCE_TENANT_CLASSES_SQL).one()
    figures = kpis(conn, 30, NOW, None)
    distribution = plan_distribution(conn)

    assert (figures.total_tenants, figures.active_tenants, figures.trial_tenants, figures.canceled_tenants) == (
        expected.total,
        expected.active,
        expected.trial,
        expected.canceled,
    )
    assert (
        distribution.total_tenants,
        distribution.trial_tenants,
        distribution.canceled_tenants,
        distribution.free_tenants,
    ) == (expected.total, expected.trial, expected.canceled, expected.free)
    assert expected.canceled > 0 and expected.trial > 0


def assert_total_revenue_exact(conn: Connection) -> None:
    expected_total = conn.execute(REFERENCE_TOTAL_REVENUE_SQL, {"today": TODAY}).scalar_one()
    assert kpis(conn, 30, NOW, None).total_revenue == expected_total
    first, last = TODAY - timedelta(days=40), TODAY + timedelta(days=2)
    expected = conn.execute(REFERENCE_DAILY_REVENUE_SQL, {"opening_day": first - timedelta(days=1), "last_day": last})
    assert [(p.date, p.revenue) for p in daily_revenue(conn, first, last)] == [
        (row.day, row.revenue) for row in list(expected)[1:]
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_revenue_follows_payments_plans_and_tenant_deletion(conn: Connection, seed: int) -> None:
    rng = random.Random(seed)

    def transactions() -> list[dict[str, Any]]:
        return [
            f.payment_transaction(
                amount_excluding_tax=str(rng.choice([49, 149, 299])),
                status=rng.choice(["Succeeded", "Succeeded", "Refunded", "Failed"]),
                date=random_instant(rng, 60),
                CreditNoteUrl=rng.choice([None, None, "https://cn"]),
                RefundedAt=rng.choice([None, random_instant(rng, 30).isoformat()]),
            )
            for _ in range(rng.randint(0, 4))
        ]

    made = [
        f.tenant(
            conn,
            plan=rng.choice(["Basis", "Standard", "Premium"]),
            deleted_at=NOW if rng.random() < 0.2 else None,
            payment_transactions=transactions(),
        )
        for _ in range(30)
    ]
    assert_total_revenue_exact(conn)

    for _ in range(40):
        chosen = rng.choice(made)
        match rng.randint(0, 4):
            case 0:
                f.set_payment_transactions(conn, chosen.id, transactions())
            case 1:
                f.update_subscription(conn, chosen.id, plan=rng.choice(["Basis", "Standard", "Premium"]))
            case 2:
                plan = rng.choice(["Basis", "Standard"])
                conn.execute(update(Tenant).where(Tenant.id == chosen.id).values(plan=plan))
            case 3:
                conn.execute(update(Tenant).where(Tenant.id == chosen.id).values(deleted_at=rng.choice([None, NOW])))
            case 4:
                conn.execute(update(Tenant).where(Tenant.id == chosen.id).values(name="Renamed"))
    assert_total_revenue_exact(conn)

    gone = rng.sample(made, 5)
    conn.execute(delete(Subscription).where(Subscription.tenant_id.in_([t.id for t in gone])))
    assert_total_revenue_exact(conn)
    assert conn.execute(text("SELECT count(*) FROM subscription_revenue WHERE revenue = 0")).scalar_one() == 0

    conn.execute(text("TRUNCATE payment_transaction_rows"))
    assert kpis(conn, 30, NOW, None).total_revenue == D(0)
    assert all(point.revenue == 0 for point in daily_revenue(conn, TODAY - timedelta(days=40), TODAY))


# --- concurrent writers -----------------------------------------------------------


def test_concurrent_first_logins_of_one_user_count_one_distinct_user(engine: Engine) -> None:
    second_writer_waits(
        engine,
        lambda conn: f.email_login(conn, "ada@example.com", created_at=at(1, 8)),
        lambda conn: f.external_login(conn, "ada@example.com", created_at=at(1, 9)),
    )
    with engine.connect() as conn:
        assert login_days(conn)[TODAY - timedelta(days=1)] == (2, 0, 1)
        assert_login_summaries_exact(conn)


def test_concurrent_writers_of_one_subscription_see_each_others_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        paid = f.tenant(conn, plan="Premium")
    second_writer_waits(
        engine,
        lambda conn: f.billing_event(
            conn, paid, "SubscriptionCreated", occurred_at=at(10), previous_amount="0", new_amount="149"
        ),
        lambda conn: f.billing_event(
            conn, paid, "SubscriptionUpgraded", occurred_at=at(5), previous_amount="149", new_amount="299"
        ),
    )
    with engine.connect() as conn:
        assert [p.monthly_recurring_revenue for p in daily_mrr(conn, TODAY - timedelta(days=11), TODAY)] == (
            [D("0")] + [D("149")] * 5 + [D("299")] * 6
        )
        assert_mrr_exact(conn)


def test_a_payment_recorded_while_the_tenant_is_deleted_stays_in_the_total(engine: Engine) -> None:
    with engine.begin() as conn:
        free = f.tenant(conn, plan="Basis", payment_transactions=[f.payment_transaction(amount_excluding_tax="100.00")])
        assert kpis(conn, 30, NOW, None).total_revenue == D("100.00")
    second_writer_waits(
        engine,
        lambda conn: conn.execute(update(Tenant).where(Tenant.id == free.id).values(deleted_at=NOW)),
        lambda conn: f.set_payment_transactions(conn, free.id, [f.payment_transaction(amount_excluding_tax="250.00")]),
    )
    with engine.connect() as conn:
        assert kpis(conn, 30, NOW, None).total_revenue == D("250.00")
        assert_total_revenue_exact(conn)

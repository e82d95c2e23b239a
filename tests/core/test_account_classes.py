"""The class counts of migration 0013 (docs/rules.md R190-R194) give the same
figures as the queries that counted the tenants one by one, after any mix of
inserts, updates, soft and hard deletes, bulk COPY and TRUNCATE, and under
concurrent writers of one tenant.

The REFERENCE_* statements are the plain queries the figures used before:
they read the source tables only."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, text, update

from core import accounts
from core.account_status import HAS_EVER_SUBSCRIBED_SQL, STATUS_PREDICATES, STATUS_SQL, AccountStatus
from core.accounts import AccountFilter, count_accounts
from core.banners import DRIFT_COUNT_SQL, drift_summary, unsynced_summary
from core.dashboard import kpis, plan_distribution
from core.dashboard.kpis import TENANT_COUNTS_SQL, blended_mrr
from core.money import forward_mrr_sql, has_ever_subscribed_sql
from core.paging import MAX_PAGE_SIZE, PageRequest
from db.enums import SubscriptionPlan
from db.models import BillingEvent, Subscription, Tenant
from tests import factories as f
from tests.concurrent_writers import second_writer_waits
from tests.factories import NOW
from tests.query_plans import plan_of, seq_scanned_tables

D = Decimal

REFERENCE_TENANT_COUNTS_SQL = text(
    f"""
    SELECT count(*) AS total,
           count(*) FILTER (WHERE t.state = 'Active' AND t.plan <> 'Basis') AS active,
           count(*) FILTER (WHERE t.state = 'Active' AND t.plan = 'Basis' AND paid.tenant_id IS NULL) AS trial,
           count(*) FILTER (WHERE t.plan = 'Basis' AND paid.tenant_id IS NOT NULL) AS canceled
    FROM tenants AS t
    LEFT JOIN (SELECT s.tenant_id FROM subscriptions AS s WHERE {has_ever_subscribed_sql("s")}) AS paid
        ON paid.tenant_id = t.id
    WHERE t.deleted_at IS NULL
    """
)
REFERENCE_BLENDED_MRR_SQL = text(
    f"SELECT COALESCE(SUM({forward_mrr_sql('s')}), 0) FROM subscriptions AS s WHERE s.plan <> 'Basis'"
)
REFERENCE_PLAN_COUNTS_SQL = text(
    f"""
    SELECT t.plan, count(*) AS tenant_count,
           count(*) FILTER (WHERE paid.tenant_id IS NOT NULL) AS ever_paid,
           count(*) FILTER (WHERE paid.tenant_id IS NULL AND t.state = 'Active') AS active_never_paid
    FROM tenants AS t
    LEFT JOIN (SELECT s.tenant_id FROM subscriptions AS s WHERE {has_ever_subscribed_sql("s")}) AS paid
        ON paid.tenant_id = t.id
    WHERE t.deleted_at IS NULL
    GROUP BY t.plan ORDER BY t.plan
    """
)
REFERENCE_UNSYNCED_COUNT_SQL = text(
    "SELECT count(*) FROM subscriptions AS s WHERE s.current_price_amount IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM billing_events AS b WHERE b.subscription_id = s.id)"
)
REFERENCE_DRIFT_COUNT_SQL = text("SELECT count(*) FROM subscriptions WHERE has_drift_detected")
# Each tenant's class, from the rows themselves (billing_events, not the ledger).
REFERENCE_CLASSES_SQL = text(
    f"""
    SELECT t.id AS tenant_id, t.deleted_at IS NULL AS live, t.plan, t.state = 'Active' AS active,
           {STATUS_SQL} AS status, COALESCE({HAS_EVER_SUBSCRIBED_SQL}, false) AS ever_paid,
           COALESCE(s.current_price_amount IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM billing_events AS b WHERE b.subscription_id = s.id), false)
               AS unsynced,
           COALESCE(s.has_drift_detected, false) AS drift,
           CASE WHEN s.plan <> 'Basis' THEN {forward_mrr_sql("s")} ELSE 0 END AS forward_mrr
    FROM tenants AS t LEFT JOIN subscriptions AS s ON s.tenant_id = t.id
    ORDER BY t.id
    """
)
CLASS_KEY = "live, plan, active, status, ever_paid, unsynced, drift"
STORED_CLASSES_SQL = text(f"SELECT tenant_id, {CLASS_KEY}, forward_mrr FROM account_classes ORDER BY tenant_id")
COUNTS_SQL = text(
    f"SELECT {CLASS_KEY}, sum(tenants) AS tenants, sum(forward_mrr) AS forward_mrr FROM account_class_counts"
    f" GROUP BY {CLASS_KEY} HAVING sum(tenants) <> 0 OR sum(forward_mrr) <> 0 ORDER BY {CLASS_KEY}"
)
REFERENCE_COUNTS_SQL = text(
    f"SELECT {CLASS_KEY}, count(*) AS tenants, sum(forward_mrr) AS forward_mrr"
    f" FROM ({REFERENCE_CLASSES_SQL.text}) AS c GROUP BY {CLASS_KEY} ORDER BY {CLASS_KEY}"
)

FILTERS = [
    AccountFilter(),
    AccountFilter(plans=(SubscriptionPlan.Basis,)),
    AccountFilter(plans=(SubscriptionPlan.Premium, SubscriptionPlan.Standard)),
    AccountFilter(unsynced=True),
    AccountFilter(drift_detected=True),
    AccountFilter(plans=(SubscriptionPlan.Premium,), statuses=(AccountStatus.Canceling,), drift_detected=True),
    AccountFilter(plans=(SubscriptionPlan.Standard,), unsynced=True),
    *(AccountFilter(statuses=(status,)) for status in AccountStatus),
    AccountFilter(statuses=(AccountStatus.Free, AccountStatus.Canceled)),
]


def direct_condition(where: AccountFilter) -> str:
    """An accounts-list filter as written before 0013: the status from the
    subscription rows (STATUS_PREDICATES), not the class."""
    conditions = ["t.deleted_at IS NULL"]
    if where.plans:
        conditions.append("t.plan IN (" + ", ".join(f"'{plan}'" for plan in where.plans) + ")")
    if where.statuses:
        conditions.append("(" + " OR ".join(f"({STATUS_PREDICATES[s]})" for s in where.statuses) + ")")
    if where.unsynced:
        conditions.append(
            "s.current_price_amount IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM billing_events be WHERE be.subscription_id = s.id)"
        )
    if where.drift_detected:
        conditions.append("s.has_drift_detected")
    return " AND ".join(conditions)


def direct_count(conn: Connection, where: AccountFilter) -> int:
    """The accounts total as counted before 0013: every matching tenant."""
    sql = f"SELECT count(*) FROM {accounts.ACCOUNTS_SQL} WHERE {direct_condition(where)}"
    return int(conn.execute(text(sql)).scalar_one())


def assert_pages_match(conn: Connection, where: AccountFilter) -> None:
    """The filtered list holds the tenants the subscription rows say, whichever way its page is found."""
    expected = direct_count(conn, where)
    listed = accounts.list_accounts(
        conn,
        plans=where.plans,
        statuses=where.statuses,
        unsynced=where.unsynced,
        drift_detected=where.drift_detected,
        page=PageRequest(page=1, page_size=MAX_PAGE_SIZE),
    )
    first_ids = conn.execute(
        text(
            f"SELECT t.id FROM {accounts.ACCOUNTS_SQL} WHERE {direct_condition(where)}"
            f" ORDER BY lower(t.name), t.id LIMIT {MAX_PAGE_SIZE}"
        )
    ).scalars()
    assert listed.total == expected, where
    assert [int(row.id) for row in listed.items] == list(first_ids), where


def assert_counts_exact(conn: Connection) -> None:
    assert conn.execute(STORED_CLASSES_SQL).all() == conn.execute(REFERENCE_CLASSES_SQL).all()
    assert conn.execute(COUNTS_SQL).all() == conn.execute(REFERENCE_COUNTS_SQL).all()
    figures = kpis(conn, 30, NOW, None)
    reference = conn.execute(REFERENCE_TENANT_COUNTS_SQL).one()
    assert (figures.total_tenants, figures.active_tenants, figures.trial_tenants, figures.canceled_tenants) == tuple(
        reference
    )
    assert figures.blended_monthly_recurring_revenue == conn.execute(REFERENCE_BLENDED_MRR_SQL).scalar_one()
    assert blended_mrr(conn) == conn.execute(REFERENCE_BLENDED_MRR_SQL).scalar_one()
    plans = {row.plan: row for row in conn.execute(REFERENCE_PLAN_COUNTS_SQL)}
    distribution = plan_distribution(conn)
    assert distribution.total_tenants == reference.total
    assert {share.plan.value: share.count for share in distribution.distribution if share.count} == {
        plan: row.tenant_count for plan, row in plans.items()
    }
    basis = plans.get("Basis")
    assert distribution.canceled_tenants == (basis.ever_paid if basis else 0)
    assert distribution.trial_tenants == (basis.active_never_paid if basis else 0)
    assert (
        unsynced_summary(conn).unsynced_subscriptions_count == conn.execute(REFERENCE_UNSYNCED_COUNT_SQL).scalar_one()
    )
    assert drift_summary(conn).subscriptions_with_drift_count == conn.execute(REFERENCE_DRIFT_COUNT_SQL).scalar_one()
    for where in FILTERS:
        assert count_accounts(conn, where) == direct_count(conn, where), where
        assert_pages_match(conn, where)


# --- writes ---------------------------------------------------------------------

PLANS = ("Basis", "Standard", "Premium")
_event_numbers = itertools.count(1)


def _some_tenant(conn: Connection, rng: random.Random) -> int | None:
    ids = conn.execute(text("SELECT id FROM tenants ORDER BY id")).scalars().all()
    return rng.choice(ids) if ids else None


def _new_tenant(conn: Connection, rng: random.Random) -> None:
    plan = rng.choice(PLANS)
    extra: dict[str, Any] = {}
    if rng.random() < 0.4:
        extra["payment_transactions"] = [f.payment_transaction(status=rng.choice(("Succeeded", "Failed", "Refunded")))]
    if rng.random() < 0.2:
        extra["cancel_at_period_end"] = True
    f.tenant(
        conn,
        plan=plan,
        state=rng.choice(("Active", "Active", "Suspended")),
        deleted_at=NOW if rng.random() < 0.15 else None,
        **extra,
    )


def _change_tenant(conn: Connection, rng: random.Random) -> None:
    tenant_id = _some_tenant(conn, rng)
    if tenant_id is None:
        return
    values = rng.choice(
        [
            {"plan": rng.choice(PLANS)},
            {"state": rng.choice(("Active", "Suspended"))},
            {"deleted_at": NOW},  # soft delete
            {"deleted_at": None},  # undelete
            {"name": "Renamed"},  # moves nothing
        ]
    )
    conn.execute(update(Tenant).where(Tenant.id == tenant_id).values(**values))


def _change_subscription(conn: Connection, rng: random.Random) -> None:
    tenant_id = _some_tenant(conn, rng)
    if tenant_id is None:
        return
    values = rng.choice(
        [
            {"plan": rng.choice(PLANS)},
            {"current_price_amount": rng.choice((None, D("149.00"), D("299.00"), D("99.50")))},
            {"cancel_at_period_end": rng.random() < 0.5},
            {
                "scheduled_plan": rng.choice((None, "Standard")),
                "scheduled_price_amount": rng.choice((None, D("149.00"))),
            },
            {"scheduled_price_amount": rng.choice((None, D("75.25")))},
            {"has_drift_detected": rng.random() < 0.5},
            {"payment_transactions": [f.payment_transaction(status=rng.choice(("Succeeded", "Failed")))]},
            {"payment_transactions": []},
        ]
    )
    if "payment_transactions" in values:
        f.set_payment_transactions(conn, tenant_id, values["payment_transactions"])
    else:
        f.update_subscription(conn, tenant_id, **values)


def _subscription_of(conn: Connection, tenant_id: int) -> str | None:
    sql = text("SELECT id FROM subscriptions WHERE tenant_id = :id")
    found: str | None = conn.execute(sql, {"id": tenant_id}).scalar_one_or_none()
    return found


def _billing_event(conn: Connection, rng: random.Random) -> None:
    tenant_id = _some_tenant(conn, rng)
    if tenant_id is None:
        return
    subscription_id = _subscription_of(conn, tenant_id)
    if subscription_id is None:
        return
    if rng.random() < 0.3:
        conn.execute(delete(BillingEvent).where(BillingEvent.subscription_id == subscription_id))
        return
    f.billing_event(
        conn,
        f.TenantRef(tenant_id, subscription_id),
        rng.choice(("SubscriptionCreated", "NoOp")),
        occurred_at=NOW - timedelta(days=rng.randint(1, 30)),
        new_amount="149",
        previous_amount="0",
        stripe_event_id=f"evt_classes_{next(_event_numbers):06d}",
    )


def _remove_or_restore_subscription(conn: Connection, rng: random.Random) -> None:
    tenant_id = _some_tenant(conn, rng)
    if tenant_id is None:
        return
    subscription_id = _subscription_of(conn, tenant_id)
    if subscription_id is None:
        conn.execute(
            text(
                "INSERT INTO subscriptions (tenant_id, id, created_at, plan, current_price_amount)"
                " VALUES (:id, :sub, now(), 'Premium', 299)"
            ),
            {"id": tenant_id, "sub": f"sub_again_{tenant_id}"},
        )
    else:
        conn.execute(delete(Subscription).where(Subscription.id == subscription_id))


def _hard_delete(conn: Connection, rng: random.Random) -> None:
    tenant_id = _some_tenant(conn, rng)
    if tenant_id is None:
        return
    conn.execute(delete(Subscription).where(Subscription.tenant_id == tenant_id))
    conn.execute(delete(Tenant).where(Tenant.id == tenant_id))


def _many_rows_at_once(conn: Connection, rng: random.Random) -> None:
    statement = rng.choice(
        [
            "UPDATE subscriptions SET cancel_at_period_end = NOT cancel_at_period_end WHERE tenant_id % 3 = 0",
            "UPDATE tenants SET plan = CASE plan WHEN 'Basis' THEN 'Standard' ELSE 'Basis' END WHERE id % 2 = 0",
            "UPDATE tenants SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END WHERE id % 3 = 1",
            "UPDATE subscriptions SET has_drift_detected = true, current_price_amount = 10 WHERE tenant_id % 4 = 1",
        ]
    )
    conn.execute(text(statement))


WRITES: list[Callable[[Connection, random.Random], None]] = [
    _new_tenant,
    _new_tenant,
    _change_tenant,
    _change_tenant,
    _change_subscription,
    _change_subscription,
    _change_subscription,
    _billing_event,
    _billing_event,
    _remove_or_restore_subscription,
    _hard_delete,
    _many_rows_at_once,
]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_class_counts_match_the_rows_through_any_mix_of_writes(conn: Connection, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(12):
        _new_tenant(conn, rng)
    assert_counts_exact(conn)
    for step in range(60):
        rng.choice(WRITES)(conn, rng)
        if step % 6 == 5:
            assert_counts_exact(conn)
    assert_counts_exact(conn)


def test_each_column_the_class_reads_moves_the_figures(conn: Connection) -> None:
    paid = f.tenant(conn, plan="Premium")
    free = f.tenant(conn, plan="Basis")
    assert_counts_exact(conn)
    f.update_subscription(conn, paid.id, cancel_at_period_end=True)
    assert count_accounts(conn, AccountFilter(statuses=(AccountStatus.Canceling,))) == 1
    assert blended_mrr(conn) == D("0")
    f.update_subscription(conn, paid.id, cancel_at_period_end=False, scheduled_plan="Standard")
    f.update_subscription(conn, paid.id, scheduled_price_amount=D("149.00"))
    assert count_accounts(conn, AccountFilter(statuses=(AccountStatus.Downgrading,))) == 1
    assert blended_mrr(conn) == D("149.00")
    f.update_subscription(conn, paid.id, has_drift_detected=True)
    assert count_accounts(conn, AccountFilter(drift_detected=True)) == 1
    f.set_payment_transactions(conn, free.id, [f.payment_transaction()])
    assert kpis(conn, 30, NOW, None).canceled_tenants == 1
    conn.execute(update(Tenant).where(Tenant.id == free.id).values(state="Suspended"))
    conn.execute(update(Tenant).where(Tenant.id == paid.id).values(plan="Basis"))
    assert_counts_exact(conn)
    # A soft-deleted tenant leaves the counts but not the blended MRR (docs/rules.md R191).
    conn.execute(update(Tenant).where(Tenant.id == paid.id).values(deleted_at=NOW))
    assert kpis(conn, 30, NOW, None).total_tenants == 1
    assert blended_mrr(conn) == D("149.00")
    assert_counts_exact(conn)
    conn.execute(update(Tenant).where(Tenant.id == paid.id).values(deleted_at=None))
    assert_counts_exact(conn)


def test_a_first_billing_event_makes_a_subscription_synced_and_its_removal_unsynced(conn: Connection) -> None:
    paid = f.tenant(conn, plan="Standard")
    assert unsynced_summary(conn).unsynced_subscriptions_count == 1
    assert count_accounts(conn, AccountFilter(unsynced=True)) == 1
    f.billing_event(conn, paid, "NoOp", occurred_at=NOW - timedelta(days=2))
    assert unsynced_summary(conn).unsynced_subscriptions_count == 0
    assert count_accounts(conn, AccountFilter(unsynced=True)) == 0
    assert_counts_exact(conn)
    conn.execute(delete(BillingEvent).where(BillingEvent.subscription_id == paid.subscription_id))
    assert unsynced_summary(conn).unsynced_subscriptions_count == 1
    assert_counts_exact(conn)


def test_the_unsynced_sample_names_live_accounts_in_tenant_order(conn: Connection) -> None:
    first = f.tenant(conn, plan="Standard", name="First")
    gone = f.tenant(conn, plan="Standard", name="Gone", deleted_at=NOW)
    synced = f.tenant(conn, plan="Premium", name="Synced")
    f.billing_event(conn, synced, "NoOp", occurred_at=NOW - timedelta(days=1))
    summary = unsynced_summary(conn)
    assert summary.unsynced_subscriptions_count == 2  # the deleted tenant's subscription too
    assert [account.tenant_id for account in summary.accounts] == [str(first.id)]
    assert gone.id not in {int(account.tenant_id) for account in summary.accounts}


def test_rows_copied_in_bulk_and_truncated_are_counted(conn: Connection) -> None:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    tenant_ids = list(range(9_000_001, 9_000_301))
    with cursor.copy("COPY tenants (id, created_at, name, state, plan, deleted_at) FROM STDIN") as copy:
        for index, tenant_id in enumerate(tenant_ids):
            deleted = NOW if index % 10 == 0 else None
            copy.write_row([tenant_id, NOW, f"Bulk {index}", "Active", PLANS[index % 3], deleted])
    with cursor.copy(
        "COPY subscriptions (tenant_id, id, created_at, plan, current_price_amount, cancel_at_period_end) FROM STDIN"
    ) as copy:
        for index, tenant_id in enumerate(tenant_ids[:250]):
            price = None if index % 3 == 0 else D("149.00")
            copy.write_row([tenant_id, f"sub_bulk_{tenant_id}", NOW, PLANS[index % 3], price, index % 7 == 0])
    assert_counts_exact(conn)
    conn.execute(text("TRUNCATE subscriptions CASCADE"))
    assert_counts_exact(conn)
    conn.execute(text("TRUNCATE tenants CASCADE"))
    assert_counts_exact(conn)
    assert conn.execute(text("SELECT count(*) FROM account_classes")).scalar_one() == 0
    assert conn.execute(text("SELECT count(*) FROM account_class_counts")).scalar_one() == 0


def test_truncating_the_ledger_makes_every_priced_subscription_unsynced(conn: Connection) -> None:
    paid = f.tenant(conn, plan="Premium")
    f.billing_event(conn, paid, "NoOp", occurred_at=NOW - timedelta(days=1))
    assert unsynced_summary(conn).unsynced_subscriptions_count == 0
    conn.execute(text("TRUNCATE billing_events"))
    assert unsynced_summary(conn).unsynced_subscriptions_count == 1
    assert_counts_exact(conn)


# --- query plans (docs/rules.md R170) ---------------------------------------------

GROWING_TABLES = {"tenants", "subscriptions", "users", "account_classes", "billing_events"}


def _plans(conn: Connection, statements: list[tuple[str, Any]]) -> list[str]:
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    return [plan_of(conn, sql, params) for sql, params in statements if sql.lstrip().startswith(("SELECT", "WITH"))]


def test_the_counts_read_the_class_counts_and_no_growing_table(
    conn: Connection, statements: list[tuple[str, Any]]
) -> None:
    for _ in range(3):
        f.tenant(conn, plan="Premium")
        f.tenant(conn, plan="Basis")
    statements.clear()
    plan_distribution(conn)
    unsynced_summary(conn)
    blended_mrr(conn)
    for where in FILTERS:
        count_accounts(conn, where)
    conn.execute(TENANT_COUNTS_SQL)
    conn.execute(DRIFT_COUNT_SQL)
    plans = _plans(conn, list(statements))
    assert len(plans) >= len(FILTERS) + 4
    for plan in plans:
        assert not seq_scanned_tables(plan) & GROWING_TABLES, plan
        assert "account_class" in plan, plan


def test_the_unsynced_sample_reads_a_class_index(conn: Connection, statements: list[tuple[str, Any]]) -> None:
    f.tenant(conn, plan="Premium")
    statements.clear()
    unsynced_summary(conn)
    (sample,) = [(sql, params) for sql, params in statements if "LIMIT" in sql]
    (plan,) = _plans(conn, [sample])
    # On three rows the planner may walk the primary key as well as the partial index.
    assert "account_classes" in plan and not seq_scanned_tables(plan) & GROWING_TABLES, plan


# --- concurrent writers of one tenant (docs/rules.md R192) -------------------------


def test_a_tenant_change_and_a_subscription_change_of_one_tenant_both_count(engine: Engine) -> None:
    with engine.begin() as conn:
        paid = f.tenant(conn, plan="Premium")
    second_writer_waits(
        engine,
        lambda conn: conn.execute(update(Tenant).where(Tenant.id == paid.id).values(plan="Basis")),
        lambda conn: f.update_subscription(conn, paid.id, cancel_at_period_end=True),
    )
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT plan, status FROM account_classes WHERE tenant_id = :id"), {"id": paid.id})
        assert tuple(stored.one()) == ("Basis", "Canceling")
        assert_counts_exact(conn)


def test_a_price_change_and_a_first_billing_event_of_one_tenant_both_count(engine: Engine) -> None:
    with engine.begin() as conn:
        paid = f.tenant(conn, plan="Standard")
    second_writer_waits(
        engine,
        lambda conn: f.update_subscription(conn, paid.id, current_price_amount=D("99.00")),
        lambda conn: f.billing_event(
            conn, paid, "NoOp", occurred_at=NOW - timedelta(days=1), stripe_event_id="evt_classes_concurrent"
        ),
    )
    with engine.connect() as conn:
        assert unsynced_summary(conn).unsynced_subscriptions_count == 0
        assert blended_mrr(conn) == D("99.00")
        assert_counts_exact(conn)


@pytest.mark.parametrize(
    "where",
    [
        AccountFilter(statuses=(AccountStatus.Free,)),
        AccountFilter(plans=(SubscriptionPlan.Premium,), statuses=(AccountStatus.Canceling,)),
    ],
    ids=["free", "premium-canceling"],
)
def test_a_status_filter_reads_no_growing_table_whole(
    conn: Connection, statements: list[tuple[str, Any]], where: AccountFilter
) -> None:
    for _ in range(3):
        f.tenant(conn, plan="Premium", cancel_at_period_end=True)
        f.tenant(conn, plan="Basis")
    statements.clear()
    listed = accounts.list_accounts(conn, plans=where.plans, statuses=where.statuses)
    assert listed.total == 3
    pages = [(sql, params) for sql, params in statements if "LIMIT" in sql and "account_classes" in sql]
    (plan,) = _plans(conn, pages)
    assert not seq_scanned_tables(plan) & GROWING_TABLES, plan
    assert "account_classes" in plan, plan


def test_the_unsynced_filter_reads_the_class_index_not_the_billing_events(
    conn: Connection, statements: list[tuple[str, Any]]
) -> None:
    """Before: every priced subscription was asked for a billing event, a
    parallel scan of subscriptions and tenants (95 ms at 100,000 tenants)."""
    for _ in range(3):
        f.tenant(conn, plan="Premium")  # priced, no billing event: unsynced
        f.tenant(conn, plan="Basis")
    statements.clear()
    listed = accounts.list_accounts(conn, unsynced=True)
    assert listed.total == 3
    pages = [(sql, params) for sql, params in statements if "LIMIT" in sql and "account_classes" in sql]
    (plan,) = _plans(conn, pages)
    assert not seq_scanned_tables(plan) & GROWING_TABLES, plan
    assert "billing_events" not in plan and "account_classes" in plan, plan

"""The counts of soft-deleted accounts' rows (migration 0015, docs/rules.md
R220-R224) equal counting those rows one by one after any mix of writes to
billing events, invoice rows (through subscriptions.payment_transactions) and
tenants, bulk statements and TRUNCATE included, and under a soft delete and a
write for the same tenant in two transactions; the list totals read them
instead of joining the deleted tenants to their rows."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from core.billing_events import BillingEventPreset, list_billing_events
from core.invoices import InvoiceSort, InvoiceStatusFilter, list_invoices
from core.paging import PageRequest
from tests import factories as f
from tests.concurrent_writers import second_writer_waits
from tests.query_plans import plan_of, seq_scanned_tables

NOW = f.NOW.replace(hour=13, minute=30)
DAY = timedelta(days=1)

KEPT_EVENTS_SQL = text(
    "SELECT day, event_type, sum(events) FROM deleted_account_event_day_counts GROUP BY 1, 2 HAVING sum(events) <> 0"
)
DIRECT_EVENTS_SQL = text(
    "SELECT (be.occurred_at AT TIME ZONE 'UTC')::date, be.event_type, count(*)"
    " FROM billing_events be JOIN tenants d ON d.id = be.tenant_id WHERE d.deleted_at IS NOT NULL GROUP BY 1, 2"
)
KEPT_ROWS_SQL = text(
    "SELECT row_kind, row_status, sum(invoice_rows) FROM deleted_account_invoice_row_counts"
    " GROUP BY 1, 2 HAVING sum(invoice_rows) <> 0"
)
DIRECT_ROWS_SQL = text(
    "SELECT r.row_kind, r.row_status, count(*) FROM tenants d JOIN payment_transaction_rows p ON p.tenant_id = d.id"
    " CROSS JOIN LATERAL (VALUES ('Invoice', COALESCE(p.invoice_status, '')), (p.reversal_kind, 'Refunded'))"
    "  AS r(row_kind, row_status)"
    " WHERE d.deleted_at IS NOT NULL AND r.row_kind IS NOT NULL GROUP BY 1, 2"
)


def _counted(conn: Connection, sql: Any) -> dict[tuple[Any, ...], int]:
    return {tuple(row[:-1]): int(row[-1]) for row in conn.execute(sql)}


def assert_counts_exact(conn: Connection) -> tuple[int, int]:
    """The kept counts equal a direct count; returns (events, invoice rows) counted."""
    events, rows = _counted(conn, KEPT_EVENTS_SQL), _counted(conn, KEPT_ROWS_SQL)
    assert events == _counted(conn, DIRECT_EVENTS_SQL)
    assert rows == _counted(conn, DIRECT_ROWS_SQL)
    return sum(events.values()), sum(rows.values())


_event_ids = itertools.count(1)


def _event(conn: Connection, tenant_id: int, event_type: str, occurred_at: Any, subscription_id: str = "sub_x") -> None:
    n = next(_event_ids)
    conn.execute(
        text(
            "INSERT INTO billing_events (tenant_id, id, subscription_id, created_at, stripe_event_id, event_type,"
            " committed_mrr, occurred_at) VALUES (:tenant, :id, :sub, :at, :evt, :type, 0, :at)"
        ),
        {
            "tenant": tenant_id,
            "id": f"bilev_deleted_{n}",
            "sub": subscription_id,
            "at": occurred_at,
            "evt": f"evt_deleted_{n}",
            "type": event_type,
        },
    )


def _soft_delete(conn: Connection, tenant_id: int, deleted: bool = True) -> None:
    conn.execute(
        text("UPDATE tenants SET deleted_at = :at WHERE id = :id"), {"at": NOW if deleted else None, "id": tenant_id}
    )


def _transactions(count: int) -> list[dict[str, Any]]:
    """Paid, refunded, credit-noted and failed transactions in turn."""
    shapes = [
        {},
        {"status": "Refunded", "RefundedAt": (NOW - 2 * DAY).isoformat()},
        {"CreditNoteUrl": "https://example.com/cn.pdf", "CreditNotedAt": (NOW - 3 * DAY).isoformat()},
        {"status": "Failed"},
    ]
    return [f.payment_transaction(date=NOW - (i + 5) * DAY, **shapes[i % len(shapes)]) for i in range(count)]


def test_the_counts_follow_every_write_to_events_and_invoice_rows(conn: Connection) -> None:
    live = f.tenant(conn, name="Live", payment_transactions=_transactions(3))
    gone = f.tenant(conn, name="Gone", deleted_at=NOW - DAY, payment_transactions=_transactions(5))
    for days in (0, 1, 2, 40):
        f.billing_event(conn, live, "SubscriptionRenewed", occurred_at=NOW - days * DAY)
        f.billing_event(conn, gone, "PaymentFailed", occurred_at=NOW - days * DAY)
    assert assert_counts_exact(conn) == (4, 5 + 2)  # 5 invoice rows, a refund and a credit note
    # Moves between accounts, days and types.
    conn.execute(
        text("UPDATE billing_events SET tenant_id = :gone WHERE tenant_id = :live AND occurred_at > :t"),
        {"gone": gone.id, "live": live.id, "t": NOW - 1.5 * DAY},
    )
    assert assert_counts_exact(conn) == (6, 7)
    conn.execute(
        text(
            "UPDATE billing_events SET occurred_at = occurred_at - interval '3 days', event_type = 'NoOp'"
            " WHERE tenant_id = :gone AND occurred_at > :t"
        ),
        {"gone": gone.id, "t": NOW - 0.5 * DAY},
    )
    conn.execute(
        text("UPDATE billing_events SET tenant_id = :live WHERE occurred_at < :t"),
        {"live": live.id, "t": NOW - 30 * DAY},
    )
    assert assert_counts_exact(conn) == (5, 7)
    conn.execute(text("DELETE FROM billing_events WHERE tenant_id = :gone AND event_type = 'NoOp'"), {"gone": gone.id})
    assert assert_counts_exact(conn) == (3, 7)
    # Invoice rows change as the existing invoice tests write them.
    f.update_subscription(conn, gone.id, payment_transactions=_transactions(2))
    assert assert_counts_exact(conn) == (3, 3)
    f.update_subscription(conn, live.id, payment_transactions=_transactions(7))
    f.update_subscription(conn, gone.id, payment_transactions=[])
    assert assert_counts_exact(conn) == (3, 0)


def test_the_counts_follow_soft_delete_undelete_and_hard_delete(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme", payment_transactions=_transactions(4))
    for days in (1, 2, 3):
        f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - days * DAY)
    assert assert_counts_exact(conn) == (0, 0)
    _soft_delete(conn, acme.id)
    assert assert_counts_exact(conn) == (3, 4 + 2)
    # Another change of a soft-deleted tenant moves nothing.
    conn.execute(text("UPDATE tenants SET name = 'Acme (closed)', deleted_at = deleted_at - interval '1 day'"))
    assert assert_counts_exact(conn) == (3, 6)
    _soft_delete(conn, acme.id, deleted=False)
    assert assert_counts_exact(conn) == (0, 0)
    _soft_delete(conn, acme.id)
    # A hard delete of a soft-deleted tenant: its subscription (and invoice rows) first, then the tenant;
    # its billing events stay, counted nowhere.
    conn.execute(text("DELETE FROM subscriptions WHERE tenant_id = :id"), {"id": acme.id})
    assert assert_counts_exact(conn) == (3, 0)
    conn.execute(text("DELETE FROM tenants WHERE id = :id"), {"id": acme.id})
    assert assert_counts_exact(conn) == (0, 0)
    assert (
        conn.execute(text("SELECT count(*) FROM billing_events WHERE tenant_id = :id"), {"id": acme.id}).scalar() == 3
    )
    # A tenant inserted already soft-deleted counts the events it already has.
    conn.execute(
        text(
            "INSERT INTO tenants (id, created_at, name, state, plan, deleted_at)"
            " VALUES (:id, :at, 'Acme again', 'Active', 'Basis', :at)"
        ),
        {"id": acme.id, "at": NOW - DAY},
    )
    assert assert_counts_exact(conn) == (3, 0)


def test_bulk_statements_and_truncate_keep_the_counts_exact(conn: Connection) -> None:
    tenants = [f.tenant(conn, name=f"Bulk {i}", payment_transactions=_transactions(i % 4)) for i in range(8)]
    ids = [tenant.id for tenant in tenants]
    conn.execute(
        text(
            "INSERT INTO billing_events (tenant_id, id, subscription_id, created_at, stripe_event_id, event_type,"
            " committed_mrr, occurred_at)"
            " SELECT t, 'bilev_bulk_' || t || '_' || n, 'sub_x', :now - n * interval '7 hours', 'evt_bulk_' || t || '_' || n,"
            " (ARRAY['SubscriptionRenewed', 'PaymentFailed', 'NoOp'])[1 + n % 3], 0, :now - n * interval '7 hours'"
            " FROM unnest(CAST(:ids AS bigint[])) AS t, generate_series(1, 30) AS n"
        ),
        {"ids": ids, "now": NOW},
    )
    conn.execute(text("UPDATE tenants SET deleted_at = :now WHERE id = ANY(:ids)"), {"now": NOW, "ids": ids[::2]})
    assert assert_counts_exact(conn)[0] == 4 * 30
    # Soft-deleted and undeleted in one statement.
    conn.execute(
        text("UPDATE tenants SET deleted_at = CASE WHEN deleted_at IS NULL THEN :now END WHERE id = ANY(:ids)"),
        {"now": NOW, "ids": ids},
    )
    assert assert_counts_exact(conn)[0] == 4 * 30
    conn.execute(text("DELETE FROM billing_events WHERE occurred_at < :t"), {"t": NOW - 5 * DAY})
    conn.execute(text("UPDATE billing_events SET tenant_id = :id"), {"id": ids[1]})
    assert_counts_exact(conn)
    conn.execute(text("TRUNCATE billing_events"))
    assert assert_counts_exact(conn)[0] == 0
    assert conn.execute(text("SELECT count(*) FROM deleted_account_event_day_counts")).scalar_one() == 0
    assert assert_counts_exact(conn)[1] > 0
    conn.execute(text("TRUNCATE payment_transaction_rows"))
    assert assert_counts_exact(conn) == (0, 0)
    f.update_subscription(conn, ids[1], payment_transactions=_transactions(3))
    _event(conn, ids[1], "NoOp", NOW)
    assert assert_counts_exact(conn) == (1, 3 + 2)
    conn.execute(text("TRUNCATE tenants CASCADE"))
    assert assert_counts_exact(conn) == (0, 0)
    assert conn.execute(text("SELECT count(*) FROM deleted_account_invoice_row_counts")).scalar_one() == 0


def test_the_list_totals_equal_a_direct_count(conn: Connection) -> None:
    for i in range(6):
        tenant = f.tenant(
            conn,
            name=f"Shop {i}",
            deleted_at=NOW - DAY if i % 3 == 0 else None,
            payment_transactions=_transactions(i + 1),
        )
        for hours in range(0, 24 * 40, 11 + i):
            f.billing_event(
                conn,
                tenant,
                "SubscriptionCreated" if hours % 2 else "PaymentFailed",
                occurred_at=NOW - timedelta(hours=hours),
            )
    live_events = (
        "SELECT count(*) FROM billing_events be JOIN tenants t ON t.id = be.tenant_id AND t.deleted_at IS NULL"
        " WHERE be.occurred_at BETWEEN :since AND :now AND be.event_type = ANY(:types)"
    )
    for days, preset, types in (
        (30, BillingEventPreset.all, ["SubscriptionCreated", "PaymentFailed"]),
        (90, BillingEventPreset.mrr_impact, ["SubscriptionCreated"]),
    ):
        direct = conn.execute(text(live_events), {"since": NOW - days * DAY, "now": NOW, "types": types}).scalar()
        assert list_billing_events(conn, now=NOW, period_days=days, preset=preset).total == direct > 0
    live_rows = (
        "SELECT count(*) FROM payment_transaction_rows p JOIN tenants t ON t.id = p.tenant_id AND t.deleted_at IS NULL"
        " WHERE {where}"
    )

    def direct(where: str) -> int:
        return int(conn.execute(text(live_rows.format(where=where))).scalar_one())

    assert list_invoices(conn).total == direct("true") + direct("p.reversal_kind IS NOT NULL") > 0
    paid = list_invoices(conn, statuses=[InvoiceStatusFilter.Paid, InvoiceStatusFilter.HasCreditNote])
    assert paid.total == direct("p.invoice_status = 'Succeeded'") + direct("p.reversal_kind = 'CreditNote'") > 0
    # The status sort skips whole statuses by the same counts.
    by_status = list_invoices(conn, sort=InvoiceSort.status, page=PageRequest(2, 5))
    assert by_status.total == list_invoices(conn).total and len(by_status.items) == 5


# --- the totals read the kept counts (docs/rules.md R223) ----------------------------

GROWING_TABLES = {"tenants", "billing_events", "payment_transaction_rows"}


def _plans(conn: Connection, statements: list[tuple[str, Any]], marker: str) -> list[str]:
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    return [plan_of(conn, sql, params) for sql, params in statements if marker in sql]


def test_the_totals_read_the_kept_counts_not_the_deleted_tenants_rows(
    conn: Connection, statements: list[tuple[str, Any]]
) -> None:
    for i in range(4):
        tenant = f.tenant(
            conn, name=f"Shop {i}", deleted_at=NOW if i == 0 else None, payment_transactions=_transactions(3)
        )
        f.billing_event(conn, tenant, "SubscriptionCreated", occurred_at=NOW - 3 * DAY)
    statements.clear()
    list_billing_events(conn, now=NOW, period_days=30)
    list_billing_events(conn, now=NOW, period_days=90, preset=BillingEventPreset.mrr_impact)
    event_totals = _plans(conn, list(statements), "billing_event_day_counts")
    assert len(event_totals) == 2
    for plan in event_totals:
        assert not seq_scanned_tables(plan) & GROWING_TABLES, plan
        assert "deleted_account_event_day_counts" in plan, plan
        # No walk of the deleted accounts' events by tenant.
        assert "ix_billing_events_tenant_id_occurred_at_type" not in plan, plan
    assert not any(
        "JOIN billing_events" in sql and "deleted_at IS NOT NULL" in sql
        for sql, _ in statements
        if "billing_event_day_counts" in sql
    )
    statements.clear()
    list_invoices(conn)
    list_invoices(conn, sort=InvoiceSort.status, page=PageRequest(2, 2))
    counts = [(sql, params) for sql, params in statements if "invoice_row_counts" in sql]
    assert any("deleted_account_invoice_row_counts" in sql for sql, _ in counts)
    assert not any("payment_transaction_rows" in sql or "tenants" in sql for sql, _ in counts)
    for plan in _plans(conn, list(statements), "invoice_row_counts"):
        assert not seq_scanned_tables(plan) & GROWING_TABLES, plan


# --- a soft delete and a write for the same tenant in two transactions (R222) -------------


def _committed_counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return assert_counts_exact(conn)


@pytest.mark.parametrize("soft_delete_first", [True, False])
def test_a_soft_delete_and_an_event_in_two_transactions_count_the_event_once(
    engine: Engine, soft_delete_first: bool
) -> None:
    with engine.begin() as conn:
        acme = f.tenant(conn, name="Acme")
        _event(conn, acme.id, "NoOp", NOW - DAY)
    # The event names no subscription: its only lock on the tenant is the count's (R222).
    delete: Callable[[Connection], None] = lambda conn: _soft_delete(conn, acme.id)  # noqa: E731
    write: Callable[[Connection], None] = lambda conn: _event(conn, acme.id, "PaymentFailed", NOW, "sub_none")  # noqa: E731
    first, second = (delete, write) if soft_delete_first else (write, delete)
    second_writer_waits(engine, first, second)
    assert _committed_counts(engine) == (2, 0)


@pytest.mark.parametrize("soft_delete_first", [True, False])
def test_a_soft_delete_and_an_invoice_row_in_two_transactions_count_the_row_once(
    engine: Engine, soft_delete_first: bool
) -> None:
    with engine.begin() as conn:
        acme = f.tenant(conn, name="Acme", payment_transactions=_transactions(1))
    delete: Callable[[Connection], None] = lambda conn: _soft_delete(conn, acme.id)  # noqa: E731
    write: Callable[[Connection], None] = lambda conn: f.update_subscription(  # noqa: E731
        conn, acme.id, payment_transactions=_transactions(3)
    )
    first, second = (delete, write) if soft_delete_first else (write, delete)
    second_writer_waits(engine, first, second)
    assert _committed_counts(engine) == (0, 3 + 2)

"""The billing event log: newest first, types, search, paging, the period and
the view presets (docs/rules.md R11, R83, R97)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, text

from core.billing_events import BillingEventPreset, list_billing_events, selected_types
from core.paging import PageRequest
from db.enums import BillingEventType as T
from tests import factories as f

NOW = f.NOW
HOUR = timedelta(hours=1)


def test_newest_first_with_plans_and_mrr_impact(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme", plan="Standard", billing_info={"Address": {"Country": "DK"}})
    bravo = f.tenant(conn, name="Bravo", plan="Premium")
    f.billing_event(
        conn, acme, "SubscriptionCreated", occurred_at=NOW - 3 * HOUR, new_amount="149", previous_amount="0"
    )
    f.billing_event(
        conn,
        bravo,
        "SubscriptionUpgraded",
        occurred_at=NOW - HOUR,
        from_plan="Standard",
        to_plan="Premium",
        previous_amount="269",
        new_amount="299",
        committed_mrr="299",
    )
    f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - 2 * HOUR, committed_mrr="149")
    page = list_billing_events(conn, now=NOW, page=PageRequest(1, 10))
    assert page.total == 3
    first, _, last = page.items
    assert (first.event_type, first.tenant_name, first.from_plan, first.to_plan, first.amount_delta) == (
        T.SubscriptionUpgraded,
        "Bravo",
        "Standard",
        "Premium",
        Decimal("30.00"),
    )
    assert (first.committed_mrr, first.new_amount, first.tenant_id) == (
        Decimal("299.00"),
        Decimal("299.00"),
        str(bravo.id),
    )
    assert (last.event_type, last.country) == (T.SubscriptionCreated, "DK")


def test_type_filter(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    for offset, event_type in enumerate(["SubscriptionCreated", "SubscriptionUpgraded", "SubscriptionRenewed"]):
        f.billing_event(conn, acme, event_type, occurred_at=NOW - (offset + 1) * HOUR)
    page = list_billing_events(conn, now=NOW, types=[T.SubscriptionUpgraded])
    assert page.total == 1 and page.items[0].event_type is T.SubscriptionUpgraded


def test_search_by_account_name(conn: Connection) -> None:
    f.billing_event(conn, f.tenant(conn, name="Acme"), "SubscriptionCreated", occurred_at=NOW - HOUR)
    f.billing_event(conn, f.tenant(conn, name="Bravo"), "SubscriptionCreated", occurred_at=NOW - HOUR)
    page = list_billing_events(conn, now=NOW, search=" ACME ")
    assert [row.tenant_name for row in page.items] == ["Acme"]


def test_paging(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    for hours in range(1, 6):
        f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - hours * HOUR)
    first = list_billing_events(conn, now=NOW, page=PageRequest(1, 2))
    second = list_billing_events(conn, now=NOW, page=PageRequest(2, 2))
    assert (first.total, first.total_pages, len(first.items), len(second.items)) == (5, 3, 2, 2)
    assert first.items[0].id != second.items[0].id
    assert [r.occurred_at for r in first.items + second.items] == [NOW - h * HOUR for h in range(1, 5)]
    past_end = list_billing_events(conn, now=NOW, page=PageRequest(4, 2))
    assert (past_end.items, past_end.total) == ([], 5)


def test_same_instant_events_are_ordered_by_id_descending(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    ids = [f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - HOUR) for _ in range(3)]
    assert [row.id for row in list_billing_events(conn, now=NOW).items] == sorted(ids, reverse=True)


@pytest.mark.parametrize("period", [7, 30, 90])
def test_period_bounds_are_inclusive(conn: Connection, period: int) -> None:
    acme = f.tenant(conn, name="Acme")
    start = NOW - timedelta(days=period)
    f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=start - timedelta(seconds=1))
    on_start = f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=start)
    at_now = f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW)
    f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW + timedelta(seconds=1))
    page = list_billing_events(conn, now=NOW, period_days=period)
    assert [row.id for row in page.items] == [at_now, on_start]


def test_empty_log(conn: Connection) -> None:
    page = list_billing_events(conn, now=NOW)
    assert (page.items, page.total) == ([], 0)


def test_noop_is_hidden_unless_asked_for(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    f.billing_event(conn, acme, "NoOp", occurred_at=NOW - HOUR)
    f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - 2 * HOUR)
    assert [r.event_type for r in list_billing_events(conn, now=NOW).items] == [T.SubscriptionRenewed]
    assert [r.event_type for r in list_billing_events(conn, now=NOW, types=[T.NoOp]).items] == [T.NoOp]
    other = list_billing_events(conn, now=NOW, preset=BillingEventPreset.other)
    assert [r.event_type for r in other.items] == [T.NoOp, T.SubscriptionRenewed]


def test_presets_pick_their_types(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    for hours, event_type in enumerate(["SubscriptionCancelled", "SubscriptionSuspended", "PaymentFailed"], start=1):
        f.billing_event(conn, acme, event_type, occurred_at=NOW - hours * HOUR)

    def types(preset: BillingEventPreset, chosen: list[T] | None = None) -> list[T]:
        return [r.event_type for r in list_billing_events(conn, now=NOW, preset=preset, types=chosen or []).items]

    # Both move MRR and both change the subscription's state.
    assert types(BillingEventPreset.mrr_impact) == [T.SubscriptionCancelled, T.SubscriptionSuspended]
    assert types(BillingEventPreset.subscription_state) == [T.SubscriptionCancelled, T.SubscriptionSuspended]
    assert types(BillingEventPreset.other) == [T.PaymentFailed]
    assert types(BillingEventPreset.all) == [T.SubscriptionCancelled, T.SubscriptionSuspended, T.PaymentFailed]
    assert types(BillingEventPreset.mrr_impact, [T.SubscriptionCancelled, T.PaymentFailed]) == [T.SubscriptionCancelled]
    assert selected_types([T.PaymentFailed], BillingEventPreset.mrr_impact) == ()


def test_soft_deleted_accounts_events_are_dropped(conn: Connection) -> None:
    gone = f.tenant(conn, name="Gone", deleted_at=NOW - timedelta(days=1))
    f.billing_event(conn, gone, "SubscriptionCreated", occurred_at=NOW - HOUR)
    f.billing_event(conn, f.tenant(conn, name="Here"), "SubscriptionCreated", occurred_at=NOW - HOUR)
    page = list_billing_events(conn, now=NOW)
    assert (page.total, [r.tenant_name for r in page.items]) == (1, ["Here"])


def test_one_account_whole_history(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    f.billing_event(conn, acme, "SubscriptionCreated", occurred_at=NOW - timedelta(days=400))
    f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - HOUR)
    f.billing_event(conn, f.tenant(conn, name="Other"), "SubscriptionCreated", occurred_at=NOW - HOUR)
    whole = list_billing_events(conn, now=NOW, tenant_id=str(acme.id), period_days=None)
    assert [r.event_type for r in whole.items] == [T.SubscriptionRenewed, T.SubscriptionCreated]
    assert list_billing_events(conn, now=NOW, tenant_id=acme.id).total == 1


def test_the_page_walks_the_occurred_at_index(conn: Connection, statements: list[tuple[str, object]]) -> None:
    """Newest first comes from ix_billing_events_occurred_at_id (migration 0002):
    with sorting priced out of reach the page's plan has no Sort node."""
    f.billing_event(conn, f.tenant(conn, name="Acme"), "SubscriptionCreated", occurred_at=NOW - HOUR)
    list_billing_events(conn, now=NOW)
    page_query, parameters = next((sql, params) for sql, params in statements if "LIMIT" in sql)
    conn.execute(text("SET LOCAL enable_sort = off"))
    conn.execute(text("SET LOCAL enable_incremental_sort = off"))
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = [row[0] for row in conn.exec_driver_sql(f"EXPLAIN {page_query}", parameters)]
    page = subtree(plan, "Subquery Scan on page")
    assert "Index Only Scan using ix_billing_events_occurred_at_id" in page and "Sort" not in page, "\n".join(plan)


def subtree(plan: list[str], node: str) -> str:
    """The lines of a plan node and of everything below it."""
    start = next(i for i, line in enumerate(plan) if node in line)
    depth = len(plan[start]) - len(plan[start].lstrip())
    below = plan[start + 1 :]
    end = next((i for i, line in enumerate(below) if len(line) - len(line.lstrip()) <= depth), len(below))
    return "\n".join([plan[start], *below[:end]])

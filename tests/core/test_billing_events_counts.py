"""Billing event totals of a period come from per-day counters kept by a
trigger (migration 0006) plus the two partial days at the period's ends:
they must equal counting the events one by one, whatever is inserted,
moved or deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, text

from core.billing_events import BillingEventPreset, list_billing_events
from tests import factories as f

NOW = f.NOW.replace(hour=13, minute=30)
HOUR = timedelta(hours=1)


def counted_one_by_one(conn: Connection, days: int, types: tuple[str, ...]) -> int:
    return conn.execute(
        text(
            "SELECT count(*) FROM billing_events be WHERE be.event_type = ANY(:types)"
            " AND be.occurred_at BETWEEN :since AND :now AND NOT EXISTS"
            " (SELECT 1 FROM tenants d WHERE d.id = be.tenant_id AND d.deleted_at IS NOT NULL)"
        ),
        {"types": list(types), "since": NOW - timedelta(days=days), "now": NOW},
    ).scalar_one()


def test_period_totals_match_counting_every_event(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    gone = f.tenant(conn, name="Gone", deleted_at=NOW - timedelta(days=1))
    # Events on both partial end days, on whole days, just outside the period, and of a deleted account.
    for offset in (0, 1, 5, 13, 24, 24 * 6 + 13, 24 * 7 - 1, 24 * 7 + 1, 24 * 29, 24 * 30 + 1, 24 * 40):
        f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - offset * HOUR)
        f.billing_event(conn, gone, "PaymentFailed", occurred_at=NOW - offset * HOUR)
    f.billing_event(conn, acme, "NoOp", occurred_at=NOW - 30 * HOUR)
    f.billing_event(
        conn, acme, "SubscriptionCreated", occurred_at=NOW - timedelta(days=7)
    )  # the period's first instant
    everything_but_noop = ("SubscriptionRenewed", "PaymentFailed", "SubscriptionCreated")
    for days in (7, 30, 90):
        page = list_billing_events(conn, now=NOW, period_days=days)
        assert page.total == counted_one_by_one(conn, days, everything_but_noop) > 0
        mrr = list_billing_events(conn, now=NOW, period_days=days, preset=BillingEventPreset.mrr_impact)
        assert mrr.total == counted_one_by_one(conn, days, ("SubscriptionCreated",))


def test_counters_follow_updates_and_deletes(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme")
    for hours in (30, 60, 90):
        f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - hours * HOUR)
    assert list_billing_events(conn, now=NOW, period_days=7).total == 3
    conn.execute(text("UPDATE billing_events SET occurred_at = occurred_at - interval '20 days'"))
    assert list_billing_events(conn, now=NOW, period_days=7).total == 0
    assert list_billing_events(conn, now=NOW, period_days=30).total == 3
    hidden = {"t": NOW - 22 * 24 * HOUR}
    conn.execute(text("UPDATE billing_events SET event_type = 'NoOp' WHERE occurred_at < :t"), hidden)
    assert list_billing_events(conn, now=NOW, period_days=30).total == 1
    conn.execute(text("DELETE FROM billing_events"))
    assert list_billing_events(conn, now=NOW, period_days=30).total == 0
    assert conn.execute(text("SELECT COALESCE(sum(events), 0) FROM billing_event_day_counts")).scalar_one() == 0


def test_search_total_counts_the_matching_accounts_events(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme Robotics")
    bravo = f.tenant(conn, name="Bravo")
    gone = f.tenant(conn, name="Acme Gone", deleted_at=NOW - timedelta(days=1))
    for tenant in (acme, bravo, gone):
        f.billing_event(conn, tenant, "SubscriptionRenewed", occurred_at=NOW - 2 * HOUR)
        f.billing_event(conn, tenant, "SubscriptionRenewed", occurred_at=NOW - timedelta(days=45))
    page = list_billing_events(conn, now=NOW, search="acme", period_days=30)
    assert (page.total, [row.tenant_name for row in page.items]) == (1, ["Acme Robotics"])
    assert list_billing_events(conn, now=NOW, search="ac", period_days=90).total == 2

"""The billing event log's sorts (docs/rules.md R113): by date (the default,
newest first), event type and account name, both ways, stable on the event
id, paged in the database, and the same rows whatever the sort."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, text

from core.billing_events import BillingEventRow, BillingEventSort, list_billing_events
from core.paging import PageRequest
from db.enums import BillingEventType as T
from tests import factories as f

NOW = f.NOW
HOUR = timedelta(hours=1)


@pytest.fixture
def log(conn: Connection) -> dict[str, str]:
    """Three accounts (one named twice over in another case), four types,
    two events at the same instant."""
    bravo = f.tenant(conn, name="bravo")
    acme = f.tenant(conn, name="Acme")
    zulu = f.tenant(conn, name="Zulu")
    ids = {
        "acme_created": f.billing_event(conn, acme, "SubscriptionCreated", occurred_at=NOW - 5 * HOUR),
        "acme_renewed": f.billing_event(conn, acme, "SubscriptionRenewed", occurred_at=NOW - HOUR),
        "bravo_upgraded": f.billing_event(conn, bravo, "SubscriptionUpgraded", occurred_at=NOW - 3 * HOUR),
        "bravo_failed": f.billing_event(conn, bravo, "PaymentFailed", occurred_at=NOW - 2 * HOUR),
        "zulu_renewed": f.billing_event(conn, zulu, "SubscriptionRenewed", occurred_at=NOW - 2 * HOUR),
        "zulu_created": f.billing_event(conn, zulu, "SubscriptionCreated", occurred_at=NOW - 4 * HOUR),
    }
    return ids


def listed(conn: Connection, sort: BillingEventSort, descending: bool, size: int = 25) -> list[BillingEventRow]:
    rows: list[BillingEventRow] = []
    page_number = 1
    while True:
        page = list_billing_events(conn, now=NOW, sort=sort, descending=descending, page=PageRequest(page_number, size))
        rows += page.items
        if page_number >= page.total_pages:
            return rows
        page_number += 1


def test_date_is_the_default_newest_first_ties_by_id(conn: Connection, log: dict[str, str]) -> None:
    default = list_billing_events(conn, now=NOW).items
    assert default == listed(conn, BillingEventSort.date, True)
    tied = sorted([log["bravo_failed"], log["zulu_renewed"]], reverse=True)
    assert [row.id for row in default] == [
        log["acme_renewed"],
        *tied,
        log["bravo_upgraded"],
        log["zulu_created"],
        log["acme_created"],
    ]
    oldest_first = [row.id for row in listed(conn, BillingEventSort.date, False)]
    assert oldest_first == [row.id for row in reversed(default)]


def test_by_type_both_ways_newest_first_within_a_type(conn: Connection, log: dict[str, str]) -> None:
    ascending = listed(conn, BillingEventSort.event_type, False)
    assert [row.event_type for row in ascending] == [
        T.PaymentFailed,
        T.SubscriptionCreated,
        T.SubscriptionCreated,
        T.SubscriptionRenewed,
        T.SubscriptionRenewed,
        T.SubscriptionUpgraded,
    ]
    assert [row.id for row in ascending[1:5]] == [
        log["zulu_created"],
        log["acme_created"],
        log["acme_renewed"],
        log["zulu_renewed"],
    ]
    descending = listed(conn, BillingEventSort.event_type, True)
    assert [row.event_type for row in descending] == [
        T.SubscriptionUpgraded,
        T.SubscriptionRenewed,
        T.SubscriptionRenewed,
        T.SubscriptionCreated,
        T.SubscriptionCreated,
        T.PaymentFailed,
    ]
    # Within a type the newest still comes first.
    assert [row.id for row in descending[1:3]] == [log["acme_renewed"], log["zulu_renewed"]]


def test_by_account_name_both_ways_case_insensitive(conn: Connection, log: dict[str, str]) -> None:
    ascending = listed(conn, BillingEventSort.tenant_name, False)
    assert [row.tenant_name for row in ascending] == ["Acme", "Acme", "bravo", "bravo", "Zulu", "Zulu"]
    assert [row.id for row in ascending[:2]] == [log["acme_renewed"], log["acme_created"]]
    descending = listed(conn, BillingEventSort.tenant_name, True)
    assert [row.tenant_name for row in descending] == ["Zulu", "Zulu", "bravo", "bravo", "Acme", "Acme"]
    assert [row.id for row in descending[:2]] == [log["zulu_renewed"], log["zulu_created"]]


def test_two_accounts_of_one_name_stay_apart(conn: Connection) -> None:
    first, second = f.tenant(conn, name="Twin"), f.tenant(conn, name="twin")
    for hours, tenant in [(1, first), (2, second), (3, first), (4, second)]:
        f.billing_event(conn, tenant, "SubscriptionRenewed", occurred_at=NOW - hours * HOUR)
    low, high = sorted([first.id, second.id])
    rows = listed(conn, BillingEventSort.tenant_name, False)
    assert [row.tenant_id for row in rows] == [str(low)] * 2 + [str(high)] * 2
    rows = listed(conn, BillingEventSort.tenant_name, True)
    assert [row.tenant_id for row in rows] == [str(high)] * 2 + [str(low)] * 2


@pytest.mark.parametrize("sort", list(BillingEventSort))
@pytest.mark.parametrize("descending", [False, True])
def test_pages_of_one_row_list_every_event_once(
    conn: Connection, log: dict[str, str], sort: BillingEventSort, descending: bool
) -> None:
    one_by_one = listed(conn, sort, descending, size=1)
    assert one_by_one == listed(conn, sort, descending)
    assert sorted(row.id for row in one_by_one) == sorted(log.values())


def test_sorting_keeps_the_filters(conn: Connection, log: dict[str, str]) -> None:
    page = list_billing_events(conn, now=NOW, search="bravo", sort=BillingEventSort.event_type, descending=False)
    assert (page.total, [row.event_type for row in page.items]) == (2, [T.PaymentFailed, T.SubscriptionUpgraded])
    renewed = list_billing_events(
        conn, now=NOW, types=[T.SubscriptionRenewed], sort=BillingEventSort.tenant_name, descending=True
    )
    assert [row.tenant_name for row in renewed.items] == ["Zulu", "Acme"]


def test_deleted_accounts_stay_out_of_the_name_sort(conn: Connection, log: dict[str, str]) -> None:
    conn.execute(text("UPDATE tenants SET deleted_at = :now WHERE name = 'Zulu'"), {"now": NOW})
    page = list_billing_events(conn, now=NOW, sort=BillingEventSort.tenant_name, descending=True)
    assert page.total == 4 and [row.tenant_name for row in page.items] == ["bravo", "bravo", "Acme", "Acme"]


def test_the_type_sort_can_follow_a_given_order_of_every_type(conn: Connection, log: dict[str, str]) -> None:
    """The console sorts types by their labels on screen: it passes every type in that order."""
    order = [
        T.SubscriptionUpgraded,
        T.PaymentFailed,
        *(t for t in T if t not in (T.SubscriptionUpgraded, T.PaymentFailed)),
    ]
    page = list_billing_events(conn, now=NOW, sort=BillingEventSort.event_type, descending=False, type_order=order)
    assert [row.event_type for row in page.items][:2] == [T.SubscriptionUpgraded, T.PaymentFailed]
    backwards = list_billing_events(conn, now=NOW, sort=BillingEventSort.event_type, descending=True, type_order=order)
    assert [row.event_type for row in backwards.items][-2:] == [T.PaymentFailed, T.SubscriptionUpgraded]
    with pytest.raises(ValueError, match="every billing event type"):
        list_billing_events(conn, now=NOW, sort=BillingEventSort.event_type, type_order=[T.PaymentFailed])

"""A search in the console costs the page it shows (docs/rules.md R200-R203):
the accounts, billing events, invoices and users lists count a search's
matches only when a sample says they are few; beyond the cap the total is a
labelled estimate, the pages still list every match once, and the page that
ends the list makes the total exact. The command line counts exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from core import totals, users
from core.accounts import list_accounts
from core.billing_events import list_billing_events
from core.invoices import InvoiceSort, list_invoices
from core.paging import Page, PageRequest
from core.totals import Total, settled_page
from core.users import list_users
from tests import factories as f
from tests.query_plans import plan_of, seq_scanned_tables

NOW = f.NOW
CAP = 5
WIDE = 12  # accounts named "Wide …"; four "Narrow …" and a deleted "Wide" besides
GROWING = {"tenants", "users", "billing_events", "payment_transaction_rows", "subscriptions"}

Lister = Callable[..., Page[Any]]


def accounts(conn: Connection, **kw: Any) -> Page[Any]:
    return list_accounts(conn, **kw)


def billing_events(conn: Connection, **kw: Any) -> Page[Any]:
    return list_billing_events(conn, now=NOW, **kw)


def invoices(conn: Connection, **kw: Any) -> Page[Any]:
    return list_invoices(conn, **kw)


def invoices_by_status(conn: Connection, **kw: Any) -> Page[Any]:
    return list_invoices(conn, sort=InvoiceSort.status, **kw)


def people(conn: Connection, **kw: Any) -> Page[Any]:
    return list_users(conn, **kw)


LISTS = [accounts, billing_events, invoices, invoices_by_status, people]


def key(item: Any) -> str:
    return f"{item.id}:{getattr(item, 'row_kind', '')}"


@pytest.fixture
def wide(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> Connection:
    """Twelve of sixteen live accounts match 'wide', each with two events in
    the period, a paid and a refunded invoice (three invoice rows) and a user;
    the cap is five. The tables are small, so a sample is the whole table."""
    monkeypatch.setattr(totals, "EXACT_UP_TO", CAP)
    monkeypatch.setattr(users, "EXACT_UP_TO", CAP)

    def transactions() -> list[dict[str, Any]]:
        refunded_at = NOW - timedelta(days=4)
        return [
            f.payment_transaction(date=NOW - timedelta(days=3)),
            f.payment_transaction(status="Refunded", date=NOW - timedelta(days=5), RefundedAt=refunded_at),
        ]

    named = [(f"Wide Co {n:02d}", n) for n in range(WIDE)] + [(f"Narrow {n}", 20 + n) for n in range(4)]
    for name, n in named:
        tenant = f.tenant(conn, name=name, payment_transactions=transactions())
        for hours in (n, 100 + n):
            at = NOW - timedelta(hours=hours, minutes=n)
            f.billing_event(conn, tenant, "SubscriptionRenewed", occurred_at=at, new_amount="149", to_plan="Standard")
        f.user(conn, tenant.id, email=f"person{n:02d}@example.test", last_seen_at=NOW - timedelta(minutes=n))
    gone = f.tenant(conn, name="Wide Gone", deleted_at=NOW, payment_transactions=transactions())
    f.billing_event(conn, gone, "SubscriptionRenewed", occurred_at=NOW - timedelta(hours=1), new_amount="1")
    return conn


def every_page(conn: Connection, lister: Lister, size: int, **kw: Any) -> tuple[list[str], list[Page[Any]]]:
    keys: list[str] = []
    pages: list[Page[Any]] = []
    number = 1
    while True:
        page = lister(conn, search="wide", page=PageRequest(number, size), **kw)
        pages.append(page)
        keys += [key(item) for item in page.items]
        if not page.has_next_page or number > 50:
            return keys, pages
        number += 1


@pytest.mark.parametrize("lister", LISTS)
@pytest.mark.parametrize("walk_row_cost", [0, 10**9], ids=["walked", "collected"])
def test_a_large_search_is_estimated_and_pages_list_every_match_once(
    wide: Connection, monkeypatch: pytest.MonkeyPatch, lister: Lister, walk_row_cost: int
) -> None:
    monkeypatch.setattr(totals, "WALK_ROW_COST", walk_row_cost)
    exact_keys, exact_pages = every_page(wide, lister, 5)
    keys, pages = every_page(wide, lister, 5, estimate_large_total=True)
    assert pages[0].total_is_estimate and pages[0].total > CAP
    assert keys == exact_keys and len(set(keys)) == len(keys) == exact_pages[0].total
    assert not pages[-1].total_is_estimate and pages[-1].total == len(keys)  # the last page ends the list


@pytest.mark.parametrize("lister", LISTS)
def test_an_estimate_too_low_still_pages_to_the_end(
    wide: Connection, monkeypatch: pytest.MonkeyPatch, lister: Lister
) -> None:
    """A sample may promise fewer pages than there are: a full page keeps the
    next one open, and the total never falls below the rows passed."""
    monkeypatch.setattr(totals, "rounded_estimate", lambda _estimate, at_least: at_least)
    exact_keys, _ = every_page(wide, lister, 5)
    keys, pages = every_page(wide, lister, 5, estimate_large_total=True)
    assert pages[0].total_is_estimate and pages[0].total == CAP + 1
    assert all(page.total >= page.page * 5 for page in pages[:-1])
    assert keys == exact_keys and (pages[-1].total, pages[-1].total_is_estimate) == (len(keys), False)


@pytest.mark.parametrize("lister", LISTS)
def test_a_page_past_the_end_of_an_estimate_counts_exactly(wide: Connection, lister: Lister) -> None:
    exact = lister(wide, search="wide")
    past = lister(wide, search="wide", page=PageRequest(40, 5), estimate_large_total=True)
    assert (past.items, past.total, past.total_is_estimate) == ([], exact.total, False)


@pytest.mark.parametrize("lister", LISTS)
def test_few_matches_are_counted_exactly_and_none_is_nothing(wide: Connection, lister: Lister) -> None:
    few = lister(wide, search="narrow 1", page=PageRequest(1, 1), estimate_large_total=True)
    assert not few.total_is_estimate
    assert few.total == lister(wide, search="narrow 1").total >= len(few.items) == 1
    none = lister(wide, search="qx", estimate_large_total=True)
    assert (none.items, none.total, none.total_is_estimate) == ([], 0, False)


@pytest.mark.parametrize("lister", LISTS)
def test_the_command_line_counts_exactly(wide: Connection, lister: Lister) -> None:
    page = lister(wide, search="wide", page=PageRequest(1, 5))
    assert not page.total_is_estimate
    assert page.total == len(every_page(wide, lister, 100)[0])


@pytest.mark.parametrize("lister", LISTS)
@pytest.mark.parametrize("walk_row_cost", [0, 10**9], ids=["walked", "collected"])
def test_a_search_reads_by_index_and_stops_at_its_limit(
    wide: Connection,
    statements: list[tuple[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    lister: Lister,
    walk_row_cost: int,
) -> None:
    """With sequential scans priced out, no statement of a search reads a
    growing table whole (the sample reads a few pages of one), and the capped
    count and the page stop at their LIMIT."""
    monkeypatch.setattr(totals, "WALK_ROW_COST", walk_row_cost)
    lister(wide, search="wide", page=PageRequest(2, 5), estimate_large_total=True)
    lister(wide, search="narrow 1", page=PageRequest(1, 1), estimate_large_total=True)
    sent = [(sql, params) for sql, params in statements if "pg_class" not in sql]
    wide.execute(text("SET LOCAL enable_seqscan = off"))
    for sql, params in sent:
        plan = plan_of(wide, sql, params)
        assert not seq_scanned_tables(plan) & GROWING, plan
        if "LIMIT" in sql:
            assert "Limit" in plan, plan
    assert any("LIMIT 6" in sql for sql, _ in sent)  # the capped count of 'narrow 1'


def test_the_users_count_takes_its_two_branches_one_after_the_other(
    wide: Connection, statements: list[tuple[str, Any]]
) -> None:
    """A UNION ALL under one LIMIT may run in parallel workers that each finish
    their branch (docs/rules.md R201): each branch is counted on its own."""
    list_users(wide, search="narrow", estimate_large_total=True)
    counts = [sql for sql, _ in statements if sql.startswith("SELECT count(*) FROM (")]
    assert len(counts) == 2 and not any("UNION ALL" in sql for sql in counts)


def test_an_estimate_never_falls_below_the_rows_passed() -> None:
    full = [object()] * 25
    page = settled_page(full, Total(30, estimated=True), PageRequest(3, 25), lambda: 0)
    assert (page.total, page.total_is_estimate, page.has_next_page) == (76, True, True)
    short = settled_page(full[:3], Total(30, estimated=True), PageRequest(3, 25), lambda: 0)
    assert (short.total, short.total_is_estimate) == (53, False)

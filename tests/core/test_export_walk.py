"""An export walks a whole list in time linear in its rows (docs/rules.md
R225-R229): the rows it writes are the rows read page by page by offset, in
the list's own order, filters and search, for every sort both ways; no
statement after the first page carries an OFFSET, and the statements grow
with rows/page; rows written meanwhile by another connection neither repeat
nor vanish (one snapshot)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from core import export
from core.account_sorts import AccountSort
from core.account_status import AccountStatus
from core.accounts import list_accounts
from core.audit import Action, ActionPath, list_actions, record_action
from core.billing_events import BillingEventPreset, BillingEventSort, list_billing_events
from core.invoices import InvoiceSort, InvoiceStatusFilter, list_invoices
from core.paging import Page, PageRequest
from core.users import UserActivity, list_users
from db.enums import UserRole
from tests import factories as f
from tests.conftest import _libpq
from tests.query_plans import plan_of, seq_scanned_tables

NOW = f.NOW
PAGE_SIZE = 7  # divides none of the lists: many pages, a short last one
NAMES = ["Acme", "acme", "Bravo", "Zulu co", "Delta", "ACME north"]  # ties on lower(name)
FIRST_NAMES = ["Ada", "Grace", "Alan", None]
SEEN = [NOW - timedelta(hours=1), NOW - timedelta(days=2), NOW - timedelta(days=40), None]  # ties on last seen
COUNTRIES = ["DK", "SE", None]
EVENT_TYPES = ["SubscriptionCreated", "SubscriptionRenewed", "PaymentFailed", "SubscriptionUpgraded"]
STATUSES = ["Succeeded", "Failed", "Pending", "Refunded"]

Fetch = Callable[[PageRequest], Page[Any]]
Lister = Callable[[Connection, PageRequest], Page[Any]]


def seed(conn: Connection, tenants: int = 42) -> None:
    """Accounts of every plan and status, with ties on every sort key; their
    users, billing events and invoices (with refunds and credit notes)."""
    for index in range(tenants):
        plan = ["Basis", "Standard", "Premium"][index % 3]
        transactions = []
        if plan != "Basis":
            for number in range(4):
                status = STATUSES[(index + number) % 4]
                day = NOW - timedelta(days=3 * number + index % 2)  # the same dates across accounts
                extra: dict[str, Any] = {}
                if status == "Refunded":
                    extra = {"RefundedAt": (day + timedelta(days=1)).isoformat()}
                    if number % 2:
                        extra.update(CreditNoteUrl="https://stripe/cn.pdf", CreditNotedAt=extra["RefundedAt"])
                amount = ["100.00", "149.00", "299.00"][(index + number) % 3]
                transactions.append(
                    f.payment_transaction(amount_excluding_tax=amount, status=status, date=day, **extra)
                )
        subscription: dict[str, Any] = {}
        if plan != "Basis":
            subscription = {
                "current_price_amount": Decimal(["149.00", "299.00", "99.00"][index % 3]),
                "current_period_end": NOW + timedelta(days=index % 4),
                "cancel_at_period_end": index % 5 == 0,
                "billing_info": {"Address": {"Country": COUNTRIES[index % 3]}},
            }
            if plan == "Premium" and index % 4 == 1:
                subscription["scheduled_plan"] = "Standard"
        tenant = f.tenant(
            conn,
            name=NAMES[index % len(NAMES)],
            plan=plan,
            created_at=NOW - timedelta(days=10 + index % 6),
            deleted_at=NOW - timedelta(days=1) if index % 13 == 12 else None,
            payment_transactions=transactions,
            **subscription,
        )
        for number in range(index % 9):
            f.user(
                conn,
                tenant.id,
                role=["Owner", "Admin", "Member"][number % 3],
                first_name=FIRST_NAMES[(3 * index + number) % 4],
                last_seen_at=SEEN[(index + number) % 4],
                deleted_at=NOW - timedelta(days=1) if number == 7 else None,
            )
        for number in range(index % 3):  # one transaction: every action at the same instant, ties by id
            record_action(
                conn,
                operator=["ops", "alice"][number % 2],
                path=ActionPath.cli,
                action=Action.sync,
                tenant_id=tenant.id,
                details={"number": number},
            )
        for number in range(index % 11):
            f.billing_event(
                conn,
                tenant,
                EVENT_TYPES[(index + number) % 4],
                occurred_at=NOW - timedelta(hours=number % 5, days=30 * (number // 8)),
            )


@pytest.fixture(scope="module")
def seeded_engine(pg_server_url: str, template_url: str) -> Iterator[Engine]:
    """One database for the module (the exports only read)."""
    name = f"t_walk_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"')
    engine = create_engine(make_url(template_url).set(database=name))
    with engine.begin() as conn:
        seed(conn)
    yield engine
    engine.dispose()
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def snapshot(seeded_engine: Engine) -> Iterator[Connection]:
    with seeded_engine.connect() as conn, conn.begin():
        export.one_snapshot(conn)
        yield conn


def by_offset(fetch: Fetch, size: int = PAGE_SIZE) -> list[Any]:
    """The rows as the screens read them: page after page by offset."""
    rows: list[Any] = []
    number = 1
    while True:
        page = fetch(PageRequest(number, size))
        rows += page.items
        if len(page.items) < size or not page.has_next_page:
            return rows
        number += 1


def exported(fetch: Fetch, size: int = PAGE_SIZE) -> list[Any]:
    return list(export.items(fetch, page_size=size))


def accounts(**query: Any) -> Lister:
    return lambda conn, page: list_accounts(conn, page=page, **query)


def users(**query: Any) -> Lister:
    return lambda conn, page: list_users(conn, now=NOW, page=page, **query)


def events(**query: Any) -> Lister:
    return lambda conn, page: list_billing_events(conn, now=NOW, page=page, **query)


def invoices(**query: Any) -> Lister:
    return lambda conn, page: list_invoices(conn, page=page, **query)


def actions(**query: Any) -> Lister:
    return lambda conn, page: list_actions(conn, page=page, **query)


BOTH_WAYS = [False, True]
LISTS: dict[str, Lister] = {
    **{
        f"accounts-{sort}-{'desc' if desc else 'asc'}": accounts(sort=sort, descending=desc)
        for sort in AccountSort
        for desc in BOTH_WAYS
    },
    "accounts-searched": accounts(search="acme", sort=AccountSort.mrr),
    "accounts-searched-estimated": accounts(search="acme", estimate_large_total=True),
    "accounts-filtered": accounts(
        plans=["Premium", "Standard"], statuses=[AccountStatus.Active], sort=AccountSort.status
    ),
    "accounts-status-filtered-desc": accounts(
        statuses=[AccountStatus.Canceling, AccountStatus.Free], sort=AccountSort.status, descending=True
    ),
    "users": users(),
    "users-searched": users(search="gra"),
    "users-searched-by-account": users(search="acme", estimate_large_total=True),
    "users-role": users(roles=[UserRole.Admin]),
    "users-role-estimated": users(roles=[UserRole.Owner, UserRole.Member], estimate_large_total=True),
    "users-active": users(activity=UserActivity.active_7d),
    "users-inactive": users(activity=UserActivity.inactive),
    "users-searched-inactive": users(search="ada", activity=UserActivity.inactive),
    **{
        f"billing-events-{sort}-{'desc' if desc else 'asc'}": events(sort=sort, descending=desc)
        for sort in BillingEventSort
        for desc in BOTH_WAYS
    },
    "billing-events-90-days": events(period_days=90),
    "billing-events-searched": events(search="acme", sort=BillingEventSort.tenant_name),
    "billing-events-searched-estimated": events(search="zulu", estimate_large_total=True),
    "billing-events-preset": events(preset=BillingEventPreset.mrr_impact, sort=BillingEventSort.event_type),
    "billing-events-whole-log": events(period_days=None, search="delta"),
    **{
        f"invoices-{sort}-{'desc' if desc else 'asc'}": invoices(sort=sort, descending=desc)
        for sort in InvoiceSort
        for desc in BOTH_WAYS
    },
    "invoices-searched": invoices(search="acme", sort=InvoiceSort.total),
    "invoices-searched-estimated": invoices(search="bravo", estimate_large_total=True, sort=InvoiceSort.status),
    "invoices-filtered": invoices(
        statuses=[InvoiceStatusFilter.Paid, InvoiceStatusFilter.Refunded], sort=InvoiceSort.status, descending=True
    ),
    "invoices-credit-notes": invoices(statuses=[InvoiceStatusFilter.HasCreditNote], sort=InvoiceSort.tenant_name),
    "audit": actions(),
    "audit-operator": actions(operator="ops"),
}


@pytest.mark.parametrize("name", LISTS)
def test_an_export_writes_the_rows_read_page_by_page(snapshot: Connection, name: str) -> None:
    lister = LISTS[name]
    paged = by_offset(lambda page: lister(snapshot, page))
    assert len(paged) > PAGE_SIZE, "the seed gives every list several pages"
    assert exported(lambda page: lister(snapshot, page)) == paged
    # A page size that is a divisor of nothing else, and the largest.
    assert exported(lambda page: lister(snapshot, page), size=3) == paged
    assert exported(lambda page: lister(snapshot, page), size=100) == paged


def captured(conn: Connection, work: Callable[[], object]) -> list[tuple[str, Any]]:
    """Every statement `work` sends on `conn`, with its parameters (as
    tests/core/conftest.py's `statements`)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        sent.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    return sent


BIG_LISTS = ["accounts-name-asc", "accounts-status-desc", "users", "users-searched", "billing-events-date-desc"]
BIG_LISTS += ["billing-events-searched", "invoices-date-desc", "invoices-status-asc", "invoices-searched", "audit"]


@pytest.mark.parametrize("name", BIG_LISTS)
def test_an_export_sends_no_offset_and_a_statement_or_two_a_page(snapshot: Connection, name: str) -> None:
    lister = LISTS[name]
    rows = len(by_offset(lambda page: lister(snapshot, page)))
    for size in (3, 7, 100):
        sent = captured(snapshot, lambda size=size: exported(lambda page: lister(snapshot, page), size=size))  # type: ignore[misc]
        assert not [sql for sql, _ in sent if "OFFSET" in sql.upper()]
        pages = -(-rows // size) + (rows % size == 0)  # the last page may be an empty one
        # The first page works out the total; each page then reads its rows by key.
        assert len(sent) <= pages + 6, (size, rows, len(sent))


def test_writes_meanwhile_neither_repeat_nor_vanish(engine: Engine) -> None:
    with engine.begin() as conn:
        seed(conn, tenants=30)
    lister = LISTS["accounts-name-asc"]
    with engine.connect() as conn, conn.begin():
        export.one_snapshot(conn)
        before = by_offset(lambda page: lister(conn, page))
        walked = export.items(lambda page: lister(conn, page), page_size=4)
        rows = [next(walked) for _ in range(5)]
        with engine.begin() as other:
            # Accounts that sort first, and the removal of one not yet written.
            for _ in range(6):
                f.tenant(other, name="Aaa first")
            other.execute(text("UPDATE tenants SET deleted_at = now() WHERE id = :id"), {"id": int(before[-1].id)})
        rows += list(walked)
    assert rows == before
    with engine.connect() as conn:
        after = by_offset(lambda page: lister(conn, page))
    assert len(after) == len(before) + 6 - 1  # the writes did happen


WALKS = {
    "users": users(),
    "billing-events": events(),
    "invoices": invoices(),
}


@pytest.mark.parametrize("name", WALKS)
def test_the_default_walks_read_an_index_not_the_whole_table(snapshot: Connection, name: str) -> None:
    """The cursor of a default export walks an index in the list's order: its
    first rows come at once, and no table is read whole to sort it."""
    lister = WALKS[name]
    sent = captured(snapshot, lambda: exported(lambda page: lister(snapshot, page)))
    snapshot.execute(text("SET LOCAL enable_seqscan = off"))
    cursor_sql, params = next((sql, params) for sql, params in sent if "unnest" not in sql and "ORDER BY" in sql)
    plan = plan_of(snapshot, cursor_sql, params)
    assert not seq_scanned_tables(plan) & {"users", "billing_events", "payment_transaction_rows", "tenants"}, plan


def test_an_export_stopped_early_closes_its_cursor_in_its_transaction(seeded_engine: Engine) -> None:
    open_cursors = text("SELECT count(*) FROM pg_cursors")
    with seeded_engine.connect() as conn:
        with conn.begin():
            export.one_snapshot(conn)
            walk = export.pages(lambda page: LISTS["users"](conn, page), page_size=3)
            next(walk)
            assert conn.execute(open_cursors).scalar_one() == 1
            walk.close()
            assert conn.execute(open_cursors).scalar_one() == 0
            late = export.pages(lambda page: LISTS["invoices-date-desc"](conn, page), page_size=3)
            next(late)
        # The transaction is over (the cursor with it): closing sends nothing on the connection.
        sent = captured(conn, late.close)
        assert sent == []


ESTIMATED = {
    "accounts": (accounts(search="acme", estimate_large_total=True), accounts(search="acme")),
    "users-searched": (users(search="acme", estimate_large_total=True), users(search="acme")),
    "users-role": (users(roles=[UserRole.Member], estimate_large_total=True), users(roles=[UserRole.Member])),
    "billing-events": (events(search="acme", estimate_large_total=True), events(search="acme")),
    "invoices": (
        invoices(search="acme", estimate_large_total=True, sort=InvoiceSort.status),
        invoices(search="acme", sort=InvoiceSort.status),
    ),
}


@pytest.mark.parametrize("name", ESTIMATED)
@pytest.mark.parametrize("guess", [0.01, 100], ids=["too-low", "too-high"])
def test_an_estimated_total_never_cuts_an_export_short_nor_stretches_it(
    snapshot: Connection, monkeypatch: pytest.MonkeyPatch, name: str, guess: float
) -> None:
    """A search past the exact cap is an estimate (docs/rules.md R200): the
    export still writes every match, and nothing more, whatever the guess."""
    from core import totals
    from core import users as users_module

    monkeypatch.setattr(totals, "EXACT_UP_TO", 3)
    monkeypatch.setattr(users_module, "EXACT_UP_TO", 3)
    monkeypatch.setattr(
        totals, "rounded_estimate", lambda estimate, at_least: max(at_least, int(float(estimate) * guess))
    )
    estimated, exact = ESTIMATED[name]
    first = estimated(snapshot, PageRequest(1, PAGE_SIZE))
    assert first.total_is_estimate, "the cap makes the total an estimate"
    every_match = by_offset(lambda page: exact(snapshot, page))
    assert len(every_match) > PAGE_SIZE
    assert exported(lambda page: estimated(snapshot, page)) == every_match
    assert by_offset(lambda page: estimated(snapshot, page)) == every_match

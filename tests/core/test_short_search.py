"""Two-character searches go through the search_bigrams() indexes (migration
0007) and find exactly what a plain substring test finds, in every list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, text

from core.accounts import list_accounts
from core.billing_events import list_billing_events
from core.invoices import list_invoices
from core.users import list_users
from tests import factories as f

NOW = f.NOW
TERMS = ["an", "AN", "n.", "@b", "_x", "%y", "zz", "é!"]


@pytest.fixture
def people(conn: Connection) -> Connection:
    banana = f.tenant(conn, name="Banana Republic")
    plain = f.tenant(conn, name="Plain Co", payment_transactions=[f.payment_transaction()])
    f.tenant(conn, name="Gone Banana", deleted_at=NOW)
    f.user(conn, banana.id, email="ann.lee@bar.test", first_name="Ann", last_name="Lee")
    f.user(conn, plain.id, email="bo_x@plain.test", first_name="Zoë", last_name="Zz")
    f.user(conn, plain.id, email="joe%y@plain.test", first_name="Joe", last_name=None)
    f.user(conn, plain.id, email="renée!@plain.test", first_name="René", last_name="É!")
    f.user(conn, plain.id, email="gone.an@plain.test", deleted_at=NOW)
    for tenant in (banana, plain):
        f.billing_event(conn, tenant, "SubscriptionCreated", occurred_at=NOW - timedelta(days=1), new_amount="100")
    return conn


def substring_count(conn: Connection, sql: str, term: str) -> int:
    return conn.execute(text(sql), {"term": term.strip().lower()}).scalar_one()


USERS_SQL = (
    "SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id"
    " WHERE u.deleted_at IS NULL AND t.deleted_at IS NULL AND (strpos(u.email, :term) > 0"
    " OR strpos(lower(COALESCE(u.first_name, '') || ' ' || COALESCE(u.last_name, '')), :term) > 0"
    " OR strpos(lower(t.name), :term) > 0)"
)
ACCOUNTS_SQL = "SELECT count(*) FROM tenants t WHERE t.deleted_at IS NULL AND strpos(lower(t.name), :term) > 0"


@pytest.mark.parametrize("term", TERMS)
def test_users_match_a_plain_substring_test(people: Connection, term: str) -> None:
    assert list_users(people, search=term).total == substring_count(people, USERS_SQL, term)


@pytest.mark.parametrize("term", TERMS)
def test_accounts_match_a_plain_substring_test(people: Connection, term: str) -> None:
    assert list_accounts(people, search=term).total == substring_count(people, ACCOUNTS_SQL, term)


def test_billing_events_and_invoices_find_accounts_by_two_characters(people: Connection) -> None:
    assert list_billing_events(people, now=NOW, search="na").total == 1
    assert list_billing_events(people, now=NOW, search="zz").total == 0
    assert list_invoices(people, search="co").total == 1
    assert list_invoices(people, search="na").total == 0


def test_the_unit_separator_falls_back_to_like(conn: Connection) -> None:
    """search_bigrams() marks its pieces with \\x1f: a term holding it is
    still found, by LIKE alone."""
    acme = f.tenant(conn, name="Odd\x1fName")
    f.user(conn, acme.id, email="odd@example.com")
    assert list_accounts(conn, search="d\x1f").total == 1
    assert list_accounts(conn, search="dn").total == 0  # the dropped separator joins no match


def test_search_bigrams_lists_every_two_character_piece(conn: Connection) -> None:
    pieces = conn.execute(text("SELECT search_bigrams('abcde')")).scalar_one()
    assert {"ab", "bc", "cd", "de"} <= set(pieces)
    assert conn.execute(text("SELECT search_bigrams(E'a\\x1fb')")).scalar_one()[0] == "ab"


@pytest.mark.parametrize(
    ("search", "index"),
    [
        (lambda conn: list_users(conn, search="qx"), "ix_users_search_bigrams"),
        (lambda conn: list_accounts(conn, search="qx"), "ix_tenants_name_bigrams"),
    ],
)
def test_a_two_character_search_names_the_indexed_expression(
    people: Connection, statements: list[tuple[str, object]], search: object, index: str
) -> None:
    """The bigram expressions in core/ are the ones migration 0007 indexes,
    as PostgreSQL itself prints them: otherwise it could not use the index
    and would read every row (2-4 s at a million users)."""
    indexed = people.execute(
        text("SELECT pg_get_expr(indexprs, indrelid) FROM pg_index WHERE indexrelid = CAST(:index AS regclass)"),
        {"index": index},
    ).scalar_one()
    search(people)  # type: ignore[operator]
    count_sql, parameters = next((sql, params) for sql, params in statements if "count(" in sql and "bigram" in sql)
    plan = "\n".join(row[0] for row in people.exec_driver_sql(f"EXPLAIN {count_sql}", parameters))
    assert f"{indexed} @> '{{qx}}'::text[]" in plan, (indexed, plan)

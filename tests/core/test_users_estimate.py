"""A users search matching more than EXACT_UP_TO users shows a sampled
estimate in the console, labelled as one; the page that ends the list and a
page past it give the exact count; the command line always counts exactly."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection

from core import users
from core.jsonable import to_jsonable
from core.paging import Page, PageRequest
from core.totals import rounded_estimate
from core.users import list_users
from tests import factories as f

NOW = f.NOW


@pytest.fixture
def thirty_matches(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> Connection:
    """Thirty of forty users match 'wide'; estimates start above five. The
    tables are small, so the sample is the whole table and exact."""
    monkeypatch.setattr(users, "EXACT_UP_TO", 5)
    wide = f.tenant(conn, name="Wide Open")
    other = f.tenant(conn, name="Other")
    for n in range(20):
        f.user(conn, wide.id, email=f"u{n:02d}@wide.test", last_seen_at=NOW - n * timedelta(minutes=1))
    for n in range(20):
        email = f"wide{n:02d}@other.test" if n < 10 else f"narrow{n:02d}@other.test"
        f.user(conn, other.id, email=email, first_name="Zed", last_name="Zed", last_seen_at=NOW - timedelta(days=1))
    return conn


def test_a_large_match_is_estimated_and_labelled(thirty_matches: Connection) -> None:
    page = list_users(thirty_matches, search="wide", page=PageRequest(1, 10), estimate_large_total=True)
    assert (page.total, page.total_is_estimate, len(page.items)) == (30, True, 10)
    assert page.items[0].email == "u00@wide.test"


def test_the_page_that_ends_the_list_makes_the_total_exact(thirty_matches: Connection) -> None:
    last = list_users(thirty_matches, search="wide", page=PageRequest(2, 25), estimate_large_total=True)
    assert (last.total, last.total_is_estimate, len(last.items)) == (30, False, 5)


def test_a_page_past_the_end_counts_exactly(thirty_matches: Connection) -> None:
    past = list_users(thirty_matches, search="wide", page=PageRequest(9, 25), estimate_large_total=True)
    assert (past.items, past.total, past.total_is_estimate) == ([], 30, False)


def test_few_matches_and_the_command_line_count_exactly(thirty_matches: Connection) -> None:
    few = list_users(thirty_matches, search="u01", estimate_large_total=True)
    assert (few.total, few.total_is_estimate) == (1, False)
    exact = list_users(thirty_matches, search="wide", page=PageRequest(1, 10))
    assert (exact.total, exact.total_is_estimate) == (30, False)


@pytest.mark.parametrize(
    ("estimate", "at_least", "shown"),
    [("45147", 1001, 45000), ("1001", 1001, 1100), ("999499.6", 1001, 990000), ("12.4", 6, 12), ("3", 6, 6)],
)
def test_estimates_keep_two_significant_figures_and_the_counted_floor(estimate: str, at_least: int, shown: int) -> None:
    assert rounded_estimate(Decimal(estimate), at_least) == shown


def test_json_names_an_estimate_only_when_there_is_one() -> None:
    assert "total_is_estimate" not in to_jsonable(Page([], 3, 1, 25))
    assert to_jsonable(Page([], 3000, 1, 25, total_is_estimate=True))["total_is_estimate"] is True


def test_a_full_page_under_an_estimate_may_have_a_next_page() -> None:
    full = [object()] * 25
    assert Page(full, 25, 1, 25, total_is_estimate=True).has_next_page
    assert not Page(full, 25, 1, 25).has_next_page
    assert Page(full, 26, 1, 25).has_next_page

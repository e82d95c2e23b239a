"""A large list's total: exact up to a thousand rows, beyond that an
estimate from a sample of the table, labelled as one (Page.total_is_estimate).
Counting every match of a broad search costs more than the page it heads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from core.listing import contains_check
from core.paging import Page, PageRequest

T = TypeVar("T")

EXACT_UP_TO = 1_000
SAMPLE_ROWS = 5_000
SAMPLE_SEED = 0  # the same search gives the same estimate


def capped_count(conn: Connection, rows_sql: str, params: dict[str, Any], cap: int) -> int | None:
    """How many rows `rows_sql` returns, or None when more than `cap`: the
    count stops at the first row past it."""
    counted = int(conn.execute(text(f"SELECT count(*) FROM ({rows_sql} LIMIT {cap + 1}) capped"), params).scalar_one())
    return counted if counted <= cap else None


def estimated_rows(conn: Connection, table: str) -> float:
    """The planner's own estimate of a table's size (-1 before its first
    ANALYZE): enough to choose a plan or a sample, free to read."""
    return float(
        conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"), {"table": table}
        ).scalar_one()
    )


def sample_percent(conn: Connection, table: str, sized_by: str | None = None) -> Decimal:
    """The percent of `table` a sample reads to see about SAMPLE_ROWS rows of
    `sized_by` (the table itself by default): accounts sampled for their users
    are sampled at the users' rate."""
    rows = estimated_rows(conn, sized_by or table)
    return Decimal(100) if rows <= SAMPLE_ROWS else Decimal(100 * SAMPLE_ROWS) / Decimal(rows)


def sample_of(conn: Connection, table: str, sized_by: str | None = None) -> str:
    """A TABLESAMPLE clause reading about SAMPLE_ROWS rows of `table` (whole
    pages, so it costs a few hundred page reads whatever the table's size)."""
    return sample_clause(sample_percent(conn, table, sized_by))


def sample_clause(percent: Decimal) -> str:
    return f"TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE ({SAMPLE_SEED})"


@dataclass(frozen=True)
class _Sample:
    matched: int
    seen: int
    whole: bool  # a small table is read whole: its figures are exact

    @property
    def share(self) -> Decimal:
        return Decimal(self.matched) / Decimal(self.seen) if self.seen else Decimal(0)


def _sample(
    conn: Connection, table: str, counts_sql: Callable[[str], str], params: dict[str, Any], sized_by: str | None
) -> _Sample:
    percent = sample_percent(conn, table, sized_by)
    matched, seen = conn.execute(text(counts_sql(sample_clause(percent))), params).one()
    return _Sample(int(matched or 0), int(seen or 0), percent == 100)


def sampled_share(
    conn: Connection, table: str, counts_sql: Callable[[str], str], params: dict[str, Any], sized_by: str | None = None
) -> Decimal:
    """The share of rows that match in a sample of `table`: `counts_sql(sample
    clause)` gives the matching rows and all the rows it read (two columns)."""
    return _sample(conn, table, counts_sql, params, sized_by).share


def account_name_share(conn: Connection, params: dict[str, str]) -> Decimal:
    """The share of live accounts whose name contains the search term
    (search_params), in a sample of them: what the billing events, invoices
    and users searches estimate from and choose their plans by."""
    return sampled_share(
        conn,
        "tenants",
        lambda sample: (
            f"SELECT count(*) FILTER (WHERE {contains_check(params, ['lower(t.name)'])}), count(*)"
            f" FROM tenants t {sample} WHERE t.deleted_at IS NULL"
        ),
        params,
    )


def sampled_matches(
    conn: Connection, table: str, counts_sql: Callable[[str], str], params: dict[str, Any], sized_by: str | None = None
) -> Decimal:
    """How many rows match, from a sample as sampled_share takes it: a small
    table is read whole, so the figure is exact; a large one's share is scaled
    to its size (the planner's estimate, free to read)."""
    sample = _sample(conn, table, counts_sql, params, sized_by)
    if sample.whole or not sample.seen:
        return Decimal(sample.matched)
    return sample.share * Decimal(max(0.0, estimated_rows(conn, sized_by or table)))


def rounded_estimate(estimate: Decimal, at_least: int) -> int:
    """Two significant figures, which is all a sample can claim, and never
    fewer than the rows already counted."""
    value = max(estimate, Decimal(at_least))
    rounded = int(value.quantize(Decimal(1)))
    step: int = 10 ** max(0, len(str(rounded)) - 2)
    down = rounded // step * step
    return down if down >= at_least else down + step


# A search's total costs what its page costs (docs/rules.md R200): the matches
# are counted only when a sample says they are few, since an index answers a
# count by reading every entry of the term (a GIN bitmap of all its matches).
COUNT_WHEN_EXPECTED_UNDER = 4  # times the cap: a sample's error stays well inside


@dataclass(frozen=True)
class Total:
    """A list's total, and whether it is a sampled estimate (Page.total_is_estimate)."""

    count: int
    estimated: bool = False


def capped_count_of(conn: Connection, branches: Sequence[str], params: dict[str, Any], cap: int) -> int | None:
    """capped_count over disjoint branches, one after the other, each counted
    only to what the cap still wants: a UNION ALL under one LIMIT can run in
    parallel workers that each finish their own branch (docs/rules.md R201)."""
    counted = 0
    for branch in branches:
        found = capped_count(conn, branch, params, cap - counted)
        if found is None:
            return None
        counted += found
    return counted


def search_total(
    conn: Connection,
    branches: Sequence[str],
    params: dict[str, Any],
    expected: Callable[[], Decimal],
    cap: int | None = None,
) -> Total:
    """A search's total for the console (docs/rules.md R200): `expected` (the
    matches a sample predicts) first; when near the cap or under, the matches
    of `branches` are counted up to the cap and exact; beyond, the sampled
    figure, labelled as an estimate."""
    cap = EXACT_UP_TO if cap is None else cap
    guess = expected()
    if guess < COUNT_WHEN_EXPECTED_UNDER * cap:
        counted = capped_count_of(conn, branches, params, cap)
        if counted is not None:
            return Total(counted)
    return Total(rounded_estimate(guess, at_least=cap + 1), estimated=True)


def settled_page(items: list[T], total: Total, page: PageRequest, exact_count: Callable[[], int]) -> Page[T]:
    """The page under its total. An estimate becomes exact on the page that
    ends the list (a short one), a page past its end counts exactly, and it is
    never less than the rows already passed (docs/rules.md R202)."""
    if not total.estimated:
        return Page(items, total.count, page.page, page.page_size)
    if len(items) < page.page_size and (items or not page.offset):
        return Page(items, page.offset + len(items), page.page, page.page_size)
    if not items:
        return Page(items, exact_count(), page.page, page.page_size)
    seen = page.offset + len(items) + 1  # a full page may have a next one
    return Page(items, max(total.count, seen), page.page, page.page_size, total_is_estimate=True)


# What a row costs each way, in page reads and the work on them: a walked row
# is checked by reading its account by key (a few pages); a match collected
# through a search index is read from the heap and then sorted.
WALK_ROW_COST = 4
COLLECTED_ROW_COST = 2


def walk_is_shorter(matches: int, share: Decimal | None, reach: int, row_cost: int | None = None) -> bool:
    """Whether walking the list's order, checking each row (about reach / share
    rows), costs less than collecting every match and sorting them: a common
    term is walked, a rare one collected, whatever the platform's size
    (docs/rules.md R203). Without a share (an exact count, the command line),
    more than EXACT_UP_TO matches are walked. `row_cost`: a walked row's cost,
    WALK_ROW_COST unless its check reads less."""
    if share is None:
        return matches > EXACT_UP_TO
    cost = WALK_ROW_COST if row_cost is None else row_cost
    return share > 0 and cost * reach < COLLECTED_ROW_COST * matches * share

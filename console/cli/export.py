"""`--csv` and `--all` of every list and report command (docs/rules.md R140-R142).

`--csv` prints the rows as CSV (RFC 4180 quoting by Python's csv module, a
header row of core/export.py's columns, UTF-8); `--json` keeps printing one
JSON document. The two exclude each other (usage error, exit 2).

`--all` prints every page of a list instead of one: pages of 100 rows read
one after the other in one read-only transaction on one snapshot, each
written as it arrives, so memory stays flat however long the list. With
`--csv` that is one header and every row; with `--json` a JSON array of every
item, written element by element (the page fields `total`, `page` and
`page_size` mean nothing for the whole list). `--all` prints no table: it
needs `--csv` or `--json`, and takes no `--page` (usage errors); a
`--page-size` given with it sets the size of the pages read. A reader that
stops reading (`| head`) ends the export quietly, exit 0.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, NoReturn, TypeVar

import typer
from sqlalchemy import Connection

from console.cli.context import app_context
from core import export
from core.dashboard import LoginTrend, MrrTrend, RevenueTrend, Trend, Trends
from core.jsonable import to_jsonable
from core.paging import MAX_PAGE_SIZE, Page, PageRequest

T = TypeVar("T")

CsvOption = typer.Option(False, "--csv", help="Print CSV (a header row, then one row per item) on stdout.")
AllOption = typer.Option(
    False, "--all", help="Every page, streamed (with --csv or --json; --json then prints one array)."
)

PageFetch = Callable[[Connection, PageRequest], Page[T]]


def check(ctx: typer.Context, *, csv_output: bool, json_output: bool, all_pages: bool = False) -> None:
    """The usage errors of the output options (exit 2)."""
    if csv_output and json_output:
        ctx.fail("--csv and --json exclude each other: give one")
    if all_pages and not (csv_output or json_output):
        ctx.fail("--all prints every page as --csv or --json: give one of them")
    if all_pages and _given(ctx, "page"):
        ctx.fail("--all prints every page: leave out --page")


def exported(
    ctx: typer.Context,
    row_type: type[T],
    fetch: PageFetch[T],
    page: PageRequest,
    *,
    csv_output: bool,
    json_output: bool,
    all_pages: bool,
) -> bool:
    """Print a list as asked and say so; False leaves the command its own
    table or one-page JSON document."""
    check(ctx, csv_output=csv_output, json_output=json_output, all_pages=all_pages)
    if not (csv_output or all_pages):
        return False
    page_size = _stream_page_size(ctx, page)
    try:
        with app_context(ctx).reading() as conn:
            if all_pages:
                export.one_snapshot(conn)
                rows = export.items(lambda request: fetch(conn, request), page_size=page_size)
            else:
                rows = (item for item in fetch(conn, page).items)
            with closing(rows):  # a walk's cursor is closed in its transaction (docs/rules.md R229)
                if csv_output:
                    write_csv(row_type, rows)
                else:
                    write_json_array(rows)
            sys.stdout.flush()
    except BrokenPipeError:
        _reader_gone()
    return True


def _reader_gone() -> NoReturn:
    """The reader stopped reading (`| head`): it has what it wanted, so the
    export ends quietly with exit 0, and nothing is flushed into the closed
    pipe at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor (a test's capture)
        pass
    raise SystemExit(0)


def _stream_page_size(ctx: typer.Context, page: PageRequest) -> int:
    """Pages of 100 rows, or of --page-size when it is given."""
    return page.page_size if _given(ctx, "page_size") else MAX_PAGE_SIZE


def _given(ctx: typer.Context, parameter: str) -> bool:
    """Whether the option was on the command line. By the source's name:
    typer carries a click of its own, whose enum is not click's."""
    return getattr(ctx.get_parameter_source(parameter), "name", None) == "COMMANDLINE"


def _stdout() -> IO[str]:
    """Standard output, in UTF-8 whatever the terminal's locale says."""
    out = sys.stdout
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "").replace("_", "")
    if encoding != "utf8" and hasattr(out, "reconfigure"):
        out.reconfigure(encoding="utf-8")
    return out


def write_csv(row_type: type[Any], rows: Iterable[Any], out: IO[str] | None = None) -> int:
    """The header of `row_type`, then one line per row as it comes; the rows written."""
    writer = csv.writer(out or _stdout())
    writer.writerow(export.columns(row_type))
    written = 0
    for row in rows:
        writer.writerow(export.cells(row))
        written += 1
    return written


def write_json_array(rows: Iterable[Any], out: IO[str] | None = None) -> None:
    """A JSON array of the rows, written element by element (docs/rules.md R98)."""
    stream = out or _stdout()
    stream.write("[")
    written = 0
    for row in rows:
        stream.write(",\n  " if written else "\n  ")
        stream.write(json.dumps(to_jsonable(row), ensure_ascii=False))
        written += 1
    stream.write("\n]\n" if written else "]\n")


# -- reports -------------------------------------------------------------------
# A report's CSV rows: one row per day of a trend (the prior period's day
# beside it), one per plan, one per recent item, the KPIs as one row.


@dataclass(frozen=True)
class MrrTrendRow:
    date: dt.date
    monthly_recurring_revenue: Decimal
    prior_date: dt.date | None
    prior_monthly_recurring_revenue: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class RevenueTrendRow:
    date: dt.date
    revenue: Decimal
    prior_date: dt.date | None
    prior_revenue: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class TrendsRow:
    date: dt.date
    new_tenants: int
    new_users: int
    logins: int
    failed_logins: int
    distinct_users: int
    prior_date: dt.date | None
    prior_new_tenants: int | None
    prior_new_users: int | None
    prior_logins: int | None
    prior_failed_logins: int | None
    prior_distinct_users: int | None


def mrr_trend_rows(trend: MrrTrend) -> list[MrrTrendRow]:
    prior = list(trend.prior_points)
    return [
        MrrTrendRow(
            point.date,
            point.monthly_recurring_revenue,
            prior[i].date if i < len(prior) else None,
            prior[i].monthly_recurring_revenue if i < len(prior) else None,
            trend.currency,
        )
        for i, point in enumerate(trend.points)
    ]


def revenue_trend_rows(trend: RevenueTrend) -> list[RevenueTrendRow]:
    prior = list(trend.prior_points)
    return [
        RevenueTrendRow(
            point.date,
            point.revenue,
            prior[i].date if i < len(prior) else None,
            prior[i].revenue if i < len(prior) else None,
            trend.currency,
        )
        for i, point in enumerate(trend.points)
    ]


def trends_rows(trends: Trends) -> list[TrendsRow]:
    def day(trend: Trend | LoginTrend, index: int, prior: bool) -> Any:
        points = trend.prior_points if prior else trend.points
        return points[index] if index < len(points) else None

    rows = []
    for i, tenants in enumerate(trends.new_tenants.points):
        users, logins = day(trends.new_users, i, False), day(trends.login_activity, i, False)
        before = [day(trends.new_tenants, i, True), day(trends.new_users, i, True), day(trends.login_activity, i, True)]
        rows.append(
            TrendsRow(
                tenants.date,
                tenants.value,
                users.value if users else 0,
                logins.value if logins else 0,
                logins.failed if logins else 0,
                logins.distinct_users if logins else 0,
                before[0].date if before[0] else None,
                before[0].value if before[0] else None,
                before[1].value if before[1] else None,
                before[2].value if before[2] else None,
                before[2].failed if before[2] else None,
                before[2].distinct_users if before[2] else None,
            )
        )
    return rows

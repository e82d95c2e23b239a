"""`backoffice billing-events` and `invoices`: the platform-wide billing
event log and invoice list, as one JSON document (--json) or tables."""

from __future__ import annotations

from typing import Any

import typer

from console.cli.context import app_context
from console.cli.export import AllOption, CsvOption, exported
from console.cli.lists import choice, page_line, read
from console.cli.options import JsonOption, PageOption, PageSizeOption, PeriodOption, enum_values, search_option
from console.cli.output import emit_json, emit_table
from console.cli.reports import DASH, Formatter
from core import billing_events, invoices
from core.billing_events import BillingEventPreset, BillingEventSort
from core.clock import utcnow
from core.invoices import InvoiceSort, InvoiceStatusFilter
from core.jsonable import to_jsonable
from core.paging import Page, PageRequest
from db.enums import BillingEventType


def print_billing_events(page: Page[billing_events.BillingEventRow], fmt: Formatter, title: str) -> None:
    emit_table(
        title,
        ["Occurred", "Account", "Event", "Plan", "MRR impact", "MRR after"],
        [
            [
                fmt.moment(e.occurred_at),
                e.tenant_name or DASH,
                e.event_type,
                " → ".join(billing_events.plan_change(e.event_type, e.from_plan, e.to_plan)) or DASH,
                _signed(fmt, e.amount_delta, e.currency),
                fmt.money(e.committed_mrr, e.currency),
            ]
            for e in page.items
        ],
    )


def _signed(fmt: Formatter, amount: Any, currency: str | None) -> str:
    if amount is None:
        return DASH
    text = fmt.money(amount, currency)
    return f"+{text}" if amount > 0 else text


def billing_events_command(
    ctx: typer.Context,
    search: str | None = search_option("Part of the account name."),
    event_type: list[str] | None = typer.Option(
        None, "--type", help="Event types; repeat or comma-separate. Default: all but NoOp."
    ),
    preset: str = typer.Option("all", "--preset", help="all, mrr-impact, subscription-state, other."),
    period: int = PeriodOption,
    sort: str = typer.Option("date", "--sort", help="date, type, tenant-name."),
    desc: bool = typer.Option(True, "--desc/--asc", help="Newest (last in the alphabet) first, or the reverse."),
    page: int = PageOption,
    page_size: int = PageSizeOption,
    json: bool = JsonOption,
    csv: bool = CsvOption,
    all_pages: bool = AllOption,
) -> None:
    """The platform-wide billing event log, newest first unless sorted otherwise."""
    types = enum_values(BillingEventType, event_type, "--type")
    view = choice(BillingEventPreset, preset, "--preset")
    order = choice(BillingEventSort, sort, "--sort")
    now = utcnow()

    def fetch(conn: Any, request: PageRequest) -> Page[billing_events.BillingEventRow]:
        return billing_events.list_billing_events(
            conn,
            now=now,
            search=search,
            types=types,
            preset=view,
            period_days=period,
            sort=order,
            descending=desc,
            page=request,
        )

    request = PageRequest(page, page_size)
    row_type = billing_events.BillingEventRow
    if exported(ctx, row_type, fetch, request, csv_output=csv, json_output=json, all_pages=all_pages):
        return
    result, fmt = read(ctx, lambda conn: fetch(conn, request))
    if json:
        emit_json({**to_jsonable(result), "period": period})
        return
    print_billing_events(result, fmt, f"Billing events, last {period} days")
    page_line(result, "billing events", fmt)


def invoices_command(
    ctx: typer.Context,
    search: str | None = search_option("Part of the account name."),
    status: list[str] | None = typer.Option(
        None, "--status", help="Paid, Refunded, Failed, Pending, HasCreditNote; repeat or comma-separate."
    ),
    sort: str = typer.Option("date", "--sort", help="date, tenant-name, total, status."),
    desc: bool = typer.Option(True, "--desc/--asc", help="Newest (largest) first, or the reverse."),
    page: int = PageOption,
    page_size: int = PageSizeOption,
    json: bool = JsonOption,
    csv: bool = CsvOption,
    all_pages: bool = AllOption,
) -> None:
    """Invoices, refunds and credit notes of every account."""
    statuses = enum_values(InvoiceStatusFilter, status, "--status")
    order = choice(InvoiceSort, sort, "--sort")
    stripe_api_key = app_context(ctx).settings.stripe_api_key  # the mode of the invoices' Stripe links (R120)

    def fetch(conn: Any, request: PageRequest) -> Page[invoices.InvoiceRow]:
        return invoices.list_invoices(
            conn,
            search=search,
            statuses=statuses,
            sort=order,
            descending=desc,
            page=request,
            stripe_api_key=stripe_api_key,
        )

    request = PageRequest(page, page_size)
    if exported(ctx, invoices.InvoiceRow, fetch, request, csv_output=csv, json_output=json, all_pages=all_pages):
        return
    result, fmt = read(ctx, lambda conn: fetch(conn, request))
    if json:
        emit_json(result)
        return
    emit_table(
        "Invoices",
        ["Date", "Account", "Kind", "Plan", "Amount", "VAT", "Total", "Status"],
        [
            [
                fmt.moment(i.date),
                i.tenant_name or DASH,
                i.row_kind,
                i.plan or DASH,
                fmt.money(i.amount_excluding_tax, i.currency),
                fmt.money(i.tax_amount, i.currency),
                fmt.money(i.amount, i.currency),
                i.status,
            ]
            for i in result.items
        ],
    )
    page_line(result, "rows", fmt)


def register(app: typer.Typer) -> None:
    app.command("billing-events")(billing_events_command)
    app.command("invoices")(invoices_command)

"""`backoffice accounts list|show`: the accounts table and one account's
detail, as one JSON document (--json) or tables."""

from __future__ import annotations

from typing import Any

import typer

from console.cli.billing_lists import print_billing_events
from console.cli.context import app_context
from console.cli.export import AllOption, CsvOption, exported
from console.cli.lists import choice, email_status, mrr_cell, page_line, read
from console.cli.options import JsonOption, PageOption, PageSizeOption, enum_values, search_option, tenant_id_argument
from console.cli.output import emit_json, emit_table
from console.cli.reports import DASH, Formatter
from console.findings import english_findings
from core import account_detail, account_users, accounts, billing_events
from core.account_sorts import AccountSort
from core.account_status import AccountStatus, Renewal
from core.clock import utcnow
from core.jsonable import to_jsonable
from core.paging import Page, PageRequest
from db.enums import SubscriptionPlan, UserRole

accounts_app = typer.Typer(help="Accounts: the searchable list and one account's detail.", no_args_is_help=True)

# Sort names in kebab-case (docs/rules.md R95); `monthly-recurring-revenue` is accepted for `mrr` too.
SORT_ALIASES = {"monthly-recurring-revenue": AccountSort.mrr}


@accounts_app.command("list")
def accounts_list(
    ctx: typer.Context,
    search: str | None = search_option("Part of the account name, or its exact id."),
    plan: list[str] | None = typer.Option(None, "--plan", help="Basis, Standard, Premium; repeat or comma-separate."),
    status: list[str] | None = typer.Option(
        None, "--status", help="Active, Downgrading, Canceling, Canceled, Free; repeat or comma-separate."
    ),
    unsynced: bool = typer.Option(False, "--unsynced", help="Only accounts with a price and no billing events."),
    drift: bool = typer.Option(False, "--drift", help="Only accounts with billing drift detected."),
    sort: str = typer.Option(
        "name", "--sort", help="name, plan, mrr, renewal-date, status, country, created-at, modified-at."
    ),
    desc: bool = typer.Option(False, "--desc", help="Sort descending."),
    page: int = PageOption,
    page_size: int = PageSizeOption,
    json: bool = JsonOption,
    csv: bool = CsvOption,
    all_pages: bool = AllOption,
) -> None:
    """The accounts table, sorted by name unless asked otherwise."""
    plans = enum_values(SubscriptionPlan, plan, "--plan")
    statuses = enum_values(AccountStatus, status, "--status")
    order = choice(AccountSort, sort, "--sort", SORT_ALIASES)

    def fetch(conn: Any, request: PageRequest) -> Page[accounts.AccountRow]:
        return accounts.list_accounts(
            conn,
            search=search,
            plans=plans,
            statuses=statuses,
            unsynced=unsynced,
            drift_detected=drift,
            sort=order,
            descending=desc,
            page=request,
        )

    request = PageRequest(page, page_size)
    if exported(ctx, accounts.AccountRow, fetch, request, csv_output=csv, json_output=json, all_pages=all_pages):
        return
    result, fmt = read(ctx, lambda conn: fetch(conn, request))
    if json:
        emit_json(result)
        return
    emit_table(
        "Accounts",
        ["Id", "Name", "Owner", "Plan", "Status", "MRR", "Renewal", "Country", "Signed up"],
        [
            [
                row.id,
                row.name,
                row.owner.display_name if row.owner else DASH,
                row.plan,
                row.status,
                mrr_cell(fmt, row),
                fmt.moment(row.renewal_date),
                row.country or DASH,
                fmt.moment(row.created_at),
            ]
            for row in result.items
        ],
    )
    page_line(result, "accounts", fmt)


@accounts_app.command("show")
def accounts_show(
    ctx: typer.Context,
    tenant_id: int = tenant_id_argument(..., "The account (tenant) id."),
    json: bool = JsonOption,
) -> None:
    """One account: detail, tiles, owners, users, invoices and billing events."""
    context = app_context(ctx)
    now = utcnow()

    def query(conn: Any) -> dict[str, Any]:
        detail = account_detail.account_detail(conn, tenant_id, now, stripe_api_key=context.settings.stripe_api_key)
        return {
            "detail": detail,
            "owners": account_users.tenant_users(conn, tenant_id, roles=[UserRole.Owner]),
            "users": account_users.tenant_users(conn, tenant_id),
            "payment_history": account_detail.payment_history(conn, tenant_id),
            "billing_events": billing_events.list_billing_events(conn, now=now, tenant_id=tenant_id, period_days=None),
        }

    result, fmt = read(ctx, query)
    detail = result.pop("detail")
    if json:
        emit_json({**to_jsonable(detail), **result})
        return
    _print_account(detail, result, fmt)


def _print_account(detail: account_detail.AccountDetail, lists: dict[str, Page[Any]], fmt: Formatter) -> None:
    counts = detail.user_counts
    activation = DASH if counts.activation_percent is None else f"{counts.activation_percent}%"
    emit_table(
        f"{detail.name or DASH} ({detail.id})",
        ["Field", "Value"],
        [
            ["Plan", f"{detail.plan} · {detail.status}" + ("" if detail.state == "Active" else f" · {detail.state}")],
            ["MRR", mrr_cell(fmt, detail)],
            [_RENEWAL_LABELS[detail.renewal], fmt.moment(detail.renewal_date)],
            ["Lifetime value", fmt.money(detail.lifetime_value, detail.currency)],
            ["Subscribed since", fmt.moment(detail.subscribed_since)],
            [
                "Users",
                f"{counts.active_users} / {counts.total_users} active ({activation}) · "
                f"{counts.inactive_users} inactive · {counts.pending_users} pending",
            ],
            ["Country", detail.country or DASH],
            [
                "Payment method",
                f"{detail.payment_method.brand} •••• {detail.payment_method.last4}" if detail.payment_method else DASH,
            ],
            ["Drift", "detected" if detail.has_drift_detected else "none"],
            ["Signed up", fmt.moment(detail.created_at)],
        ],
    )
    print_findings(detail.drift_discrepancies, detail.currency, detail.drift_checked_at, fmt)
    users_page = lists["users"]
    emit_table(
        f"Users ({users_page.total})",
        ["Name", "Email", "Role", "Last seen", "Status"],
        [[u.display_name, u.email, u.role, fmt.moment(u.last_seen_at), email_status(u)] for u in users_page.items],
    )
    payments = lists["payment_history"]
    emit_table(
        f"Invoices ({payments.total})",
        ["Date", "Plan", "Amount", "VAT", "Total", "Status", "Invoice PDF"],
        [
            [
                fmt.moment(p.date),
                p.plan or DASH,
                fmt.money(p.amount_excluding_tax, p.currency),
                fmt.money(p.tax_amount, p.currency),
                fmt.money(p.amount, p.currency),
                _payment_status(p),
                p.invoice_url or DASH,
            ]
            for p in payments.items
        ],
    )
    print_billing_events(lists["billing_events"], fmt, f"Billing events ({lists['billing_events'].total})")


_RENEWAL_LABELS = {Renewal.Renews: "Renews", Renewal.Expires: "Expires", Renewal.Expired: "Expired"}


def print_findings(
    findings: list[account_detail.DriftDiscrepancy], currency: str | None, checked_at: Any, fmt: Formatter
) -> None:
    """The latest drift check's findings in words, ours and Stripe's values side by side."""
    if findings:
        emit_table(
            f"Drift findings (checked {fmt.moment(checked_at)})",
            ["Severity", "Finding"],
            english_findings(findings, currency),
        )


def _payment_status(payment: account_detail.Payment) -> str:
    marks = [str(payment.status)]
    if payment.refunded and payment.status != "Refunded":
        marks.append("refunded")
    if payment.credit_noted:
        marks.append("credit note")
    return ", ".join(marks)


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")

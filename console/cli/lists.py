"""`backoffice accounts list|show`, `users list|show`, `billing-events` and
`invoices`: the read model's lists as one JSON document (--json) or tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional, TypeVar

import typer

from console.cli.context import app_context
from console.cli.options import JsonOption, PageOption, PageSizeOption, PeriodOption, enum_values
from console.cli.output import emit_json, emit_table, stdout
from console.cli.reports import DASH, Formatter
from core import account_detail, account_users, accounts, billing_events, invoices, user_activity, users
from core.accounts import AccountSort, AccountStatus
from core.billing_events import BillingEventPreset
from core.clock import utcnow
from core.invoices import InvoiceSort, InvoiceStatusFilter
from core.jsonable import to_jsonable
from core.paging import Page, PageRequest
from db.enums import BillingEventType, SubscriptionPlan, UserRole

T = TypeVar("T")

accounts_app = typer.Typer(help="Accounts: the searchable list and one account's detail.", no_args_is_help=True)
users_app = typer.Typer(help="Users across every account: the list and one user's detail.", no_args_is_help=True)

# The original's sort names in kebab-case; its long name for MRR is accepted too.
SORT_ALIASES = {"monthly-recurring-revenue": AccountSort.mrr}


def _read(ctx: typer.Context, query: Callable[[Any], T]) -> tuple[T, Formatter]:
    """Run the reads of one command in one read-only transaction."""
    context = app_context(ctx)
    with context.reading() as conn:
        result = query(conn)
    return result, Formatter(context.settings.locale)


def _choice(enum: type[Any], value: str, option: str, aliases: dict[str, Any] | None = None) -> Any:
    """One member by name, case-insensitive (usage error otherwise)."""
    wanted = value.strip().lower()
    if aliases and wanted in aliases:
        return aliases[wanted]
    for member in enum:
        if member.value.lower() == wanted:
            return member
    allowed = ", ".join(member.value for member in enum)
    raise typer.BadParameter(f"unknown value {value!r} for {option}; use one of: {allowed}")


def _page_line(page: Page[Any], noun: str, fmt: Formatter) -> None:
    if page.total_pages:
        stdout.print(f"Page {page.page} of {fmt.number(page.total_pages)} ({fmt.number(page.total)} {noun})")
    else:
        stdout.print(f"No {noun}.")


def _mrr(fmt: Formatter, row: Any) -> str:
    """The current price, and what it becomes at renewal when it changes (backoffice.md 2.4)."""
    if row.monthly_recurring_revenue is None or not row.currency:
        return DASH
    current = fmt.money(row.monthly_recurring_revenue, row.currency)
    if row.mrr_changes_at_renewal:
        return f"{current} → {fmt.money(row.forward_monthly_recurring_revenue, row.currency)}"
    return current


@accounts_app.command("list")
def accounts_list(
    ctx: typer.Context,
    search: Optional[str] = typer.Option(None, "--search", help="Part of the account name, or its exact id."),
    plan: Optional[list[str]] = typer.Option(None, "--plan", help="Basis, Standard, Premium; repeat or comma-separate."),
    status: Optional[list[str]] = typer.Option(
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
) -> None:
    """The accounts table, sorted by name unless asked otherwise."""
    plans = enum_values(SubscriptionPlan, plan, "--plan")
    statuses = enum_values(AccountStatus, status, "--status")
    order = _choice(AccountSort, sort, "--sort", SORT_ALIASES)
    result, fmt = _read(
        ctx,
        lambda conn: accounts.list_accounts(
            conn,
            search=search,
            plans=plans,
            statuses=statuses,
            unsynced=unsynced,
            drift_detected=drift,
            sort=order,
            descending=desc,
            page=PageRequest(page, page_size),
        ),
    )
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
                _mrr(fmt, row),
                fmt.moment(row.renewal_date),
                row.country or DASH,
                fmt.moment(row.created_at),
            ]
            for row in result.items
        ],
    )
    _page_line(result, "accounts", fmt)


@accounts_app.command("show")
def accounts_show(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., help="The account (tenant) id."),
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

    result, fmt = _read(ctx, query)
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
            ["MRR", _mrr(fmt, detail)],
            ["Renewal", fmt.moment(detail.renewal_date)],
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
    users_page = lists["users"]
    emit_table(
        f"Users ({users_page.total})",
        ["Name", "Email", "Role", "Last sign-in", "Status"],
        [[u.display_name, u.email, u.role, fmt.moment(u.last_seen_at), u.status] for u in users_page.items],
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
    _print_billing_events(lists["billing_events"], fmt, f"Billing events ({lists['billing_events'].total})")


def _payment_status(payment: account_detail.Payment) -> str:
    marks = [str(payment.status)]
    if payment.refunded and payment.status != "Refunded":
        marks.append("refunded")
    if payment.credit_noted:
        marks.append("credit note")
    return ", ".join(marks)


def _print_billing_events(page: Page[billing_events.BillingEventRow], fmt: Formatter, title: str) -> None:
    emit_table(
        title,
        ["Occurred", "Account", "Event", "Plan", "MRR impact", "MRR after"],
        [
            [
                fmt.moment(e.occurred_at),
                e.tenant_name or DASH,
                e.event_type,
                f"{e.from_plan or 'Basis'} → {e.to_plan}" if e.to_plan else DASH,
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


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    search: Optional[str] = typer.Option(
        None, "--search", help="E-mail, first or last name, or account name (2 characters or more)."
    ),
    page: int = PageOption,
    page_size: int = PageSizeOption,
    json: bool = JsonOption,
) -> None:
    """Users of every account, most recently signed in first."""
    result, fmt = _read(ctx, lambda conn: users.list_users(conn, search=search, page=PageRequest(page, page_size)))
    if json:
        emit_json(result)
        return
    emit_table(
        "Users",
        ["Id", "Name", "Email", "Account", "Role", "Last sign-in", "Status"],
        [
            [u.id, u.display_name, u.email, u.tenant_name or DASH, u.role, fmt.moment(u.last_seen_at), u.status]
            for u in result.items
        ],
    )
    _page_line(result, "users", fmt)


@users_app.command("show")
def users_show(
    ctx: typer.Context,
    user_id: str = typer.Argument(..., help="The user id (usr_...)."),
    json: bool = JsonOption,
) -> None:
    """One user: memberships, tiles, sign-ins of the last 30 days and sessions."""
    now = utcnow()

    def query(conn: Any) -> dict[str, Any]:
        detail = users.user_detail(conn, user_id, now)
        return {
            "detail": detail,
            "sessions": user_activity.sessions(conn, detail.email),
            "login_history": user_activity.login_history(conn, detail.email, now=now),
        }

    result, fmt = _read(ctx, query)
    detail = result.pop("detail")
    if json:
        emit_json({**to_jsonable(detail), **result})
        return
    tiles = detail.tiles
    emit_table(
        f"{detail.display_name} ({detail.id})",
        ["Field", "Value"],
        [
            ["Email", f"{detail.email} ({'confirmed' if detail.email_confirmed else 'pending'})"],
            ["Account memberships", fmt.number(tiles.memberships)],
            ["Active sessions", fmt.number(tiles.active_sessions)],
            ["Logins in last 30 days", fmt.number(tiles.logins_last_30_days)],
            ["Last sign-in", fmt.moment(detail.last_seen_at)],
            ["Created", fmt.moment(detail.created_at)],
        ],
    )
    emit_table(
        "Memberships",
        ["Account", "Plan", "Status", "Role", "MRR", "Renewal"],
        [[m.tenant_name or DASH, m.plan, m.status, m.role, _mrr(fmt, m), fmt.moment(m.renewal_date)] for m in detail.memberships],
    )
    logins = result["login_history"]
    emit_table(
        f"Sign-ins, last 30 days ({logins.total})",
        ["When", "Method", "Outcome", "IP", "Device"],
        [
            [
                fmt.moment(a.occurred_at),
                a.method,
                a.failure_reason or a.outcome,
                a.ip_address or DASH,
                f"{a.device_type} · {a.browser}" if a.device_type else DASH,
            ]
            for a in logins.items
        ],
    )
    sessions = result["sessions"]
    emit_table(
        f"Sessions ({sessions.total})",
        ["Last seen", "Account", "Browser", "Device", "IP", "Status"],
        [
            [
                fmt.moment(s.last_seen_at),
                s.tenant_name or DASH,
                f"{s.browser} · {s.operating_system}",
                s.device_type,
                s.ip_address,
                f"Revoked ({s.revoked_reason})" if s.revoked else "Active",
            ]
            for s in sessions.items
        ],
    )


def billing_events_command(
    ctx: typer.Context,
    search: Optional[str] = typer.Option(None, "--search", help="Part of the account name."),
    event_type: Optional[list[str]] = typer.Option(
        None, "--type", help="Event types; repeat or comma-separate. Default: all but NoOp."
    ),
    preset: str = typer.Option("all", "--preset", help="all, mrr-impact, subscription-state, other."),
    period: int = PeriodOption,
    page: int = PageOption,
    page_size: int = PageSizeOption,
    json: bool = JsonOption,
) -> None:
    """The platform-wide billing event log, newest first."""
    types = enum_values(BillingEventType, event_type, "--type")
    view = _choice(BillingEventPreset, preset, "--preset")
    result, fmt = _read(
        ctx,
        lambda conn: billing_events.list_billing_events(
            conn, now=utcnow(), search=search, types=types, preset=view, period_days=period,
            page=PageRequest(page, page_size),
        ),
    )
    if json:
        emit_json({**to_jsonable(result), "period": period})
        return
    _print_billing_events(result, fmt, f"Billing events, last {period} days")
    _page_line(result, "billing events", fmt)


def invoices_command(
    ctx: typer.Context,
    search: Optional[str] = typer.Option(None, "--search", help="Part of the account name."),
    status: Optional[list[str]] = typer.Option(
        None, "--status", help="Paid, Refunded, Failed, Pending, HasCreditNote; repeat or comma-separate."
    ),
    sort: str = typer.Option("date", "--sort", help="date, tenant-name, total, status."),
    desc: bool = typer.Option(True, "--desc/--asc", help="Newest (largest) first, or the reverse."),
    page: int = PageOption,
    page_size: int = PageSizeOption,
    json: bool = JsonOption,
) -> None:
    """Invoices, refunds and credit notes of every account."""
    statuses = enum_values(InvoiceStatusFilter, status, "--status")
    order = _choice(InvoiceSort, sort, "--sort")
    result, fmt = _read(
        ctx,
        lambda conn: invoices.list_invoices(
            conn, search=search, statuses=statuses, sort=order, descending=desc, page=PageRequest(page, page_size)
        ),
    )
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
    _page_line(result, "rows", fmt)


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(users_app, name="users")
    app.command("billing-events")(billing_events_command)
    app.command("invoices")(invoices_command)

"""What the tabs of one account show: the Overview's blocks (drift note,
owners, current plan) and the paged lists of the Users, Invoices and Billing
events tabs, with the short previews of the last two on the Overview."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.binding import BindingsMap
from textual.widgets import Static

from console.findings import finding_text, severity_text
from console.formatting import DASH, ago, moment, money, short_date, short_datetime
from console.i18n import t
from console.keys import binding, keys_in
from console.widgets.badges import (
    country_text,
    credit_applied,
    event_badge,
    invoice_amounts,
    mrr_text,
    payment_status_badge,
    plan_badge,
    plan_transition,
    renewal_label,
    role_text,
    signed_money_text,
    status_badge,
    stripe_link,
    user_status_badge,
)
from console.widgets.columns import (
    PREFIXED_ID_WIDTH,
    ago_width,
    datetime_width,
    event_width,
    invoice_width,
    money_width,
    signed_money_width,
    transition_width,
    widest,
)
from console.widgets.filter_dialog import FilterDialog, FilterGroup
from console.widgets.page_table import CursorPlace
from console.widgets.paged_list import Cell, Column, PagedList
from core.account_detail import AccountDetail, Payment, payment_history
from core.account_users import TenantUser, tenant_users
from core.audit import Action, ActionRow, list_actions
from core.billing_events import BillingEventRow, list_billing_events
from core.paging import Page, PageRequest
from core.users import ROLE_ORDER
from db.enums import SubscriptionPlan, UserRole

PREVIEW_ROWS = 3


@dataclass(frozen=True)
class TenantQuery:
    tenant_id: str
    now: datetime
    search: str = ""
    roles: tuple[UserRole, ...] = ()  # the Users tab's role filter


# -- the tab lists -------------------------------------------------------------


class TenantUsersList(PagedList[TenantQuery, TenantUser]):
    """The Users tab's list. `f` picks roles (the lists' filter dialog), `c`
    clears them; the line above the table names the roles chosen
    (docs/rules.md R110). The roles stay with the list while the search changes."""

    COLUMNS = (
        Column("name", "account.users.column.name", width=24, flex=True),
        Column("email", "account.users.column.email", width=24, drop=2, flex=True),
        Column("role", "account.users.column.role", width=lambda: widest(role_text(role) for role in UserRole), drop=3),
        Column(
            "status",
            "account.users.column.status",
            width=lambda: widest(user_status_badge(c) for c in (True, False)),
            drop=1,
        ),
        Column("last_seen", "account.users.column.last_seen", width=ago_width),
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=4),
    )
    NOUN = "users.count"
    ORDER = "list.order.by_name"
    CONTACT = "list.copy.email"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.roles: frozenset[UserRole] = frozenset()
        # The lists' own `f` and `c` (console/keys.py), bound here: the tab is not a list screen.
        self._bindings = BindingsMap(
            [
                *(b for _, b in self._bindings),
                *(binding(entry) for entry in keys_in("list") if entry.action in ROLE_FILTER_ACTIONS),
            ]
        )

    def compose(self) -> ComposeResult:
        yield Static("", id="account-users-filters", classes="list-filters")
        yield from super().compose()

    def on_mount(self) -> None:
        self._show_roles()

    def load(self, query: TenantQuery, *, page: int = 1, cursor: CursorPlace = "first") -> None:
        roles = tuple(role for role in ROLE_ORDER if role in self.roles)
        super().load(replace(query, roles=roles), page=page, cursor=cursor)

    def fetch(self, conn: Connection, query: TenantQuery, page: PageRequest) -> Page[TenantUser]:
        return tenant_users(conn, query.tenant_id, search=query.search, roles=query.roles, page=page)

    def action_open_filters(self) -> None:
        group = FilterGroup(
            "roles",
            t("users.filter.role"),
            [(role.value, t(f"users.role.{role}")) for role in ROLE_ORDER],
            frozenset(role.value for role in self.roles),
        )
        self.app.push_screen(FilterDialog(t("list.filters_title"), [group], self._roles_changed, self._roles_cleared))

    def action_clear_filters(self) -> None:
        self._roles_cleared()

    def _roles_changed(self, key: str, values: frozenset[str]) -> None:
        self.roles = frozenset(UserRole(value) for value in values)
        self._reload_roles()

    def _roles_cleared(self) -> None:
        self.roles = frozenset()
        self._reload_roles()

    def _reload_roles(self) -> None:
        self._show_roles()
        if self.current_query is not None:
            self.load(self.current_query)

    def _show_roles(self) -> None:
        line = self.query_one("#account-users-filters", Static)
        if self.roles:
            names = ", ".join(t(f"users.role.{role}") for role in ROLE_ORDER if role in self.roles)
            line.update(
                f"{escape(t('users.filter.role'))}: [b]{escape(names)}[/b]"
                f"  [dim]{escape(t('accounts.filter.clear_hint'))}[/dim]"
            )
        line.display = bool(self.roles)

    def row_key(self, item: TenantUser) -> str:
        return item.id

    def cells(self, item: TenantUser) -> tuple[Cell, ...]:
        name = Text(item.display_name)
        if item.title:
            name.append(f" · {item.title}", style="dim")
        now = self.current_query.now if self.current_query else item.created_at
        return (
            name,
            item.email,
            role_text(item.role),
            user_status_badge(item.email_confirmed),
            ago(item.last_seen_at, now) if item.last_seen_at else "-",
            Text(item.id, style="dim"),
        )

    def contact(self, item: TenantUser) -> str | None:
        return item.email

    def empty_message(self) -> tuple[str, str]:
        if self.current_query is not None and self.current_query.search:
            return (t("account.users.empty_filtered"), t("account.users.empty_filtered_hint"))
        if self.current_query is not None and self.current_query.roles:
            return (t("account.users.empty_roles"), t("account.users.empty_roles_hint"))
        return (t("account.users.empty"), t("account.users.empty_hint"))


ROLE_FILTER_ACTIONS = ("open_filters", "clear_filters")


class PaymentsList(PagedList[TenantQuery, Payment]):
    """Payment history: one row per Stripe transaction, its refund and credit
    note shown on the row (docs/rules.md R49), with the tax breakdown."""

    COLUMNS = (
        Column("date", "account.invoices.column.date", width=datetime_width),
        Column(
            "plan",
            "account.invoices.column.plan",
            width=lambda: widest(plan_badge(p) for p in SubscriptionPlan),
            drop=3,
        ),
        Column("amount", "account.invoices.column.amount", width=invoice_width, justify="right", drop=1, cut=False),
        Column("vat", "account.invoices.column.vat", width=invoice_width, justify="right", drop=2, cut=False),
        Column("total", "account.invoices.column.total", width=invoice_width, justify="right", cut=False),
        Column("status", "account.invoices.column.status", width=20, flex=True, min_width=10),
        Column("documents", "account.invoices.column.documents", width=24, drop=4, flex=True),
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=5),
    )
    NOUN = "account.invoices.count"
    ORDER = "list.order.newest_first"

    def fetch(self, conn: Connection, query: TenantQuery, page: PageRequest) -> Page[Payment]:
        return payment_history(conn, query.tenant_id, page=page)

    def row_key(self, item: Payment) -> str:
        return item.id

    def cells(self, item: Payment) -> tuple[Cell, ...]:
        reversed_ = item.refunded or item.credit_noted
        status = payment_status_badge(item.status, failure_reason=item.failure_reason)
        status.append_text(credit_applied(item.amount_from_credit, item.currency))
        if item.credit_noted:
            status.append(f" · {t('account.invoices.credit_note')} {short_date(item.credit_noted_at)}", style="dim")
        elif item.refunded and str(item.status) != "Refunded":
            status.append(f" · {t('enum.payment_status.Refunded')} {short_date(item.refunded_at)}", style="dim")
        elif item.refunded and item.refunded_at is not None:
            status.append(f" {short_date(item.refunded_at)}", style="dim")
        if reversed_:
            # What went back, as the negative amount it is.
            status.append(f" {money(-item.amount, item.currency)}", style="red")
        documents = []
        if item.invoice_url:
            documents.append(f"{t('account.invoices.invoice_pdf')}: {item.invoice_url}")
        if item.credit_note_url:
            documents.append(f"{t('account.invoices.credit_note_pdf')}: {item.credit_note_url}")
        return (
            short_datetime(item.date),
            plan_badge(item.plan),
            *invoice_amounts(item.amount_excluding_tax, item.tax_amount, item.amount, item.currency, struck=reversed_),
            status,
            " · ".join(documents) or DASH,
            Text(item.id, style="dim"),
        )

    def empty_message(self) -> tuple[str, str]:
        return (t("account.invoices.empty"), t("account.invoices.empty_hint"))


class PaymentsPreview(PaymentsList):
    PAGEABLE = False
    PAGE_SIZE = PREVIEW_ROWS


class AccountEventsList(PagedList[TenantQuery, BillingEventRow]):
    """The account's whole billing event log, newest first, paged."""

    COLUMNS = (
        Column("occurred", "account.events.column.occurred", width=datetime_width),
        Column("event", "account.events.column.event", width=event_width, flex=True),
        Column("plan", "account.events.column.plan", width=transition_width, drop=2),
        Column("impact", "account.events.column.impact", width=signed_money_width, justify="right", cut=False),
        Column("after", "account.events.column.after", width=money_width, justify="right", drop=1, cut=False),
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=3),
    )
    NOUN = "billing.count"
    ORDER = "list.order.newest_first"

    def fetch(self, conn: Connection, query: TenantQuery, page: PageRequest) -> Page[BillingEventRow]:
        return list_billing_events(conn, now=query.now, tenant_id=query.tenant_id, period_days=None, page=page)

    def row_key(self, item: BillingEventRow) -> str:
        return item.id

    def cells(self, item: BillingEventRow) -> tuple[Cell, ...]:
        return (
            short_datetime(item.occurred_at),
            event_badge(item.event_type),
            plan_transition(item.event_type, item.from_plan, item.to_plan),
            signed_money_text(item.amount_delta, item.currency),
            Text(money(item.committed_mrr, item.currency), style="dim", justify="right"),
            Text(item.id, style="dim"),
        )

    def empty_message(self) -> tuple[str, str]:
        return (t("account.events.empty"), t("account.events.empty_hint"))


class AccountEventsPreview(AccountEventsList):
    PAGEABLE = False
    PAGE_SIZE = PREVIEW_ROWS


class AccountActivityList(PagedList[TenantQuery, ActionRow]):
    """The account's admin actions from the audit trail, newest first, paged."""

    COLUMNS = (
        Column("at", "activity.column.at", width=datetime_width),
        Column("operator", "activity.column.operator", width=16, flex=True),
        Column(
            "action",
            "activity.column.action",
            width=lambda: widest(t(f"activity.action.{a.name}") for a in Action),
            flex=True,
        ),
        Column(
            "path",
            "activity.column.path",
            width=lambda: widest(t(f"activity.path.{p}") for p in ("console", "cli", "ssh")),
            drop=2,
        ),
        Column(
            "outcome",
            "activity.column.outcome",
            width=lambda: widest(t(f"activity.outcome.{o}") for o in ("succeeded", "failed")),
        ),
        Column("details", "activity.column.details", width=24, drop=1, flex=True),
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=3),
    )
    NOUN = "activity.count"
    ORDER = "list.order.newest_first"

    def fetch(self, conn: Connection, query: TenantQuery, page: PageRequest) -> Page[ActionRow]:
        return list_actions(conn, tenant_id=query.tenant_id, page=page)

    def row_key(self, item: ActionRow) -> str:
        return item.id

    def cells(self, item: ActionRow) -> tuple[Cell, ...]:
        failed = item.outcome == "failed"
        return (
            short_datetime(item.at),
            item.operator,
            t(f"activity.action.{_key(Action, item.action)}"),
            t(f"activity.path.{item.path}"),
            Text(t(f"activity.outcome.{item.outcome}"), style="red" if failed else "green"),
            activity_summary(item),
            Text(item.id, style="dim"),
        )

    def empty_message(self) -> tuple[str, str]:
        return (t("activity.empty"), t("activity.empty_hint"))


def activity_summary(item: ActionRow) -> str:
    """A failure's error, else what the action did, in the operator's words."""
    details = item.details
    if item.outcome == "failed":
        return str(details.get("error") or DASH)
    if item.action == Action.sync:
        return t(
            "activity.summary.sync",
            appended=details.get("billing_events_appended", 0),
            drift=details.get("drift_discrepancy_count", 0),
        )
    if item.action == Action.drift_ack:
        return t("activity.summary.drift_ack", count=details.get("discrepancy_count", 0))
    if item.action == Action.replay_archive:
        return t("activity.summary.replay_archive", appended=details.get("billing_events_appended", 0))
    return DASH


def _key(enum: type[StrEnum], value: str) -> str:
    """A stored value's catalog key: its member's name (keys have no hyphens);
    a value this version does not know shows as itself."""
    try:
        return enum(value).name
    except ValueError:
        return value


# -- the overview's blocks -----------------------------------------------------


def drift_note(detail: AccountDetail) -> RenderableType:
    lines = [
        Text(
            "⚠ "
            + t(
                "account.drift.detected",
                count=len(detail.drift_discrepancies),
                date=moment(detail.drift_checked_at),
            ),
            style="bold yellow",
        )
    ]
    for finding in detail.drift_discrepancies:
        line = Text("  • ", style="yellow")
        line.append(finding_text(finding, detail.currency))
        if finding.severity:
            line.append(f" ({severity_text(finding)})", style="dim")
        lines.append(line)
    return Group(*lines)


def owners_block(owners: Page[TenantUser], now: datetime) -> RenderableType:
    parts: list[RenderableType] = [Text(t("account.owners"), style="bold underline")]
    if not owners.items:
        parts.append(Text(t("account.no_owners"), style="dim"))
    for owner in owners.items:
        line = Text(owner.display_name, style="bold")
        if not owner.email_confirmed:
            line.append(f"  {t('users.status.Pending')}", style="yellow")
        if owner.title:
            line.append(f"\n{owner.title}", style="dim")
        line.append(f"\n{owner.email}", style="dim")
        line.append(
            f"\n{t('account.users.column.last_seen')}: {ago(owner.last_seen_at, now) if owner.last_seen_at else '-'}",
            style="dim",
        )
        parts.append(line)
    return Group(*parts)


def plan_block(detail: AccountDetail) -> RenderableType:
    heading = Text(t("account.current_plan"), style="bold underline")
    if detail.subscribed_since is None and not detail.has_ever_subscribed:
        return Group(heading, Text(t("account.no_plan"), style="bold"), Text(t("account.no_paid_plan"), style="dim"))
    amount = account_mrr(detail)
    badges = Text.assemble(plan_badge(detail.plan))
    if detail.planned_change is not None:
        badges.append("  ")
        badges.append_text(status_badge(detail.status))
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column()
    facts.add_row(t("account.subscribed_since"), short_date(detail.subscribed_since))
    facts.add_row(renewal_label(detail.renewal), short_date(detail.renewal_date))
    facts.add_row(t("account.billing_address"), _address(detail))
    facts.add_row(t("account.payment_method"), _payment_method(detail))
    if detail.tax_id:
        facts.add_row(t("account.vat_number"), detail.tax_id)
    # docs/rules.md R120: the ids as links to Stripe's dashboard.
    if detail.stripe_customer_id:
        facts.add_row(t("account.stripe_customer"), stripe_link(detail.stripe_customer_id, detail.stripe_customer_url))
    if detail.stripe_subscription_id:
        facts.add_row(
            t("account.stripe_subscription"), stripe_link(detail.stripe_subscription_id, detail.stripe_subscription_url)
        )
    return Group(heading, amount, badges, Text(t("account.per_month"), style="dim"), facts)


def account_mrr(detail: AccountDetail) -> Text:
    """The MRR in bold, with the amount it changes to at renewal."""
    amount = mrr_text(
        detail.monthly_recurring_revenue,
        detail.forward_monthly_recurring_revenue,
        detail.mrr_changes_at_renewal,
        detail.currency,
    )
    amount.stylize("bold")
    return amount


def _address(detail: AccountDetail) -> RenderableType:
    address = detail.billing_address
    if address is None:
        return Text(t("account.no_billing_address"), style="dim")
    lines = [
        detail.billing_name,
        address.line1,
        address.line2,
        " ".join(part for part in (address.postal_code, address.city) if part),
        address.state,
        country_text(address.country) if address.country else None,
    ]
    return Text("\n".join(line for line in lines if line))


def _payment_method(detail: AccountDetail) -> str:
    method = detail.payment_method
    if method is None:
        return "-"
    brand = method.brand.capitalize() if method.brand else t("account.card")
    if method.brand == "link":
        return brand
    text = f"{brand} •••• {method.last4}"
    if method.exp_month > 0:
        text += f"  {method.exp_month:02d}/{method.exp_year % 100:02d}"
    return text

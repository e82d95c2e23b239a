"""Platform-wide invoices (docs/figures.md#invoices): every invoice, refund and credit
note row of every account. Search by account, views All / Invoices / Refunds
and credit notes (`v`), statuses (`f`); reversal rows are negative amounts.
Enter opens the invoice (console/screens/invoice.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.style import Style
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult

from console.app_access import backoffice
from console.formatting import ago
from console.i18n import t
from console.screens.invoice import InvoiceScreen
from console.screens.list_screen import ListScreen
from console.widgets.badges import credit_applied, invoice_amounts, payment_status_badge, plan_badge, stripe_link
from console.widgets.columns import PREFIXED_ID_WIDTH, STRIPE_INVOICE_ID_WIDTH, ago_width, invoice_width, widest
from console.widgets.filter_dialog import FilterGroup
from console.widgets.paged_list import Cell, Column, PagedList
from console.widgets.view_pills import ViewPills
from core.invoices import InvoiceRow, InvoiceRowKind, InvoiceSort, InvoiceStatusFilter, list_invoices
from core.paging import Page, PageRequest
from core.stripe_links import customer_url
from db.enums import PaymentTransactionStatus, SubscriptionPlan

# The view pills and the status filters each sends (docs/rules.md R48).
VIEWS: dict[str, tuple[InvoiceStatusFilter, ...]] = {
    "all": (),
    "invoices": (InvoiceStatusFilter.Paid, InvoiceStatusFilter.Pending, InvoiceStatusFilter.Failed),
    "refunds": (InvoiceStatusFilter.Refunded, InvoiceStatusFilter.HasCreditNote),
}


@dataclass(frozen=True)
class InvoiceQuery:
    search: str
    statuses: tuple[InvoiceStatusFilter, ...]
    now: datetime
    sort: InvoiceSort = InvoiceSort.date
    descending: bool = True


def plan_width() -> int:
    return widest(plan_badge(plan) for plan in SubscriptionPlan)


def status_width() -> int:
    """The payment statuses and the reversal rows' kinds."""
    kinds = (t(f"invoices.kind.{kind}") for kind in (InvoiceRowKind.CreditNote, InvoiceRowKind.Refund))
    return max(widest(payment_status_badge(status) for status in PaymentTransactionStatus), widest(kinds))


class InvoicesList(PagedList[InvoiceQuery, InvoiceRow]):
    COLUMNS = (
        Column("account", "invoices.column.account", width=24, flex=True, sort=InvoiceSort.tenant_name),
        Column("date", "invoices.column.date", width=ago_width, sort=InvoiceSort.date),
        Column("plan", "invoices.column.plan", width=plan_width, drop=4),
        Column("amount", "invoices.column.amount", width=invoice_width, justify="right", drop=2, cut=False),
        Column("vat", "invoices.column.vat", width=invoice_width, justify="right", drop=3, cut=False),
        Column(
            "total", "invoices.column.total", width=invoice_width, justify="right", sort=InvoiceSort.total, cut=False
        ),
        # A failure's reason follows its status: cut with an ellipsis when there is no room.
        Column("status", "invoices.column.status", width=status_width, drop=1, flex=True, sort=InvoiceSort.status),
        # Our transaction id, dropped first; then Stripe's invoice, a link to its
        # dashboard page (R120): both only on wide terminals.
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=6),
        Column("stripe", "invoices.column.stripe", width=STRIPE_INVOICE_ID_WIDTH, drop=5),
    )
    NOUN = "invoices.count"

    def fetch(self, conn: Connection, query: InvoiceQuery, page: PageRequest) -> Page[InvoiceRow]:
        return list_invoices(
            conn,
            search=query.search,
            statuses=query.statuses,
            sort=query.sort,
            descending=query.descending,
            page=page,
            stripe_api_key=backoffice(self).settings.stripe_api_key,
            estimate_large_total=True,
        )

    def row_key(self, item: InvoiceRow) -> str:
        return f"{item.id}:{item.row_kind}"

    def item_id(self, item: InvoiceRow) -> str:
        return item.id

    def cells(self, item: InvoiceRow) -> tuple[Cell, ...]:
        if item.row_kind is InvoiceRowKind.CreditNote:
            status = Text(t("invoices.kind.CreditNote"), style="dim")
        elif item.row_kind is InvoiceRowKind.Refund:
            status = Text(t("invoices.kind.Refund"), style="dim")
        else:
            status = payment_status_badge(item.status, failure_reason=item.failure_reason)
            status.append_text(credit_applied(item.amount_from_credit, item.currency))
        now = self.current_query.now if self.current_query else item.date
        # The account's name links to its Stripe customer, the Stripe invoice id
        # to the invoice's page (docs/rules.md R120; older rows have no id).
        link = customer_url(item.stripe_customer_id, backoffice(self).settings.stripe_api_key)
        return (
            Text(item.tenant_name, style=Style(link=link)) if link else item.tenant_name,
            ago(item.date, now),
            plan_badge(item.plan),
            *invoice_amounts(item.amount_excluding_tax, item.tax_amount, item.amount, item.currency, sign=item.sign),
            status,
            Text(item.id, style="dim"),
            stripe_link(item.stripe_invoice_id, item.stripe_invoice_url),
        )

    def empty_message(self) -> tuple[str, str]:
        screen = self.screen
        if isinstance(screen, InvoicesScreen) and screen.search:
            return (t("invoices.empty_search"), t("invoices.empty_search_hint"))
        view = screen.view if isinstance(screen, InvoicesScreen) else "all"
        return (t(f"invoices.empty.{view}"), t("invoices.empty_hint"))


class InvoicesScreen(ListScreen):
    NAME = "invoices"
    TITLE_KEY = "menu.invoices"
    KEY_SCOPES = ("list", "sort", "views")
    SEARCH_PLACEHOLDER = "invoices.search"
    DEFAULT_SORT = InvoiceSort.date
    DEFAULT_DESCENDING = True

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.view = "all"
        self.statuses: frozenset[InvoiceStatusFilter] = frozenset()

    def compose_toolbar(self) -> ComposeResult:
        yield ViewPills(
            t("invoices.view"), [(view, t(f"invoices.view.{view}")) for view in VIEWS], self.view, id="invoices-view"
        )

    def make_list(self) -> InvoicesList:
        return InvoicesList(id="invoices-list")

    def current_query(self) -> InvoiceQuery:
        # Statuses picked with `f` replace the view's (picking them selects "All").
        chosen = tuple(status for status in InvoiceStatusFilter if status in self.statuses)
        return InvoiceQuery(
            self.search,
            chosen or VIEWS[self.view],
            self.backoffice.clock(),
            InvoiceSort(self.sort or InvoiceSort.date),
            self.descending,
        )

    def apply_navigation(self, params: dict[str, Any]) -> None:
        if "search" in params:
            self.search = str(params["search"])
        if params.get("view") in VIEWS:
            self.view = str(params["view"])

    def filter_groups(self) -> list[FilterGroup]:
        return [
            FilterGroup(
                "statuses",
                t("invoices.filter.status"),
                [(status.value, t(f"invoices.status.{status}")) for status in InvoiceStatusFilter],
                frozenset(status.value for status in self.statuses),
            )
        ]

    def set_filter(self, key: str, values: frozenset[str]) -> None:
        if key == "statuses":
            self.statuses = frozenset(InvoiceStatusFilter(value) for value in values)
            self.view = "all"

    def clear_filters(self) -> None:
        super().clear_filters()
        self.statuses = frozenset()
        self.view = "all"

    def filter_summary(self) -> str:
        if not self.statuses:
            return ""
        names = ", ".join(t(f"invoices.status.{s}") for s in InvoiceStatusFilter if s in self.statuses)
        return f"{escape(t('invoices.filter.status'))}: [b]{escape(names)}[/b]  [dim]{escape(t('accounts.filter.clear_hint'))}[/dim]"

    def reload_list(self, *, page: int = 1) -> None:
        self.query_one(ViewPills).value = self.view
        super().reload_list(page=page)

    def action_cycle_view(self) -> None:
        self._show_view(self.query_one(ViewPills).following())

    def on_view_pills_chosen(self, message: ViewPills.Chosen) -> None:
        self._show_view(message.value)

    def _show_view(self, view: str) -> None:
        self.view = view
        self.statuses = frozenset()  # a view replaces statuses picked with `f`
        self.reload_list()

    def open_item(self, item: InvoiceRow) -> None:
        self.app.push_screen(InvoiceScreen(item.tenant_id, item.id))

"""One account (backoffice.md 4.3; decisions.md): header, three health tiles,
and the tabs Overview / Users / Invoices / Billing events.

`navigate("account", tenant_id=..., tab="invoices")`. The header, tiles and
overview come from one core call in a worker; each tab's list pages in the
database and loads the first time the tab is shown. Admins get the actions
of console/screens/account_actions.py on this account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ContentSwitcher, LoadingIndicator, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from console.formatting import DASH, ago, money, number, short_date, short_datetime
from console.i18n import t
from console.screens.account_actions import AccountActionsScreen, ActionTarget
from console.widgets.account_pane import user_bar
from console.widgets.badges import (
    country_text,
    event_badge,
    mrr_text,
    payment_status_badge,
    plan_badge,
    plan_transition,
    renewal_label_key,
    role_text,
    signed_money_text,
    status_badge,
    suspended_badge,
    user_status_badge,
)
from console.widgets.cards import describe_error
from console.widgets.header import AppHeader
from console.widgets.paged_list import Cell, Column, PagedList
from console.widgets.search_box import SearchBox
from console.widgets.tiles import Tile
from core.account_detail import AccountDetail, Payment, account_detail, payment_history
from core.account_users import TenantUser, tenant_users
from core.billing_events import BillingEventRow, list_billing_events
from core.paging import Page, PageRequest
from db.enums import UserRole

TABS = ("overview", "users", "invoices", "billing-events")
TAB_LISTS = {"users": "#account-users", "invoices": "#account-invoices", "billing-events": "#account-events"}
PREVIEW_ROWS = 3


@dataclass(frozen=True)
class TenantQuery:
    tenant_id: str
    now: datetime
    search: str = ""


# -- the tab lists -------------------------------------------------------------


class TenantUsersList(PagedList[TenantQuery, TenantUser]):
    COLUMNS = (
        Column("name", "account.users.column.name", flex=True),
        Column("email", "account.users.column.email", drop=2, flex=True),
        Column("role", "account.users.column.role", drop=3),
        Column("status", "account.users.column.status", drop=1),
        Column("last_seen", "account.users.column.last_seen"),
    )
    NOUN = "users.count"

    def fetch(self, conn: Connection, query: TenantQuery, page: PageRequest) -> Page[TenantUser]:
        return tenant_users(conn, query.tenant_id, search=query.search, page=page)

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
        )

    def empty_message(self) -> tuple[str, str]:
        if self.current_query is not None and self.current_query.search:
            return (t("account.users.empty_filtered"), t("account.users.empty_filtered_hint"))
        return (t("account.users.empty"), t("account.users.empty_hint"))


class PaymentsList(PagedList[TenantQuery, Payment]):
    """Payment history: one row per Stripe transaction, its refund and credit
    note shown on the row (decisions.md), with the tax breakdown."""

    COLUMNS = (
        Column("date", "account.invoices.column.date"),
        Column("plan", "account.invoices.column.plan", drop=3),
        Column("amount", "account.invoices.column.amount", justify="right", drop=1),
        Column("vat", "account.invoices.column.vat", justify="right", drop=2),
        Column("total", "account.invoices.column.total", justify="right"),
        Column("status", "account.invoices.column.status"),
        Column("documents", "account.invoices.column.documents", drop=4, flex=True),
    )
    NOUN = "account.invoices.count"

    def fetch(self, conn: Connection, query: TenantQuery, page: PageRequest) -> Page[Payment]:
        return payment_history(conn, query.tenant_id, page=page)

    def row_key(self, item: Payment) -> str:
        return item.id

    def cells(self, item: Payment) -> tuple[Cell, ...]:
        reversed_ = item.refunded or item.credit_noted
        style = "strike dim" if reversed_ else ""
        status = payment_status_badge(item.status, failure_reason=item.failure_reason)
        if item.credit_noted:
            status.append(f" · {t('account.invoices.credit_note')} {short_date(item.credit_noted_at)}", style="dim")
        elif item.refunded and str(item.status) != "Refunded":
            status.append(f" · {t('enum.payment_status.Refunded')} {short_date(item.refunded_at)}", style="dim")
        elif item.refunded and item.refunded_at is not None:
            status.append(f" {short_date(item.refunded_at)}", style="dim")
        documents = []
        if item.invoice_url:
            documents.append(f"{t('account.invoices.invoice_pdf')}: {item.invoice_url}")
        if item.credit_note_url:
            documents.append(f"{t('account.invoices.credit_note_pdf')}: {item.credit_note_url}")
        return (
            short_datetime(item.date),
            plan_badge(item.plan),
            Text(money(item.amount_excluding_tax, item.currency), style=style, justify="right"),
            Text(money(item.tax_amount, item.currency), style=style or "dim", justify="right"),
            Text(money(item.amount, item.currency), style=style, justify="right"),
            status,
            " · ".join(documents) or DASH,
        )

    def empty_message(self) -> tuple[str, str]:
        return (t("account.invoices.empty"), t("account.invoices.empty_hint"))


class PaymentsPreview(PaymentsList):
    PAGEABLE = False
    PAGE_SIZE = PREVIEW_ROWS


class AccountEventsList(PagedList[TenantQuery, BillingEventRow]):
    """The account's whole billing event log, newest first, paged."""

    COLUMNS = (
        Column("occurred", "account.events.column.occurred"),
        Column("event", "account.events.column.event", flex=True),
        Column("plan", "account.events.column.plan", drop=2),
        Column("impact", "account.events.column.impact", justify="right"),
        Column("after", "account.events.column.after", justify="right", drop=1),
    )
    NOUN = "billing.count"

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
        )

    def empty_message(self) -> tuple[str, str]:
        return (t("account.events.empty"), t("account.events.empty_hint"))


class AccountEventsPreview(AccountEventsList):
    PAGEABLE = False
    PAGE_SIZE = PREVIEW_ROWS


# -- the screen ----------------------------------------------------------------


@dataclass(frozen=True)
class AccountView:
    detail: AccountDetail
    owners: Page[TenantUser]


class AccountScreen(AccountActionsScreen):
    """navigate("account", tenant_id=..., tab=...)."""

    NAME = "account"
    TITLE_KEY = "screen.account"
    MENU_ITEM = "accounts"
    KEY_SCOPES = ("account", "tabs")
    AUTO_FOCUS = "#account-tabs Tabs"

    class ViewLoaded(Message):
        def __init__(self, request: int, view: AccountView) -> None:
            super().__init__()
            self.request = request
            self.view = view

    class ViewFailed(Message):
        def __init__(self, request: int, error: str) -> None:
            super().__init__()
            self.request = request
            self.error = error

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.tenant_id = str(params.get("tenant_id", ""))
        self.view: AccountView | None = None
        self._request = 0

    def screen_title(self) -> str:
        if self.view is not None:
            return self.view.detail.name or t(self.TITLE_KEY)
        return t(self.TITLE_KEY)

    def compose_content(self) -> ComposeResult:
        with ContentSwitcher(initial="account-loading", id="account-switcher"):
            yield LoadingIndicator(id="account-loading")
            yield Static("", id="account-error", classes="list-message -error")
            with Vertical(id="account-view"):
                yield Static("", id="account-header", classes="detail-header")
                with Horizontal(classes="detail-tiles"):
                    yield Tile(t("account.tile.users"), tab="users", id="tile-users")
                    yield Tile(t("account.lifetime_value"), tab="invoices", id="tile-ltv")
                    yield Tile(t("account.tile.mrr"), tab="billing-events", id="tile-mrr")
                with TabbedContent(id="account-tabs", initial=self._initial_tab()):
                    with TabPane(t("account.tab.overview"), id="overview"):
                        with VerticalScroll(classes="overview"):
                            yield Static("", id="account-drift", classes="drift-note")
                            with Horizontal(classes="overview-columns"):
                                yield Static("", id="account-owners", classes="overview-block")
                                yield Static("", id="account-plan", classes="overview-block")
                            yield Static(t("account.tab.invoices"), classes="section-title")
                            yield PaymentsPreview(id="invoices-preview", classes="preview")
                            yield Static(t("account.tab.billing_events"), classes="section-title")
                            yield AccountEventsPreview(id="events-preview", classes="preview")
                    with TabPane(t("account.tab.users"), id="users"):
                        yield SearchBox(t("account.users.search"), id="users-search")
                        yield TenantUsersList(id="account-users")
                    with TabPane(t("account.tab.invoices"), id="invoices"):
                        yield Static(t("account.invoices.intro"), classes="tab-intro")
                        yield PaymentsList(id="account-invoices")
                    with TabPane(t("account.tab.billing_events"), id="billing-events"):
                        yield Static(t("account.events.intro"), classes="tab-intro")
                        yield AccountEventsList(id="account-events")

    def _initial_tab(self) -> str:
        tab = str(self.params.get("tab", "overview"))
        return tab if tab in TABS else "overview"

    def on_mount(self) -> None:
        self.load_view()

    # -- loading -------------------------------------------------------------

    def query_for(self, search: str = "") -> TenantQuery:
        return TenantQuery(self.tenant_id, self.backoffice.clock(), search)

    def load_view(self) -> None:
        self._request += 1
        self._fetch_view(self._request, self.tenant_id, self.backoffice.clock())

    @work(thread=True, exclusive=True, group="account")
    def _fetch_view(self, request: int, tenant_id: str, now: datetime) -> None:
        worker = get_current_worker()
        app = self.backoffice
        try:
            with app.read_only() as conn:
                detail = account_detail(conn, tenant_id, now, stripe_api_key=app.settings.stripe_api_key)
                owners = tenant_users(conn, tenant_id, roles=[UserRole.Owner], page=PageRequest(1, 100))
        except Exception as error:
            if not worker.is_cancelled:
                self.post_message(self.ViewFailed(request, describe_error(error)))
            return
        if not worker.is_cancelled:
            self.post_message(self.ViewLoaded(request, AccountView(detail, owners)))

    def on_account_screen_view_failed(self, message: ViewFailed) -> None:
        if message.request != self._request:
            return
        if self.view is None:
            self.query_one("#account-error", Static).update(escape(t("list.error", error=message.error)))
            self.query_one("#account-switcher", ContentSwitcher).current = "account-error"
        else:
            self.notify(t("list.error", error=message.error), severity="error")

    def on_account_screen_view_loaded(self, message: ViewLoaded) -> None:
        if message.request != self._request:
            return
        first = self.view is None
        self.view = message.view
        self._paint(message.view)
        self.query_one("#account-switcher", ContentSwitcher).current = "account-view"
        if first:
            query = self.query_for()
            self.query_one(PaymentsPreview).load(query)
            self.query_one(AccountEventsPreview).load(query)
            self._load_tab(self.query_one(TabbedContent).active)
        self.query_one(AppHeader).set_title(self.screen_title())
        self.sub_title = self.screen_title()

    # -- painting ------------------------------------------------------------

    def _paint(self, view: AccountView) -> None:
        detail = view.detail
        now = self.backoffice.clock()
        self.query_one("#account-header", Static).update(self._header(detail))
        counts = detail.user_counts
        activation = f" · {t('account.activation', percent=counts.activation_percent)}" if counts.activation_percent is not None else ""
        self.query_one("#tile-users", Tile).show(
            Text.assemble((f"{number(counts.active_users)} / {number(counts.total_users)}", "bold"), (activation, "")),
            Text.assemble(
                user_bar(counts, 4),
                " ",
                t("account.users_inactive", count=number(counts.inactive_users)),
                " · ",
                t("account.users_pending", count=number(counts.pending_users)),
            ),
        )
        self.query_one("#tile-ltv", Tile).show(
            money(detail.lifetime_value, detail.currency) if detail.lifetime_value is not None else "-",
            t("account.since", date=short_date(detail.subscribed_since)) if detail.subscribed_since else "",
        )
        mrr = mrr_text(
            detail.monthly_recurring_revenue,
            detail.forward_monthly_recurring_revenue,
            detail.mrr_changes_at_renewal,
            detail.currency,
        )
        mrr.stylize("bold")
        self.query_one("#tile-mrr", Tile).show(
            mrr, t("account.renews", date=short_date(detail.renewal_date)) if detail.renewal_date else ""
        )
        drift = self.query_one("#account-drift", Static)
        drift.update(self._drift(detail))
        drift.display = detail.has_drift_detected
        self.query_one("#account-owners", Static).update(self._owners(view.owners, now))
        self.query_one("#account-plan", Static).update(self._plan(detail))

    @staticmethod
    def _header(detail: AccountDetail) -> RenderableType:
        title = Text.assemble((detail.name or t("screen.account"), "bold"), "  ", plan_badge(detail.plan))
        suspended = suspended_badge(detail.state)
        if suspended.plain:
            title.append("  ")
            title.append_text(suspended)
        title.append("  ")
        title.append_text(status_badge(detail.status))
        facts = Text(
            " · ".join(
                (
                    country_text(detail.country),
                    t("account.signed_up", date=short_date(detail.created_at)),
                    f"# {detail.id}",
                )
            ),
            style="dim",
        )
        return Group(title, facts)

    @staticmethod
    def _drift(detail: AccountDetail) -> RenderableType:
        lines = [
            Text(
                "⚠ "
                + t(
                    "account.drift.detected",
                    count=len(detail.drift_discrepancies),
                    date=short_datetime(detail.drift_checked_at) if detail.drift_checked_at else DASH,
                ),
                style="bold yellow",
            )
        ]
        for finding in detail.drift_discrepancies:
            line = Text(f"  • {finding.kind}", style="yellow")
            if finding.description:
                line.append(f": {finding.description}", style="")
            lines.append(line)
        return Group(*lines)

    @staticmethod
    def _owners(owners: Page[TenantUser], now: datetime) -> RenderableType:
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

    @staticmethod
    def _plan(detail: AccountDetail) -> RenderableType:
        heading = Text(t("account.current_plan"), style="bold underline")
        if detail.subscribed_since is None and not detail.has_ever_subscribed:
            return Group(heading, Text(t("account.no_plan"), style="bold"), Text(t("account.no_paid_plan"), style="dim"))
        amount = mrr_text(
            detail.monthly_recurring_revenue,
            detail.forward_monthly_recurring_revenue,
            detail.mrr_changes_at_renewal,
            detail.currency,
        )
        amount.stylize("bold")
        badges = Text.assemble(plan_badge(detail.plan))
        if detail.planned_change is not None:
            badges.append("  ")
            badges.append_text(status_badge(detail.status))
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="dim", no_wrap=True)
        facts.add_column()
        facts.add_row(t("account.subscribed_since"), short_date(detail.subscribed_since))
        facts.add_row(
            t(renewal_label_key(detail.status, detail.cancel_at_period_end)), short_date(detail.renewal_date)
        )
        facts.add_row(t("account.billing_address"), _address(detail))
        facts.add_row(t("account.payment_method"), _payment_method(detail))
        if detail.tax_id:
            facts.add_row(t("account.vat_number"), detail.tax_id)
        if detail.stripe_customer_url:
            facts.add_row(t("account.stripe"), detail.stripe_customer_url)
        return Group(heading, amount, badges, Text(t("account.per_month"), style="dim"), facts)

    # -- tabs ----------------------------------------------------------------

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "account-tabs" and event.pane.id:
            self._load_tab(event.pane.id)

    def _load_tab(self, tab: str) -> None:
        if self.view is None:
            return
        if tab not in TAB_LISTS:
            return
        paged = self.query_one(TAB_LISTS[tab], PagedList)
        if paged.current_query is None:
            paged.load(self.query_for())

    def action_tab(self, number: int) -> None:
        if self.view is None or not 1 <= number <= len(TABS):
            return
        tab = TABS[number - 1]
        self.query_one(TabbedContent).active = tab
        if tab in TAB_LISTS:
            self.query_one(TAB_LISTS[tab], PagedList).focus_table()
        else:
            self.query_one("#account-tabs Tabs").focus()

    def on_tile_selected(self, message: Tile.Selected) -> None:
        if message.tile.tab:
            self.action_tab(TABS.index(message.tile.tab) + 1)

    def on_search_box_search(self, message: SearchBox.Search) -> None:
        self.query_one(TenantUsersList).load(self.query_for(message.value))

    def on_search_box_leave(self, message: SearchBox.Leave) -> None:
        self.query_one(TenantUsersList).focus_table()

    def on_paged_list_opened(self, message: PagedList.Opened) -> None:
        if isinstance(message.paged_list, TenantUsersList):
            self.backoffice.navigate("user", user_id=message.item.id)

    # -- admin actions -------------------------------------------------------

    def action_target(self) -> ActionTarget | None:
        if self.view is None:
            return None
        return ActionTarget(self.view.detail.id, self.view.detail.name)

    def account_changed(self) -> None:
        self.load_view()
        for paged in self.query(PagedList):
            paged.reload()


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

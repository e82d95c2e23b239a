"""One account (docs/figures.md#account): header, three health tiles,
and the tabs Overview / Users / Invoices / Billing events / Activity (the
admin actions on the account, from the audit trail).

`navigate("account", tenant_id=..., tab="invoices")`. The header, tiles and
overview come from one core call in a worker; each tab's list pages in the
database and loads the first time the tab is shown (the shape of
console/screens/detail_screen.py; what the tabs show is in
console/screens/account_tabs.py). Admins get the actions of
console/screens/account_actions.py on this account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static, TabPane

from console.formatting import money, number, short_date
from console.i18n import t
from console.screens.account_actions import AccountActionsScreen, ActionTarget
from console.screens.account_tabs import (
    AccountActivityList,
    AccountEventsList,
    AccountEventsPreview,
    PaymentsList,
    PaymentsPreview,
    TenantQuery,
    TenantUsersList,
    account_mrr,
    drift_note,
    owners_block,
    plan_block,
)
from console.screens.detail_screen import DetailScreen, detail_header
from console.screens.invoice import InvoiceScreen
from console.widgets.account_pane import user_bar
from console.widgets.badges import (
    country_text,
    initials_badge,
    plan_badge,
    renewal_phrase,
    state_pill,
    status_badge,
    stripe_link,
)
from console.widgets.paged_list import PagedList
from console.widgets.scroll import ScrollArea
from console.widgets.search_box import SearchBox
from console.widgets.tiles import Tile
from core.account_detail import AccountDetail, account_detail
from core.account_status import AccountState
from core.account_users import TenantUser, tenant_users
from core.paging import Page, PageRequest
from db.enums import UserRole


@dataclass(frozen=True)
class AccountView:
    detail: AccountDetail
    owners: Page[TenantUser]


class AccountScreen(DetailScreen[AccountView], AccountActionsScreen):
    """navigate("account", tenant_id=..., tab=...)."""

    NAME = "account"
    TITLE_KEY = "screen.account"
    MENU_ITEM = "accounts"
    KEY_SCOPES = ("account", "tabs")
    ID = "account"
    TABS = ("overview", "users", "invoices", "billing-events", "activity")
    TAB_LISTS = {
        "users": "#account-users",
        "invoices": "#account-invoices",
        "billing-events": "#account-events",
        "activity": "#account-activity",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.tenant_id = str(params.get("tenant_id", ""))

    @property
    def view(self) -> AccountView | None:
        return self.loaded

    def screen_title(self) -> str:
        if self.view is not None:
            return self.view.detail.name or t(self.TITLE_KEY)
        return t(self.TITLE_KEY)

    def compose_tiles(self) -> ComposeResult:
        yield Tile(t("account.tile.users"), tab="users", id="tile-users")
        yield Tile(t("account.lifetime_value"), tab="invoices", id="tile-ltv")
        yield Tile(t("account.tile.mrr"), tab="billing-events", id="tile-mrr")

    def compose_tabs(self) -> ComposeResult:
        with TabPane(t("account.tab.overview"), id="overview"):
            with ScrollArea(classes="overview"):
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
        with TabPane(t("account.tab.activity"), id="activity"):
            yield Static(t("activity.intro"), classes="tab-intro")
            yield AccountActivityList(id="account-activity")

    # -- loading -------------------------------------------------------------

    def fetch(self, conn: Connection, now: datetime) -> AccountView:
        detail = account_detail(conn, self.tenant_id, now, stripe_api_key=self.backoffice.settings.stripe_api_key)
        owners = tenant_users(conn, self.tenant_id, roles=[UserRole.Owner], page=PageRequest(1, 100))
        return AccountView(detail, owners)

    def tab_query(self, search: str = "") -> TenantQuery:
        return TenantQuery(self.tenant_id, self.backoffice.clock(), search)

    def first_shown(self, view: AccountView) -> None:
        query = self.tab_query()
        self.query_one(PaymentsPreview).load(query)
        self.query_one(AccountEventsPreview).load(query)

    # -- painting ------------------------------------------------------------

    def paint(self, view: AccountView) -> None:
        detail = view.detail
        now = self.backoffice.clock()
        self.query_one("#account-header", Static).update(_header(detail))
        counts = detail.user_counts
        activation = (
            f" · {t('account.activation', percent=counts.activation_percent)}"
            if counts.activation_percent is not None
            else ""
        )
        self.query_one("#tile-users", Tile).show(
            Text.assemble((f"{number(counts.active_users)} / {number(counts.total_users)}", "bold"), (activation, "")),
            Text.assemble(
                user_bar(counts, 4),
                " ",
                t("account.users_inactive", count=counts.inactive_users),
                " · ",
                t("account.users_pending", count=counts.pending_users),
            ),
        )
        self.query_one("#tile-ltv", Tile).show(
            money(detail.lifetime_value, detail.currency) if detail.lifetime_value is not None else "-",
            t("account.since", date=short_date(detail.subscribed_since)) if detail.subscribed_since else "",
        )
        self.query_one("#tile-mrr", Tile).show(
            account_mrr(detail),
            renewal_phrase(detail.renewal, short_date(detail.renewal_date)) if detail.renewal_date else "",
        )
        self._show_drift()
        self.query_one("#account-owners", Static).update(owners_block(view.owners, now))
        self.query_one("#account-plan", Static).update(plan_block(detail))

    def on_mount(self) -> None:
        # Whether the operator is an admin is known a moment after start.
        self.watch(self.app, "is_admin", self._show_drift, init=False)

    def _show_drift(self) -> None:
        """The finding for everyone; what to do about it for an admin only."""
        if self.view is None:
            return
        detail = self.view.detail
        note: RenderableType = drift_note(detail)
        if self.backoffice.can_admin:
            stripe = self.backoffice.settings.stripe_configured
            note = Group(note, Text(t("account.drift.admin_hint" if stripe else "account.drift.admin_hint_no_stripe")))
        drift = self.query_one("#account-drift", Static)
        drift.update(note)
        drift.display = detail.has_drift_detected
        self.refresh_bindings()  # the footer offers A only with drift

    # -- the users tab -------------------------------------------------------

    def on_search_box_search(self, message: SearchBox.Search) -> None:
        self.query_one(TenantUsersList).load(self.tab_query(message.value))

    def on_search_box_leave(self, message: SearchBox.Leave) -> None:
        self.query_one(TenantUsersList).focus_table()

    def on_paged_list_opened(self, message: PagedList.Opened) -> None:
        if isinstance(message.paged_list, TenantUsersList):
            self.backoffice.navigate("user", user_id=message.item.id)
        elif isinstance(message.paged_list, PaymentsList):
            self.app.push_screen(InvoiceScreen(self.tenant_id, message.item.id))

    # -- admin actions -------------------------------------------------------

    def action_target(self) -> ActionTarget | None:
        if self.view is None:
            return None
        detail = self.view.detail
        return ActionTarget(
            detail.id,
            detail.name,
            detail.has_drift_detected,
            stripe_customer_id=detail.stripe_customer_id,
            stripe_known=True,
        )

    def account_changed(self) -> None:
        self.load()
        for paged in self.query(PagedList):
            paged.reload()


def _header(detail: AccountDetail) -> RenderableType:
    """The initials badge, name and plan, the state's pill (docs/rules.md R122;
    a suspended or past-due account keeps its status beside it), the facts, and
    the Stripe ids as links to Stripe's dashboard (R120)."""
    title = Text.assemble(
        initials_badge(detail.name, detail.id),
        " ",
        (detail.name or t("screen.account"), "bold"),
        "  ",
        plan_badge(detail.plan),
        "  ",
        state_pill(detail.account_state),
    )
    if detail.account_state in (AccountState.Suspended, AccountState.PastDue):
        title.append("  ")
        title.append_text(status_badge(detail.status))
    header = detail_header(
        title,
        (country_text(detail.country), t("account.signed_up", date=short_date(detail.created_at)), f"# {detail.id}"),
    )
    stripe = stripe_line(detail)
    if stripe is not None:
        header.renderables.append(stripe)
    return header


def stripe_line(detail: AccountDetail) -> Text | None:
    """ "Stripe cus_… · sub_… · test mode": each id a terminal hyperlink to its
    dashboard page; the mode only when a key says which (R120)."""
    if not detail.stripe_customer_id and not detail.stripe_subscription_id:
        return None
    parts = [
        stripe_link(stripe_id, url)
        for stripe_id, url in (
            (detail.stripe_customer_id, detail.stripe_customer_url),
            (detail.stripe_subscription_id, detail.stripe_subscription_url),
        )
        if stripe_id
    ]
    if detail.stripe_mode is not None:
        parts.append(Text(t(f"account.stripe_mode.{detail.stripe_mode}"), style="dim"))
    return Text.assemble((f"{t('account.stripe')} ", "dim"), Text(" · ", style="dim").join(parts))

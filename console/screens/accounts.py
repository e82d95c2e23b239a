"""The accounts list (docs/figures.md#accounts-list): search, plan and status filters,
the banners' issue filters, sorts, pages, and the side pane.

The filters, sort and page live on the screen, which lives in its own mode:
they survive navigating away and back. Enter opens the account; the admin
keys act on the highlighted account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult

from console.formatting import ago, short_date
from console.i18n import t
from console.screens.account import AccountScreen
from console.screens.account_actions import AccountActionsScreen, ActionTarget
from console.screens.list_screen import ListScreen
from console.widgets.account_pane import AccountPane
from console.widgets.badges import mrr_text, named_with_initials, plan_badge, state_badge
from console.widgets.columns import TENANT_ID_WIDTH, ago_width, date_width, mrr_width, widest
from console.widgets.filter_dialog import FilterGroup
from console.widgets.paged_list import Cell, Column, PagedList
from core.account_sorts import AccountSort
from core.account_status import AccountState, AccountStatus
from core.accounts import AccountRow, list_accounts
from core.paging import Page, PageRequest
from db.enums import SubscriptionPlan

__all__ = ["AccountScreen", "AccountsScreen"]

PLAN_ORDER = (
    SubscriptionPlan.Premium,
    SubscriptionPlan.Standard,
    SubscriptionPlan.Basis,
)  # display order, docs/figures.md#accounts-list
ISSUES = ("unsynced", "drift")


@dataclass(frozen=True)
class AccountQuery:
    search: str = ""
    plans: tuple[SubscriptionPlan, ...] = ()
    statuses: tuple[AccountStatus, ...] = ()
    unsynced: bool = False
    drift_detected: bool = False
    sort: AccountSort = AccountSort.name
    descending: bool = False
    now: datetime | None = None


class AccountsList(PagedList[AccountQuery, AccountRow]):
    COLUMNS = (
        Column(AccountSort.name, "accounts.column.name", width=22, flex=True, sort=AccountSort.name),
        Column(
            AccountSort.plan,
            "accounts.column.plan",
            width=lambda: widest(plan_badge(plan) for plan in SubscriptionPlan),
            drop=3,
            sort=AccountSort.plan,
        ),
        Column(
            AccountSort.mrr, "accounts.column.mrr", width=mrr_width, justify="right", sort=AccountSort.mrr, cut=False
        ),
        Column(
            AccountSort.renewal_date, "accounts.column.renewal", width=date_width, drop=4, sort=AccountSort.renewal_date
        ),
        Column(
            AccountSort.status,
            "accounts.column.status",
            width=lambda: widest(state_badge(state) for state in AccountState),
            drop=2,
            sort=AccountSort.status,
        ),
        Column(AccountSort.country, "accounts.column.country", width=2, drop=5, sort=AccountSort.country),
        Column(
            AccountSort.created_at, "accounts.column.signed_up", width=ago_width, drop=6, sort=AccountSort.created_at
        ),
        Column("id", "list.column.id", width=TENANT_ID_WIDTH, drop=7),
    )
    NOUN = "accounts.count"
    CONTACT = "list.copy.owner_email"

    def fetch(self, conn: Connection, query: AccountQuery, page: PageRequest) -> Page[AccountRow]:
        return list_accounts(
            conn,
            search=query.search,
            plans=query.plans,
            statuses=query.statuses,
            unsynced=query.unsynced,
            drift_detected=query.drift_detected,
            sort=query.sort,
            descending=query.descending,
            page=page,
            estimate_large_total=True,
        )

    def row_key(self, item: AccountRow) -> str:
        return item.id

    def cells(self, item: AccountRow) -> tuple[Cell, ...]:
        now = self.current_query.now if self.current_query else None
        return (
            named_with_initials(item.name, item.id),  # docs/rules.md R121
            plan_badge(item.plan),
            Text.assemble(
                mrr_text(
                    item.monthly_recurring_revenue,
                    item.forward_monthly_recurring_revenue,
                    item.mrr_changes_at_renewal,
                    item.currency,
                ),
                justify="right",
            ),
            short_date(item.renewal_date) if item.renewal_date else "-",
            state_badge(item.account_state),  # docs/rules.md R122
            item.country.upper() if item.country else "-",
            ago(item.created_at, now) if now else short_date(item.created_at),
            Text(item.id, style="dim"),
        )

    def contact(self, item: AccountRow) -> str | None:
        return item.owner.email if item.owner else None

    def empty_message(self) -> tuple[str, str]:
        screen = self.screen
        if isinstance(screen, AccountsScreen) and screen.has_filters():
            return (t("accounts.empty_filtered"), t("accounts.empty_filtered_hint"))
        return (t("accounts.empty"), t("accounts.empty_hint"))


class AccountsScreen(ListScreen, AccountActionsScreen):
    NAME = "accounts"
    TITLE_KEY = "menu.accounts"
    KEY_SCOPES = ("list", "sort", "accounts", "account")
    SEARCH_PLACEHOLDER = "accounts.search"
    DEFAULT_SORT = AccountSort.name

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.plans: frozenset[SubscriptionPlan] = frozenset()
        self.statuses: frozenset[AccountStatus] = frozenset()
        self.issues: frozenset[str] = frozenset()

    def make_list(self) -> AccountsList:
        return AccountsList(id="accounts-list")

    def compose_side(self) -> ComposeResult:
        yield AccountPane(id="account-pane")

    # -- state ---------------------------------------------------------------

    def current_query(self) -> AccountQuery:
        return AccountQuery(
            search=self.search,
            plans=tuple(plan for plan in PLAN_ORDER if plan in self.plans),
            statuses=tuple(status for status in AccountStatus if status in self.statuses),
            unsynced="unsynced" in self.issues,
            drift_detected="drift" in self.issues,
            sort=AccountSort(self.sort or AccountSort.name),
            descending=self.descending,
            now=self.backoffice.clock(),
        )

    def apply_navigation(self, params: dict[str, Any]) -> None:
        """A banner asks for `filter="drift"` or `"unsynced"`; a KPI tile for
        `statuses=[...]`: show exactly that, every other filter cleared
        (docs/rules.md R37, R56; docs/figures.md#kpi-tiles)."""
        if not params:
            return
        self.search = str(params.get("search", ""))
        self.plans = frozenset(SubscriptionPlan(plan) for plan in params.get("plans", ()))
        self.statuses = frozenset(AccountStatus(status) for status in params.get("statuses", ()))
        issue = params.get("filter")
        self.issues = frozenset({issue}) if issue in ISSUES else frozenset()
        if params.get("sort") in set(AccountSort):
            self.sort = AccountSort(params["sort"])
            self.descending = bool(params.get("descending", False))

    def filter_groups(self) -> list[FilterGroup]:
        return [
            FilterGroup(
                "plans",
                t("accounts.filter.plan"),
                [(plan.value, t(f"enum.plan.{plan}")) for plan in PLAN_ORDER],
                frozenset(self.plans),
            ),
            FilterGroup(
                "statuses",
                t("accounts.filter.status"),
                [(status.value, t(f"enum.account_status.{status}")) for status in AccountStatus],
                frozenset(self.statuses),
            ),
            FilterGroup(
                "issues",
                t("accounts.filter.issues"),
                [(issue, t(f"accounts.issue.{issue}")) for issue in ISSUES],
                frozenset(self.issues),
            ),
        ]

    def set_filter(self, key: str, values: frozenset[str]) -> None:
        if key == "plans":
            self.plans = frozenset(SubscriptionPlan(value) for value in values)
        elif key == "statuses":
            self.statuses = frozenset(AccountStatus(value) for value in values)
        elif key == "issues":
            self.issues = frozenset(values)

    def clear_filters(self) -> None:
        super().clear_filters()
        self.plans = frozenset()
        self.statuses = frozenset()
        self.issues = frozenset()

    def filter_summary(self) -> str:
        parts = []
        if self.plans:
            names = ", ".join(t(f"enum.plan.{plan}") for plan in PLAN_ORDER if plan in self.plans)
            parts.append(f"{escape(t('accounts.filter.plan'))}: [b]{escape(names)}[/b]")
        if self.statuses:
            names = ", ".join(t(f"enum.account_status.{s}") for s in AccountStatus if s in self.statuses)
            parts.append(f"{escape(t('accounts.filter.status'))}: [b]{escape(names)}[/b]")
        for issue in ISSUES:
            if issue in self.issues:
                parts.append(f"[black on yellow] {escape(t(f'accounts.issue.{issue}'))} [/]")
        if not parts:
            return ""
        return " · ".join(parts) + f"  [dim]{escape(t('accounts.filter.clear_hint'))}[/dim]"

    # -- side pane -------------------------------------------------------------

    def action_toggle_pane(self) -> None:
        """Narrow terminals hide the side pane; space shows it over the list."""
        self.query_one(AccountPane).toggle_class("-shown")

    # -- cursor, pane, opening -----------------------------------------------

    def on_paged_list_highlighted(self, message: PagedList.Highlighted) -> None:
        self.query_one(AccountPane).show(message.item, self.backoffice.clock())

    def open_item(self, item: AccountRow) -> None:
        self.backoffice.navigate("account", tenant_id=item.id)

    def action_target(self) -> ActionTarget | None:
        row = self.paged_list.highlighted
        return ActionTarget(row.id, row.name) if row is not None else None

    def account_changed(self) -> None:
        self.paged_list.reload()
        pane = self.query_one(AccountPane)
        pane.show(pane.row, self.backoffice.clock(), force=True)

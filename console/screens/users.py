"""Users across every account (docs/figures.md#users, docs/rules.md R94: search from
two characters, columns Name + email, Account, Role, Last seen, Status).
Most recently seen first; enter opens the person.

Toolbar: the search, and when they were last seen (docs/rules.md R110: any
time, within 24 hours, 7 or 30 days, or inactive; `v` cycles, a click picks);
`f` picks roles. The line under the toolbar names every filter in force; `c`
clears them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.text import Text
from sqlalchemy import Connection
from textual.app import ComposeResult

from console.formatting import ago
from console.i18n import t
from console.screens.list_screen import ListScreen
from console.screens.user import UserScreen
from console.widgets.badges import role_text, user_status_badge
from console.widgets.columns import PREFIXED_ID_WIDTH, ago_width, widest
from console.widgets.filter_dialog import FilterGroup
from console.widgets.paged_list import Cell, Column, PagedList
from console.widgets.view_pills import ViewPills
from core.paging import Page, PageRequest
from core.users import ROLE_ORDER, SEARCH_MINIMUM, UserActivity, UserRow, list_users
from db.enums import UserRole

__all__ = ["UserScreen", "UsersScreen"]


@dataclass(frozen=True)
class UserQuery:
    search: str
    now: datetime
    roles: tuple[UserRole, ...] = ()
    activity: UserActivity | None = None

    @property
    def filtered(self) -> bool:
        return len(self.search) >= SEARCH_MINIMUM or bool(self.roles) or self.activity is not None


class UsersList(PagedList[UserQuery, UserRow]):
    COLUMNS = (
        Column("name", "users.column.name", width=30, flex=True, max_width=60),
        Column("account", "users.column.account", width=20, drop=2, flex=True),
        Column("role", "users.column.role", width=lambda: widest(role_text(role) for role in UserRole), drop=3),
        Column("last_seen", "users.column.last_seen", width=ago_width, drop=1),
        Column(
            "status", "users.column.status", width=lambda: widest(user_status_badge(c) for c in (True, False)), drop=4
        ),
        Column("id", "list.column.id", width=PREFIXED_ID_WIDTH, drop=5),
    )
    NOUN = "users.count"
    ORDER = "list.order.last_seen_first"
    CONTACT = "list.copy.email"

    def fetch(self, conn: Connection, query: UserQuery, page: PageRequest) -> Page[UserRow]:
        return list_users(
            conn,
            search=query.search,
            roles=query.roles,
            activity=query.activity,
            now=query.now,
            page=page,
            estimate_large_total=True,
        )

    def row_key(self, item: UserRow) -> str:
        return item.id

    def cells(self, item: UserRow) -> tuple[Cell, ...]:
        name = Text(item.display_name, style="bold")
        if item.display_name != item.email:
            name.append(f"  {item.email}", style="dim")
        now = self.current_query.now if self.current_query else item.created_at
        return (
            name,
            item.tenant_name,
            role_text(item.role),
            ago(item.last_seen_at, now) if item.last_seen_at else "-",
            user_status_badge(item.email_confirmed),
            Text(item.id, style="dim"),
        )

    def contact(self, item: UserRow) -> str | None:
        return item.email

    def empty_message(self) -> tuple[str, str]:
        query = self.current_query
        if query is not None and (query.roles or query.activity is not None):
            return (t("users.empty_filters"), t("users.empty_filters_hint"))
        if query is not None and query.filtered:
            return (t("users.empty_filtered"), t("users.empty_filtered_hint"))
        return (t("users.empty"), t("users.empty_hint"))


ANY_TIME = "any"  # the activity pill of no activity filter
ACTIVITIES = tuple(UserActivity)


class UsersScreen(ListScreen):
    NAME = "users"
    TITLE_KEY = "menu.users"
    KEY_SCOPES = ("list", "views")
    SEARCH_PLACEHOLDER = "users.search"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.roles: frozenset[UserRole] = frozenset()
        self.activity: UserActivity | None = None

    def compose_toolbar(self) -> ComposeResult:
        yield ViewPills(
            t("users.activity.label"),
            [(ANY_TIME, t("users.activity.any"))]
            + [(activity.value, t(f"users.activity.{activity.name}")) for activity in ACTIVITIES],
            self._activity_value(),
            id="users-activity",
        )

    def make_list(self) -> UsersList:
        return UsersList(id="users-list")

    def current_query(self) -> UserQuery:
        # Below the minimum the list shows everyone: the same query as no search.
        search = self.search if len(self.search) >= SEARCH_MINIMUM else ""
        roles = tuple(role for role in ROLE_ORDER if role in self.roles)
        return UserQuery(search, self.backoffice.clock(), roles, self.activity)

    def filter_groups(self) -> list[FilterGroup]:
        return [
            FilterGroup(
                "roles",
                t("users.filter.role"),
                [(role.value, t(f"users.role.{role}")) for role in ROLE_ORDER],
                frozenset(role.value for role in self.roles),
            )
        ]

    def set_filter(self, key: str, values: frozenset[str]) -> None:
        if key == "roles":
            self.roles = frozenset(UserRole(value) for value in values)

    def clear_filters(self) -> None:
        super().clear_filters()
        self.roles = frozenset()
        self.activity = None

    def filter_summary(self) -> str:
        parts = []
        if self.roles:
            names = ", ".join(t(f"users.role.{role}") for role in ROLE_ORDER if role in self.roles)
            parts.append(f"{escape(t('users.filter.role'))}: [b]{escape(names)}[/b]")
        if self.activity is not None:
            parts.append(f"[b]{escape(t(f'users.activity.summary.{self.activity.name}'))}[/b]")
        if 0 < len(self.search) < SEARCH_MINIMUM:
            parts.append(f"[dim]{escape(t('users.search_minimum', count=SEARCH_MINIMUM))}[/dim]")
        if self.roles or self.activity is not None:
            return " · ".join(parts) + f"  [dim]{escape(t('accounts.filter.clear_hint'))}[/dim]"
        return " · ".join(parts)

    def reload_list(self, *, page: int = 1) -> None:
        self.query_one(ViewPills).value = self._activity_value()
        super().reload_list(page=page)

    def _activity_value(self) -> str:
        return self.activity.value if self.activity is not None else ANY_TIME

    def _choose_activity(self, value: str) -> None:
        self.activity = None if value == ANY_TIME else UserActivity(value)
        self.reload_list()

    def action_cycle_view(self) -> None:
        self._choose_activity(self.query_one(ViewPills).following())

    def on_view_pills_chosen(self, message: ViewPills.Chosen) -> None:
        self._choose_activity(message.value)

    def open_item(self, item: UserRow) -> None:
        self.backoffice.navigate("user", user_id=item.id)

    def apply_navigation(self, params: dict[str, Any]) -> None:
        """`search`, and `roles=[...]` / `activity="7d"` for a link that
        shows exactly those users."""
        if "search" in params:
            self.search = str(params["search"])
        if "roles" in params:
            self.roles = frozenset(UserRole(role) for role in params["roles"])
        if "activity" in params:
            self.activity = UserActivity(params["activity"]) if params["activity"] else None

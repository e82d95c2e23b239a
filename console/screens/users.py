"""Users across every account (docs/figures.md#users, docs/rules.md R94: search from
two characters, columns Name + email, Account, Role, Last seen, Status).
Most recently seen first; enter opens the person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from sqlalchemy import Connection

from console.formatting import ago
from console.i18n import t
from console.screens.list_screen import ListScreen
from console.screens.user import UserScreen
from console.widgets.badges import role_text, user_status_badge
from console.widgets.columns import PREFIXED_ID_WIDTH, ago_width, widest
from console.widgets.paged_list import Cell, Column, PagedList
from core.paging import Page, PageRequest
from core.users import SEARCH_MINIMUM, UserRow, list_users
from db.enums import UserRole

__all__ = ["UserScreen", "UsersScreen"]


@dataclass(frozen=True)
class UserQuery:
    search: str
    now: datetime


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
        return list_users(conn, search=query.search, page=page, estimate_large_total=True)

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
        if self.current_query is not None and len(self.current_query.search) >= SEARCH_MINIMUM:
            return (t("users.empty_filtered"), t("users.empty_filtered_hint"))
        return (t("users.empty"), t("users.empty_hint"))


class UsersScreen(ListScreen):
    NAME = "users"
    TITLE_KEY = "menu.users"
    KEY_SCOPES = ("list",)
    SEARCH_PLACEHOLDER = "users.search"

    def make_list(self) -> UsersList:
        return UsersList(id="users-list")

    def current_query(self) -> UserQuery:
        # Below the minimum the list shows everyone: the same query as no search.
        search = self.search if len(self.search) >= SEARCH_MINIMUM else ""
        return UserQuery(search, self.backoffice.clock())

    def filter_summary(self) -> str:
        if 0 < len(self.search) < SEARCH_MINIMUM:
            return f"[dim]{t('users.search_minimum', count=SEARCH_MINIMUM)}[/dim]"
        return ""

    def open_item(self, item: UserRow) -> None:
        self.backoffice.navigate("user", user_id=item.id)

    def apply_navigation(self, params: dict[str, Any]) -> None:
        if "search" in params:
            self.search = str(params["search"])

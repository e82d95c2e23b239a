"""`backoffice users list|show`: users across every account and one user's
detail, as one JSON document (--json) or tables."""

from __future__ import annotations

from typing import Any

import typer

from console.cli.export import AllOption, CsvOption, exported
from console.cli.lists import email_status, mrr_cell, page_line, read
from console.cli.options import JsonOption, PageOption, PageSizeOption, enum_values, identifier, search_option
from console.cli.output import emit_json, emit_table, usage_error
from console.cli.reports import DASH
from core import user_activity, users
from core.clock import utcnow
from core.jsonable import to_jsonable
from core.paging import Page, PageRequest
from db.enums import UserRole

users_app = typer.Typer(help="Users across every account: the list and one user's detail.", no_args_is_help=True)


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    search: str | None = search_option("E-mail, first or last name, or account name (2 characters or more)."),
    role: list[str] | None = typer.Option(None, "--role", help="Owner, Admin, Member; repeat or comma-separate."),
    active_within: str | None = typer.Option(None, "--active-within", help="Seen within the last 24h, 7d or 30d."),
    inactive: bool = typer.Option(False, "--inactive", help="Not seen in 30 days, or never."),
    page: int = PageOption,
    page_size: int = PageSizeOption,
    json: bool = JsonOption,
    csv: bool = CsvOption,
    all_pages: bool = AllOption,
) -> None:
    """Users of every account, most recently seen first."""
    roles = enum_values(UserRole, role, "--role")
    activity = _activity(active_within, inactive)
    now = utcnow()

    def fetch(conn: Any, request: PageRequest) -> Page[users.UserRow]:
        return users.list_users(conn, search=search, roles=roles, activity=activity, now=now, page=request)

    request = PageRequest(page, page_size)
    if exported(ctx, users.UserRow, fetch, request, csv_output=csv, json_output=json, all_pages=all_pages):
        return
    result, fmt = read(ctx, lambda conn: fetch(conn, request))
    if json:
        emit_json(result)
        return
    emit_table(
        "Users",
        ["Id", "Name", "Email", "Account", "Role", "Last seen", "Status"],
        [
            [u.id, u.display_name, u.email, u.tenant_name or DASH, u.role, fmt.moment(u.last_seen_at), email_status(u)]
            for u in result.items
        ],
    )
    page_line(result, "users", fmt)


ACTIVE_WITHIN = {activity.value: activity for activity in users.ACTIVE_WITHIN}


def _activity(active_within: str | None, inactive: bool) -> users.UserActivity | None:
    """`--active-within` or `--inactive`, never both (a usage error)."""
    if active_within is not None and inactive:
        raise usage_error("--active-within and --inactive exclude each other; give one")
    if inactive:
        return users.UserActivity.inactive
    if active_within is None:
        return None
    chosen = ACTIVE_WITHIN.get(active_within.strip().lower())
    if chosen is None:
        raise usage_error(
            f"unknown value {active_within!r} for --active-within; use one of: {', '.join(ACTIVE_WITHIN)}"
        )
    return chosen


@users_app.command("show")
def users_show(
    ctx: typer.Context,
    user_id: str = typer.Argument(..., metavar="USER_ID", parser=identifier, help="The user id (usr_...)."),
    json: bool = JsonOption,
) -> None:
    """One user: memberships, tiles, sign-ins of the last 30 days and sessions."""
    now = utcnow()

    def query(conn: Any) -> dict[str, Any]:
        detail = users.user_detail(conn, user_id, now)
        return {
            "detail": detail,
            "sessions": user_activity.sessions(conn, detail.email, now=now),
            "login_history": user_activity.login_history(conn, detail.email, now=now),
        }

    result, fmt = read(ctx, query)
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
            ["Last seen", fmt.moment(detail.last_seen_at)],
            ["Created", fmt.moment(detail.created_at)],
        ],
    )
    emit_table(
        "Memberships",
        ["Account", "Plan", "Status", "Role", "MRR", "Renewal"],
        [
            [m.tenant_name or DASH, m.plan, m.status, m.role, mrr_cell(fmt, m), fmt.moment(m.renewal_date)]
            for m in detail.memberships
        ],
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
                f"Revoked ({s.revoked_reason})" if s.revoked else s.state.value,
            ]
            for s in sessions.items
        ],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")

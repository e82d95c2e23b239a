"""`backoffice audit`: the audit trail of admin actions, newest first, paged
like every list (`{"items", "total", "page", "page_size"}` with --json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any

import typer

from console.cli.export import AllOption, CsvOption, exported
from console.cli.lists import page_line, read
from console.cli.options import JsonOption, PageOption, PageSizeOption, text, whole_number
from console.cli.output import emit_json, emit_table
from console.cli.reports import DASH
from core.audit import ActionRow, list_actions
from core.listing import BIGINT_MAX
from core.paging import Page, PageRequest


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def since_time(value: str) -> datetime:
    """A typer parser: an ISO 8601 date (midnight UTC) or time (UTC unless it says otherwise)."""
    raw = value.strip()
    try:
        moment = (
            datetime.fromisoformat(raw)
            if "T" in raw or " " in raw
            else datetime.combine(datetime.fromisoformat(raw).date(), time(0))
        )
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (2026-05-01 or 2026-05-01T08:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def audit(
    ctx: typer.Context,
    tenant: int | None = typer.Option(
        None,
        "--tenant",
        metavar="TENANT_ID",
        parser=whole_number("tenant", 1, BIGINT_MAX),
        help="Only this account's actions.",
    ),
    operator: str | None = typer.Option(None, "--operator", parser=text, help="Only this operator's actions."),
    since: datetime | None = typer.Option(
        None, "--since", metavar="ISO-DATE", parser=since_time, help="Only actions at or after this date or time (UTC)."
    ),
    page: int = PageOption,
    page_size: int = PageSizeOption,
    json_output: bool = JsonOption,
    csv_output: bool = CsvOption,
    all_pages: bool = AllOption,
) -> None:
    """Who ran which admin action (sync, drift ack, replay, poll, drift check, demo seed, operators apply), how, and how it ended."""

    def fetch(conn: Any, request: PageRequest) -> Page[ActionRow]:
        return list_actions(conn, tenant_id=tenant, operator=operator, since=since, page=request)

    request = PageRequest(page, page_size)
    if exported(ctx, ActionRow, fetch, request, csv_output=csv_output, json_output=json_output, all_pages=all_pages):
        return
    result, fmt = read(ctx, lambda conn: fetch(conn, request))
    if json_output:
        emit_json(result)
        return
    emit_table(
        "Admin actions",
        ["At (UTC)", "Operator", "Via", "Action", "Account", "Outcome", "Details"],
        [
            [
                row.at.isoformat(timespec="seconds"),
                row.operator if row.operator == row.db_role else f"{row.operator} ({row.db_role})",
                row.path,
                row.action,
                _account(row),
                row.outcome,
                _details(row),
            ]
            for row in result.items
        ],
    )
    page_line(result, "actions", fmt)


def _account(row: ActionRow) -> str:
    if row.tenant_id is None:
        return DASH
    return f"{row.tenant_name} (#{row.tenant_id})" if row.tenant_name else f"#{row.tenant_id}"


def _details(row: ActionRow) -> str:
    if row.outcome == "failed" and row.details.get("error"):
        return str(row.details["error"])
    shown = {key: value for key, value in row.details.items() if key not in ("failures", "rows")}
    return json.dumps(shown, ensure_ascii=False, separators=(", ", ": ")) if shown else DASH

"""What the list commands (accounts, users, billing-events, invoices) share:
one read-only transaction per command, choices by name, the page line and the
MRR cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer

from console.cli.context import app_context
from console.cli.output import stdout
from console.cli.reports import DASH, Formatter
from core.paging import Page

T = TypeVar("T")


def read(ctx: typer.Context, query: Callable[[Any], T]) -> tuple[T, Formatter]:
    """Run the reads of one command in one read-only transaction."""
    context = app_context(ctx)
    with context.reading() as conn:
        result = query(conn)
    return result, Formatter(context.settings.locale)


def choice(enum: type[Any], value: str, option: str, aliases: dict[str, Any] | None = None) -> Any:
    """One member by name, case-insensitive (usage error otherwise)."""
    wanted = value.strip().lower()
    if aliases and wanted in aliases:
        return aliases[wanted]
    for member in enum:
        if member.value.lower() == wanted:
            return member
    allowed = ", ".join(member.value for member in enum)
    raise typer.BadParameter(f"unknown value {value!r} for {option}; use one of: {allowed}")


def page_line(page: Page[Any], noun: str, fmt: Formatter) -> None:
    """ "Page 1 of 1 (1 account)": `noun` is the plural, a regular English one."""
    if page.total_pages:
        counted = noun.removesuffix("s") if page.total == 1 else noun
        stdout.print(f"Page {page.page} of {fmt.number(page.total_pages)} ({fmt.number(page.total)} {counted})")
    else:
        stdout.print(f"No {noun}.")


def email_status(user: Any) -> str:
    """ "Confirmed" for a confirmed e-mail: not "Active", which an account's
    user counts use for seen in the last 30 days (docs/rules.md R87)."""
    return "Confirmed" if user.email_confirmed else "Pending"


def mrr_cell(fmt: Formatter, row: Any) -> str:
    """The current price, and what it becomes at renewal when it changes (docs/rules.md R36)."""
    if row.monthly_recurring_revenue is None or not row.currency:
        return DASH
    current = fmt.money(row.monthly_recurring_revenue, row.currency)
    if row.mrr_changes_at_renewal:
        return f"{current} → {fmt.money(row.forward_monthly_recurring_revenue, row.currency)}"
    return current

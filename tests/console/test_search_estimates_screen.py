"""The accounts, billing events and invoices lists ask for a search's total
as the users list does (docs/rules.md R200): beyond the cap the status line
says "about", and paging on reaches the page that ends the list, which says
the exact count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.widgets import Static

from console.app import BackofficeApp
from console.widgets.paged_list import PagedList
from core import totals
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    lists_database,
    lists_engine,
    make_lists_app,
    plain,
    platform,
    quiet_dashboard,
    settled,
)


@pytest.mark.parametrize("too_low", [False, True])
@pytest.mark.parametrize(("key", "noun"), [("a", "accounts"), ("b", "events"), ("i", "records")])
async def test_a_broad_search_shows_an_estimate_labelled_as_one(
    make_lists_app: Callable[..., BackofficeApp], monkeypatch: pytest.MonkeyPatch, key: str, noun: str, too_low: bool
) -> None:
    """Even when the estimate promised fewer pages than there are."""
    monkeypatch.setattr(totals, "EXACT_UP_TO", 1)
    if too_low:
        monkeypatch.setattr(totals, "rounded_estimate", lambda _estimate, at_least: at_least)
    app = make_lists_app()
    async with app.run_test(size=(130, 10)) as pilot:  # a few rows a page
        await settled(pilot)
        await pilot.press(key)
        await settled(pilot, DEBOUNCE)
        await pilot.press("slash", "s", "enter")
        await settled(pilot, DEBOUNCE)
        listed = app.screen.query_one(PagedList)
        status = plain(app.screen.query_one(".list-status", Static))
        assert status.startswith("Page 1 of about ") and "· about " in status, status
        for _ in range(20):  # onwards until the page that ends the list
            if not listed.result.total_is_estimate:
                break
            await pilot.press("pagedown")
            await settled(pilot)
        status = plain(app.screen.query_one(".list-status", Static))
        assert listed.result.page > 1 and "about" not in status and f" {noun}" in status, status

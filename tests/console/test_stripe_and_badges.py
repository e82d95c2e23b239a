"""Stripe links, the account state pill and the initials badges on screen
(docs/rules.md R120-R123): the header's pill and Stripe line, copying the
customer link from the actions menu, the palette finding an account by its
Stripe ids, the looks of every state, and snapshots at 80x24 and wide."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rich.color import ColorType
from rich.console import Group
from rich.style import Style
from rich.text import Text
from sqlalchemy import Engine
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from console.app import BackofficeApp
from console.formatting import DASH
from console.i18n import set_locale
from console.screens.account import AccountScreen
from console.screens.invoice import InvoiceScreen
from console.screens.invoices import InvoicesList
from console.widgets.badges import (
    INITIALS_STYLES,
    STATE_LOOK,
    initials_badge,
    state_badge,
    state_pill,
    stripe_link,
)
from console.widgets.dialogs import ActionsMenu
from core.account_status import AccountState
from tests.console.lists_data import NORDLYS_STRIPE_INVOICE, Platform
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    NARROW,
    WIDE,
    app_factory,
    lists_database,
    lists_engine,
    make_lists_app,
    plain,
    platform,
    quiet_dashboard,
    reader_engine,
    settled,
)

TEST_KEY = "sk_test_dummy"


async def _open(pilot: Pilot[Any], tenant_id: int) -> AccountScreen:
    await settled(pilot)
    pilot.app.navigate("account", tenant_id=str(tenant_id))
    await settled(pilot, DEBOUNCE)
    screen = pilot.app.screen
    assert isinstance(screen, AccountScreen)
    return screen


# -- looks -------------------------------------------------------------------------


def test_every_state_has_its_own_standard_colour_and_words() -> None:
    assert set(STATE_LOOK) == set(AccountState)
    colours = [colour for colour, _ in STATE_LOOK.values()]
    assert len(set(colours)) == len(colours)
    for state in AccountState:
        badge, pill = state_badge(state), state_pill(state)
        for text in (badge, pill):
            style = Style.parse(str(text.style))
            for colour in (style.color, style.bgcolor):
                # The 16-colour theme shows them: standard colours only.
                assert colour is None or colour.type is ColorType.STANDARD, (state, text.style)
        assert "enum." not in badge.plain and badge.plain.strip()
    for locale in ("en-US", "da-DK"):
        set_locale(locale)
        try:
            labels = {state_badge(state).plain for state in AccountState}
        finally:
            set_locale("en-US")
        assert len(labels) == len(AccountState)
        assert not any("enum." in label for label in labels)


def test_initials_badges_are_two_cells_in_a_stable_palette_colour() -> None:
    for style in INITIALS_STYLES:
        parsed = Style.parse(style)
        assert parsed.bgcolor is not None and parsed.bgcolor.type is ColorType.STANDARD
    badge = initials_badge("Nordlys ApS", 7)
    assert badge.plain == "NA" and str(badge.style) == str(initials_badge("Other name", 7).style)
    assert initials_badge("X", 7).plain == "X " and initials_badge("株式会社", 7).cell_len == 2
    assert initials_badge("", 7).plain == "? "


def test_a_stripe_id_is_a_hyperlink_to_its_page() -> None:
    link = stripe_link("cus_1", "https://dashboard.stripe.com/customers/cus_1")
    assert link.plain == "cus_1" and Style.parse(str(link.style)).link == "https://dashboard.stripe.com/customers/cus_1"
    assert stripe_link("cus_1", None).style == "" and stripe_link(None, None).plain == DASH


# -- the account screen -------------------------------------------------------------


async def test_a_suspended_account_shows_its_pill_and_status(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await _open(pilot, platform.skovly.id)
        header = app.screen.query_one("#account-header", Static)
        text = plain(header)
        assert "SI Skovly IVS" in text
        assert "⏸ Suspended" in text and "✓ Active" in text  # the pill, then the status it keeps
        assert f"Stripe cus_{platform.skovly.id} · sub_stripe_{platform.skovly.id}" in text
        assert "mode" not in text  # no key: the mode is not known
        links = {span.style.link for span in _spans(header) if isinstance(span.style, Style) and span.style.link}
        assert f"https://dashboard.stripe.com/customers/cus_{platform.skovly.id}" in links


def _spans(widget: Static) -> list[Any]:
    content = widget.content
    texts = [part for part in content.renderables if isinstance(part, Text)] if isinstance(content, Group) else []
    return [span for text in texts for span in text.spans]


async def test_test_mode_links_go_to_the_test_dashboard(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app(stripe_api_key=TEST_KEY)
    async with app.run_test(size=WIDE) as pilot:
        await _open(pilot, platform.nordlys.id)
        header = app.screen.query_one("#account-header", Static)
        assert "test mode" in plain(header)
        links = {span.style.link for span in _spans(header) if isinstance(span.style, Style) and span.style.link}
        assert links == {
            f"https://dashboard.stripe.com/test/customers/cus_{platform.nordlys.id}",
            f"https://dashboard.stripe.com/test/subscriptions/sub_stripe_{platform.nordlys.id}",
        }
        assert f"cus_{platform.nordlys.id}" in plain(app.screen.query_one("#account-plan", Static))


async def test_copy_stripe_link_from_the_actions_menu(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app(stripe_api_key=TEST_KEY)
    async with app.run_test(size=WIDE) as pilot:
        await _open(pilot, platform.nordlys.id)
        await pilot.press("m")
        await settled(pilot)
        assert isinstance(app.screen, ActionsMenu)
        menu = app.screen.query_one(OptionList)
        ids = [menu.get_option_at_index(i).id for i in range(menu.option_count)]
        assert "copy_stripe_link" in ids
        menu.highlighted = ids.index("copy_stripe_link")
        await pilot.press("enter")
        await settled(pilot)
        url = f"https://dashboard.stripe.com/test/customers/cus_{platform.nordlys.id}"
        assert app.clipboard == url
        assert any(url in str(n.message) for n in app._notifications)


async def test_copy_from_the_accounts_list_reads_the_customer_first(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("accounts", search="skovly")
        await settled(pilot, DEBOUNCE)
        await app.screen.run_action("copy_stripe_link")
        await settled(pilot)
        assert app.clipboard == f"https://dashboard.stripe.com/customers/cus_{platform.skovly.id}"


async def test_a_reader_copies_the_link_with_its_key(reader_engine: Engine, platform: Platform) -> None:
    """Copying reads nothing new and writes nothing: `L` works without admin rights."""
    app = app_factory(reader_engine)()
    async with app.run_test(size=WIDE) as pilot:
        await _open(pilot, platform.solstrand.id)
        assert not app.can_admin
        await pilot.press("L")
        await settled(pilot)
        assert app.clipboard == f"https://dashboard.stripe.com/customers/cus_{platform.solstrand.id}"


async def test_a_free_account_has_no_link_to_copy(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await _open(pilot, platform.havblik.id)
        assert not app.screen.offers("copy_stripe_link")
        await app.screen.run_action("copy_stripe_link")
        await settled(pilot)
        assert app.clipboard == ""
        assert any("no Stripe customer" in str(n.message) for n in app._notifications)


async def test_the_invoice_links_its_stripe_customer(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app(stripe_api_key=TEST_KEY)
    async with app.run_test(size=WIDE) as pilot:
        screen = await _open(pilot, platform.nordlys.id)
        await pilot.press("3")
        await settled(pilot, DEBOUNCE)
        await pilot.press("enter")
        await settled(pilot)
        assert isinstance(app.screen, InvoiceScreen) and app.screen.invoice is not None
        body = app.screen.query_one("#invoice-body", Static)
        assert f"Stripe customer cus_{platform.nordlys.id}" in plain(body)
        links = {span.style.link for span in _spans(body) if isinstance(span.style, Style) and span.style.link}
        assert f"https://dashboard.stripe.com/test/customers/cus_{platform.nordlys.id}" in links
        await pilot.press("escape")
        await settled(pilot)
        assert app.screen is screen


async def test_invoice_rows_link_their_stripe_customer(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app(stripe_api_key=TEST_KEY)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        app.navigate("invoices", search="nordlys")
        await settled(pilot, DEBOUNCE)
        invoices = app.screen.query_one(InvoicesList)
        assert invoices.result is not None and invoices.result.items
        for item in invoices.result.items:
            account = invoices.cells(item)[0]
            assert isinstance(account, Text) and account.plain == "Nordlys ApS"
            assert account.style.link == f"https://dashboard.stripe.com/test/customers/cus_{platform.nordlys.id}"


async def test_invoice_rows_link_their_stripe_invoice_when_wide(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    """R120: the Stripe invoice column, a link in the key's mode; dropped on a narrow terminal."""
    app = make_lists_app(stripe_api_key=TEST_KEY)
    async with app.run_test(size=(180, 40)) as pilot:
        await settled(pilot)
        app.navigate("invoices", search="nordlys")
        await settled(pilot, DEBOUNCE)
        invoices = app.screen.query_one(InvoicesList)
        assert invoices.result is not None
        assert "stripe" in {str(key.value) for key in invoices.table.columns}
        linked = [item for item in invoices.result.items if item.stripe_invoice_id]
        assert linked and all(item.stripe_invoice_id == NORDLYS_STRIPE_INVOICE for item in linked)
        cell = invoices.cells(linked[0])[-1]
        assert isinstance(cell, Text) and cell.plain == NORDLYS_STRIPE_INVOICE
        assert cell.style.link == f"https://dashboard.stripe.com/test/invoices/{NORDLYS_STRIPE_INVOICE}"
        older = next(item for item in invoices.result.items if not item.stripe_invoice_id)
        assert invoices.cells(older)[-1].plain == DASH
        await pilot.resize_terminal(80, 24)
        await settled(pilot, DEBOUNCE)
        assert "stripe" not in {str(key.value) for key in invoices.table.columns}
        app.push_screen(InvoiceScreen(linked[0].tenant_id, linked[0].id))
        await settled(pilot)
        assert isinstance(app.screen, InvoiceScreen) and app.screen.invoice is not None
        body = app.screen.query_one("#invoice-body", Static)
        assert f"Stripe invoice {NORDLYS_STRIPE_INVOICE}" in plain(body)
        links = {span.style.link for span in _spans(body) if isinstance(span.style, Style) and span.style.link}
        assert f"https://dashboard.stripe.com/test/invoices/{NORDLYS_STRIPE_INVOICE}" in links


# -- the palette ---------------------------------------------------------------------


async def _palette(pilot: Pilot[Any], query: str) -> list[str]:
    await pilot.press("ctrl+p")
    await settled(pilot)
    assert isinstance(pilot.app.screen, CommandPalette)
    # The whole query at once (as a paste): a search per typed character is
    # the palette's own business, tested with it.
    pilot.app.screen.query_one(Input).value = query
    options: Any = []
    for _ in range(60):
        await pilot.pause(0.05)
        options = pilot.app.screen.query_one("CommandList").options
        if options:
            break
    return [str(option.prompt) for option in options]


@pytest.mark.parametrize("prefix", ["cus_", "sub_stripe_"])
async def test_the_palette_finds_an_account_by_its_stripe_id(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform, prefix: str
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        prompts = await _palette(pilot, f"{prefix}{platform.birk.id}")
        assert prompts and "Birk" in prompts[0], prompts
        await pilot.press("enter")
        await settled(pilot, DEBOUNCE)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.tenant_id == str(platform.birk.id)


async def test_palette_results_carry_the_initials_badge(
    make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    app = make_lists_app()
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        prompts = await _palette(pilot, "nordlys")
        assert any(prompt.startswith("NA ") and "Nordlys ApS" in prompt for prompt in prompts), prompts


# -- snapshots -----------------------------------------------------------------------


def test_snapshot_suspended_account_with_links_and_pill_at_80x24(
    snap_compare: Any, make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _open(pilot, platform.skovly.id)

    assert snap_compare(make_lists_app(stripe_api_key=TEST_KEY), terminal_size=NARROW, run_before=run_before)


def test_snapshot_account_with_links_and_pill_wide(
    snap_compare: Any, make_lists_app: Callable[..., BackofficeApp], platform: Platform
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _open(pilot, platform.skovly.id)

    assert snap_compare(make_lists_app(stripe_api_key=TEST_KEY), terminal_size=WIDE, run_before=run_before)

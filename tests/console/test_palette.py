"""Command palette: jump to an account or a user by name; run a key's action."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import CommandPalette

from console.app import BackofficeApp
from console.palette import find_jumps
from console.screens.dashboard import DashboardScreen
from console.screens.help import HelpScreen
from console.screens.kiosk import KioskScreen
from tests.console.conftest import settle

SIZE = (100, 30)


def test_find_jumps_searches_accounts_and_users(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    with app.read_only() as conn:
        jumps = find_jumps(conn, "nordlys")
    kinds = {(jump.kind, jump.label) for jump in jumps}
    assert ("account", "Nordlys ApS") in kinds
    assert ("user", "Astrid Holm") in kinds  # her account's name matches
    account = next(jump for jump in jumps if jump.kind == "account")
    assert set(account.params) == {"tenant_id"}


async def _palette_results(pilot, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*query)
    for _ in range(40):  # the palette gathers hits asynchronously
        await pilot.pause(0.05)
        options = pilot.app.screen.query_one("CommandList").options
        if options:
            break
    return [str(option.prompt) for option in options]


async def test_palette_jumps_to_an_account(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prompts = await _palette_results(pilot, "skovly")
        assert any("Skovly IVS" in prompt for prompt in prompts), prompts
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.NAME == "account"
        assert set(app.screen.params) >= {"tenant_id"}


async def test_palette_runs_a_key_action(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prompts = await _palette_results(pilot, "help")
        assert any("Help" in prompt for prompt in prompts), prompts
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_no_palette_in_kiosk_mode(make_seeded_app: Callable[..., BackofficeApp]) -> None:
    app = make_seeded_app(kiosk=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, KioskScreen)

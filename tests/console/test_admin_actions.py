"""Admin actions in the console: Sync with Stripe (`s`) with its progress and
result dialog (clean, drift, failure), Acknowledge drift (`A`), Replay
archived events (`R` and the actions menu), and their absence for a
read-only role and in kiosk mode."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList, Static

from console import i18n, keys
from console.app import BackofficeApp
from console.screens import account_actions
from console.screens.account import AccountScreen
from console.screens.accounts import AccountsScreen
from console.widgets.dialogs import ActionsMenu, ConfirmDialog, ProgressDialog, ResultDialog
from db.enums import SubscriptionPlan
from db.models import BillingEvent, Subscription
from stripe_sync import archive, sync
from stripe_sync.processing import SyncStep
from stripe_sync.state_sync import Transition
from tests import factories
from tests.console.lists_data import Platform, seed_platform
from tests.console.lists_fixtures import (  # noqa: F401
    DEBOUNCE,
    WIDE,
    app_factory,
    eventually,
    lists_database,
    lists_engine,
    plain,
    platform,
    quiet_dashboard,
    reader_engine,
    settled,
)
from tests.factories import NOW
from tests.stripe_sync.fake_stripe import CUSTOMER, FakeStripe

ADMIN_KEYS = {"sync", "acknowledge_drift", "replay_archived", "account_actions"}


@pytest.fixture
def admin_platform(console_engine: Engine) -> Iterator[tuple[Engine, Platform, factories.TenantRef]]:
    """A database of the test's own (actions write): the fixed platform plus
    "Kunde ApS", whose Stripe customer is the fake gateway's."""
    with console_engine.begin() as conn:
        platform_ = seed_platform(conn)
        kunde = factories.tenant(
            conn, name="Kunde ApS", plan="Basis", created_at=NOW - timedelta(days=1), stripe_customer_id=CUSTOMER
        )
    yield console_engine, platform_, kunde


def use_stripe(monkeypatch: pytest.MonkeyPatch, stripe: FakeStripe) -> None:
    for module in (sync, archive):
        monkeypatch.setattr(module, "stripe_client_for", lambda settings: stripe)


def billing_event_count(engine: Engine, tenant: factories.TenantRef) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(BillingEvent).where(BillingEvent.tenant_id == tenant.id)
        ).scalar_one()


async def open_account(pilot: Pilot[Any], tenant: factories.TenantRef) -> AccountScreen:
    await settled(pilot)
    pilot.app.navigate("account", tenant_id=str(tenant.id))
    await settled(pilot, DEBOUNCE)
    screen = pilot.app.screen
    assert isinstance(screen, AccountScreen) and screen.view is not None
    return screen


def dialog_text(app: BackofficeApp) -> str:
    text = " ".join(plain(static) for static in app.screen.query(Static) if not isinstance(static, Button))
    return text.replace("\u202f", " ")  # Babel's narrow space before AM/PM


# -- snapshots -------------------------------------------------------------------


async def confirm(pilot: Pilot[Any]) -> None:
    """Press the dialog's confirm button (Cancel has the focus)."""
    assert isinstance(pilot.app.screen, ConfirmDialog)
    await pilot.click("#confirm")
    await settled(pilot, 0.2)


def _sync_and_show(tenant: factories.TenantRef) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_account(pilot, tenant)
        await pilot.press("s")
        await settled(pilot)
        await confirm(pilot)
        await settled(pilot, DEBOUNCE)

    return run_before


def test_snapshot_sync_result_clean(
    snap_compare: Any,
    admin_platform: tuple[Engine, Platform, factories.TenantRef],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, _, kunde = admin_platform
    use_stripe(monkeypatch, FakeStripe())
    app = app_factory(engine)(stripe_api_key="sk_test_console")
    assert snap_compare(app, terminal_size=WIDE, run_before=_sync_and_show(kunde))


def test_snapshot_sync_result_drift(
    snap_compare: Any,
    admin_platform: tuple[Engine, Platform, factories.TenantRef],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, _, kunde = admin_platform
    use_stripe(
        monkeypatch, FakeStripe(scheduled_plan=SubscriptionPlan.Premium, catalog_plans=(SubscriptionPlan.Standard,))
    )
    app = app_factory(engine)(stripe_api_key="sk_test_console")
    assert snap_compare(app, terminal_size=WIDE, run_before=_sync_and_show(kunde))


def test_snapshot_non_admin_account_detail(snap_compare: Any, reader_engine: Engine, platform: Platform) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_account(pilot, platform.solstrand)
        await pilot.press("s", "m")  # nothing happens
        await settled(pilot)

    assert snap_compare(app_factory(reader_engine)(), terminal_size=WIDE, run_before=run_before)


# -- sync ------------------------------------------------------------------------


async def test_sync_shows_progress_then_the_clean_result(
    admin_platform: tuple[Engine, Platform, factories.TenantRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _, kunde = admin_platform
    use_stripe(monkeypatch, FakeStripe())
    release = threading.Event()
    real_sync = account_actions.sync_tenant

    def slow_sync(*args: Any, progress: Callable[[SyncStep], None], **kwargs: Any) -> Any:
        progress(SyncStep.ReadingCustomer)
        assert release.wait(10)
        return real_sync(*args, progress=progress, **kwargs)

    monkeypatch.setattr(account_actions, "sync_tenant", slow_sync)
    app = app_factory(engine)(stripe_api_key="sk_test_console")
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_account(pilot, kunde)
        await pilot.press("s")
        await settled(pilot)
        assert "Sync Kunde ApS with Stripe?" in dialog_text(app)
        await pilot.click("#confirm")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ProgressDialog)
        assert "Syncing Kunde ApS with Stripe" in dialog_text(app)
        assert (
            plain(app.screen.query_one("#progress-step", Static)) == "Reading the customer and subscription from Stripe"
        )
        await pilot.press("escape")  # the running sync cannot be dismissed
        assert isinstance(app.screen, ProgressDialog)
        release.set()
        await settled(pilot, 0.2)
        assert isinstance(app.screen, ResultDialog) and app.screen.dialog_id == "sync-result"
        text = dialog_text(app)
        assert "✓ Sync complete: Kunde ApS" in text
        assert "Account state matches Stripe." in text and "Billing events appended: 3" in text
        assert "Synced at May 8, 2026, 12:00 PM" in text
        await pilot.press("escape")
        await settled(pilot, DEBOUNCE)
        assert app.screen is screen
        assert billing_event_count(engine, kunde) == 3
        # The screen shows what the sync changed: the plan Stripe reports.
        assert screen.view.detail.plan is SubscriptionPlan.Standard
        assert screen.query_one("#events-preview").result.total == 2  # the third is a NoOp: audit only, hidden


async def test_sync_in_danish_shows_danish_steps_and_changes(
    admin_platform: tuple[Engine, Platform, factories.TenantRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _, kunde = admin_platform
    use_stripe(
        monkeypatch, FakeStripe(scheduled_plan=SubscriptionPlan.Premium, catalog_plans=(SubscriptionPlan.Standard,))
    )
    release = threading.Event()
    real_sync = account_actions.sync_tenant

    def slow_sync(*args: Any, progress: Callable[[SyncStep], None], **kwargs: Any) -> Any:
        progress(SyncStep.ReplayingEvents)
        assert release.wait(10)
        return real_sync(*args, progress=progress, **kwargs)

    monkeypatch.setattr(account_actions, "sync_tenant", slow_sync)
    app = app_factory(engine)(locale="da-DK", stripe_api_key="sk_test_console")
    async with app.run_test(size=WIDE) as pilot:
        await open_account(pilot, kunde)
        await pilot.press("s")
        await settled(pilot)
        await pilot.click("#confirm")
        await pilot.pause(0.2)
        assert (
            plain(app.screen.query_one("#progress-step", Static))
            == "Genafspiller hændelser i faktureringshændelsesloggen"
        )
        release.set()
        await settled(pilot, 0.2)
        assert isinstance(app.screen, ResultDialog) and app.screen.dialog_id == "sync-result"
        text = dialog_text(app)
        assert "Synkronisering fuldført med afvigelser: Kunde ApS" in text
        for line in (
            "Ændret: faktureringsinfo tilføjet",
            "Ændret: abonnement oprettet",
            "Ændret: nedgradering planlagt",
            "Ændret: priskataloget har ingen pris for Premium",
        ):
            assert line in text
        assert "subscription created" not in text


@pytest.mark.parametrize("locale", ["en-US", "da-DK"])
def test_every_sync_step_and_change_has_a_text_in_both_locales(locale: str) -> None:
    catalog = i18n.load_catalog(locale)
    keys_ = [f"admin.sync.step.{step.name}" for step in SyncStep]
    keys_ += [f"admin.sync.transition.{change.name}" for change in Transition]
    assert [key for key in keys_ if key not in catalog] == []


def test_the_english_console_shows_the_command_line_s_texts() -> None:
    english = i18n.load_catalog("en-US")
    assert all(english[f"admin.sync.step.{step.name}"] == step.value for step in SyncStep)
    # The console writes "canceled", its one en-US spelling; the contract's texts keep theirs.
    assert all(
        english[f"admin.sync.transition.{change.name}"] == change.value.replace("cancelled", "canceled")
        for change in Transition
    )


async def test_sync_with_drift_warns_with_the_count(
    admin_platform: tuple[Engine, Platform, factories.TenantRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _, kunde = admin_platform
    use_stripe(
        monkeypatch, FakeStripe(scheduled_plan=SubscriptionPlan.Premium, catalog_plans=(SubscriptionPlan.Standard,))
    )
    app = app_factory(engine)(stripe_api_key="sk_test_console")
    async with app.run_test(size=WIDE) as pilot:
        await open_account(pilot, kunde)
        await pilot.press("s")
        await settled(pilot)
        await confirm(pilot)
        assert isinstance(app.screen, ResultDialog) and app.screen.tone == "warning"
        text = dialog_text(app)
        assert "⚠ Sync complete with drift detected: Kunde ApS" in text
        assert "Account has 1 drift discrepancy." in text


async def test_without_stripe_s_and_r_say_so_at_once_and_are_not_offered(
    admin_platform: tuple[Engine, Platform, factories.TenantRef],
) -> None:
    engine, platform_, kunde = admin_platform
    app = app_factory(engine)()  # no STRIPE_API_KEY
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_account(pilot, platform_.solstrand)
        footer = [key.key for key in screen.query("FooterKey")]
        assert "s" not in footer and "R" not in footer and "A" in footer
        for key in ("s", "R"):
            await pilot.press(key)
            await settled(pilot, 0.2)
            assert app.screen is screen, key  # no dialog, no failure
        notices = [n for n in app._notifications if "Stripe is not configured" in n.message]
        assert len(notices) == 2 and all(n.severity == "information" for n in notices)
        await pilot.press("m")
        await settled(pilot)
        menu = app.screen.query_one(OptionList)
        # Copying the Stripe link needs no Stripe key (docs/rules.md R120).
        assert [menu.get_option_at_index(i).id for i in range(menu.option_count)] == [
            "acknowledge_drift",
            "copy_stripe_link",
        ]
    assert billing_event_count(engine, kunde) == 0


async def test_sync_asks_first_with_cancel_focused(
    admin_platform: tuple[Engine, Platform, factories.TenantRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _, _ = admin_platform
    use_stripe(monkeypatch, FakeStripe())
    app = app_factory(engine)(stripe_api_key="sk_test_console")
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        await pilot.press("a")
        await settled(pilot, DEBOUNCE)
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        await pilot.press("s")  # on the first row: Birk & Co
        await settled(pilot)
        assert isinstance(app.screen, ConfirmDialog) and "Sync Birk & Co with Stripe?" in dialog_text(app)
        assert isinstance(app.focused, Button) and app.focused.id == "cancel"
        await pilot.press("enter")  # a stray enter cancels
        await settled(pilot, 0.2)
        assert app.screen is screen


async def test_a_sync_that_finds_archived_events_offers_the_replay(
    admin_platform: tuple[Engine, Platform, factories.TenantRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _, kunde = admin_platform
    awaiting = sync.ArchivedAwaiting(3, NOW - timedelta(days=60), NOW - timedelta(days=40))

    def found_archived(_engine: Any, _settings: Any, tenant_id: int, **_: Any) -> sync.SyncResult:
        return sync.SyncResult(tenant_id, 0, False, 0, NOW, awaiting)

    monkeypatch.setattr(account_actions, "sync_tenant", found_archived)
    app = app_factory(engine)(stripe_api_key="sk_test_console")
    async with app.run_test(size=WIDE) as pilot:
        await open_account(pilot, kunde)
        await pilot.press("s")
        await settled(pilot)
        await confirm(pilot)
        assert isinstance(app.screen, ResultDialog) and app.screen.dialog_id == "sync-result"
        assert "3 archived events" in dialog_text(app)
        await pilot.click("#replay")
        await settled(pilot)
        assert isinstance(app.screen, ConfirmDialog) and app.screen.require  # the replay, asked as R asks


# -- acknowledge drift, replay, the menu -------------------------------------------


async def test_acknowledge_drift_asks_first_then_clears_the_flag(
    admin_platform: tuple[Engine, Platform, factories.TenantRef],
) -> None:
    engine, platform_, _ = admin_platform
    app = app_factory(engine)()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_account(pilot, platform_.solstrand)
        assert screen.query_one("#account-drift").display
        await pilot.press("A")
        await settled(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Acknowledge billing drift of Solstrand?" in dialog_text(app)
        await pilot.press("enter")  # Cancel has the focus: nothing happens
        await settled(pilot)
        assert app.screen is screen and screen.query_one("#account-drift").display
        await pilot.press("A")
        await settled(pilot)
        await pilot.press("escape")  # nor on escape
        await settled(pilot)
        assert app.screen is screen
        await pilot.press("A")
        await settled(pilot)
        await confirm(pilot)
        await settled(pilot, DEBOUNCE)
        assert app.screen is screen
        assert not screen.query_one("#account-drift").display
        await eventually(
            pilot,
            lambda: any(
                "Drift of Solstrand acknowledged; 2 findings kept for audit." in n.message for n in app._notifications
            ),
        )
    with engine.connect() as conn:
        flag, findings = conn.execute(
            select(Subscription.has_drift_detected, Subscription.drift_discrepancies).where(
                Subscription.tenant_id == platform_.solstrand.id
            )
        ).one()
    assert flag is False and len(findings) == 2  # the findings stay for audit


async def test_acknowledging_without_drift_says_so_without_asking(
    admin_platform: tuple[Engine, Platform, factories.TenantRef],
) -> None:
    engine, platform_, _ = admin_platform
    app = app_factory(engine)()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_account(pilot, platform_.nordlys)
        await pilot.press("A")
        await settled(pilot)
        assert app.screen is screen
        assert "Nordlys ApS has no billing drift: there is nothing to acknowledge." in [
            n.message for n in app._notifications
        ]
        assert "A" not in [key.key for key in screen.query("FooterKey")]  # not offered where there is no drift
        await pilot.press("m")  # nor is anything else without Stripe, but copying its link (R120)
        await settled(pilot)
        assert isinstance(app.screen, ActionsMenu)
        menu = app.screen.query_one(OptionList)
        assert [menu.get_option_at_index(i).id for i in range(menu.option_count)] == ["copy_stripe_link"]
        await pilot.press("escape")
        await settled(pilot)
        assert app.screen is screen
        # From the list, where the drift is not shown, it is read before asking.
        await pilot.press("a")
        await settled(pilot, DEBOUNCE)
        app.navigate("accounts", search="solstrand")
        await settled(pilot, DEBOUNCE)
        await pilot.press("A")
        await settled(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")
        app.navigate("accounts", search="klint")
        await settled(pilot, DEBOUNCE)
        await pilot.press("A")
        await settled(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert "Klint Lab has no billing drift: there is nothing to acknowledge." in [
            n.message for n in app._notifications
        ]


async def test_actions_menu_and_replay_confirmation(
    admin_platform: tuple[Engine, Platform, factories.TenantRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _, kunde = admin_platform
    use_stripe(monkeypatch, FakeStripe())
    app = app_factory(engine)(stripe_api_key="sk_test_console")
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_account(pilot, kunde)
        await pilot.press("m")
        await settled(pilot)
        assert isinstance(app.screen, ActionsMenu)
        menu = app.screen.query_one(OptionList)
        # Kunde ApS has no drift: the menu offers only what can be done.
        assert [menu.get_option_at_index(i).id for i in range(menu.option_count)] == [
            "sync",
            "replay_archived",
            "copy_stripe_link",  # docs/rules.md R120
        ]
        menu.highlighted = 1
        await pilot.press("enter")
        await settled(pilot)
        assert isinstance(app.screen, ConfirmDialog) and app.screen.destructive  # asks explicitly first
        assert "Disaster recovery from archived Stripe events for Kunde ApS?" in dialog_text(app)
        run = app.screen.query_one("#confirm", Button)
        assert isinstance(app.focused, Input) and run.disabled
        await pilot.press("enter")  # one enter runs nothing: the name is not typed
        await settled(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(*"Kunde")
        assert run.disabled
        await pilot.press(*" ApS")
        assert not run.disabled
        await pilot.press("enter")
        await settled(pilot, 0.2)
        # Nothing archived is waiting: the replay says so and changes nothing.
        assert isinstance(app.screen, ResultDialog) and app.screen.tone == "error"
        assert "No archived events outside Stripe's current events list window are awaiting replay." in dialog_text(app)
        await pilot.press("escape")
        await settled(pilot)
        assert app.screen is screen
    assert billing_event_count(engine, kunde) == 0


# -- who gets the actions -------------------------------------------------------------


def _admin_bindings(app: BackofficeApp) -> set[str]:
    return {
        binding.action
        for _, binding, enabled, _ in app.active_bindings.values()
        if enabled and keys.is_admin_action(binding.action)
    }


async def test_a_read_only_role_has_no_admin_keys(reader_engine: Engine, platform: Platform) -> None:
    app = app_factory(reader_engine)()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_account(pilot, platform.solstrand)
        assert app.is_admin is False
        assert _admin_bindings(app) == set()
        footer = " ".join(str(key.render()) for key in app.screen.query("FooterKey"))
        assert "Sync" not in footer and "Acknowledge" not in footer
        for key in ("s", "A", "R", "m"):
            await pilot.press(key)
            await settled(pilot)
            assert app.screen is screen, key


async def test_an_admin_sees_the_keys_but_kiosk_mode_has_none(
    admin_platform: tuple[Engine, Platform, factories.TenantRef],
) -> None:
    engine, platform_, _ = admin_platform
    app = app_factory(engine)()
    async with app.run_test(size=WIDE) as pilot:
        await open_account(pilot, platform_.solstrand)
        assert app.is_admin is True
        assert _admin_bindings(app) == ADMIN_KEYS
    kiosk = app_factory(engine)(kiosk=True)
    async with kiosk.run_test(size=WIDE) as pilot:
        await settled(pilot)
        assert kiosk.is_admin is True and not kiosk.can_admin
        kiosk.push_screen(AccountScreen(tenant_id=str(platform_.solstrand.id)))
        await settled(pilot, DEBOUNCE)
        assert _admin_bindings(kiosk) == set()
        await pilot.press("s")
        await settled(pilot)
        assert isinstance(kiosk.screen, AccountScreen)


async def test_the_replay_also_takes_the_account_s_id(
    admin_platform: tuple[Engine, Platform, factories.TenantRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _, kunde = admin_platform
    use_stripe(monkeypatch, FakeStripe())
    app = app_factory(engine)(stripe_api_key="sk_test_console")
    async with app.run_test(size=WIDE) as pilot:
        await open_account(pilot, kunde)
        await pilot.press("R")
        await settled(pilot)
        assert "type the account's name, Kunde ApS, or its id" in dialog_text(app)
        await pilot.press(*"kunde aps x")
        assert app.screen.query_one("#confirm", Button).disabled
        app.screen.query_one(Input).value = str(kunde.id)
        await settled(pilot)
        assert not app.screen.query_one("#confirm", Button).disabled
        await pilot.press("escape")
        await settled(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_a_reader_reads_the_drift_without_the_admin_s_instruction(
    reader_engine: Engine, platform: Platform
) -> None:
    app = app_factory(reader_engine)()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_account(pilot, platform.solstrand)
        note = plain(screen.query_one("#account-drift", Static))
        assert "Billing drift detected: 2 discrepancies" in note
        assert "acknowledge" not in note.lower() and "Sync with Stripe" not in note


async def test_an_admin_reads_what_to_do_about_drift(
    admin_platform: tuple[Engine, Platform, factories.TenantRef],
) -> None:
    engine, platform_, _ = admin_platform
    app = app_factory(engine)()  # no Stripe: only acknowledging is offered
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_account(pilot, platform_.solstrand)
        note = plain(screen.query_one("#account-drift", Static))
        assert "Acknowledge it with A once understood" in note and "Sync with Stripe" not in note

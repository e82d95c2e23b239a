"""The sync's steps and changes are named members whose values are the
command line's English texts: `sync --json` and the progress line print
exactly those texts."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable

import pytest
from rich.console import Console
from sqlalchemy import Engine

from console.cli import billing, main
from db.enums import SubscriptionPlan
from stripe_sync import sync
from stripe_sync.processing import SyncStep
from stripe_sync.state_sync import Transition
from tests import factories
from tests.stripe_sync.fake_stripe import CUSTOMER, FakeStripe


def test_a_missing_catalog_price_names_the_plan() -> None:
    for plan in SubscriptionPlan:
        assert Transition.no_price_for(plan) == f"catalog has no price for {plan.value}"


@pytest.fixture
def run_sync(engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., str]:
    """Run `backoffice sync TENANT_ID [flags]` against the fake Stripe; answer stdout."""
    with engine.begin() as conn:
        tenant = factories.tenant(conn, plan="Basis", stripe_customer_id=CUSTOMER)
    stripe = FakeStripe(scheduled_plan=SubscriptionPlan.Premium, catalog_plans=(SubscriptionPlan.Standard,))
    monkeypatch.setattr(sync, "stripe_client_for", lambda settings: stripe)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_texts")
    url = engine.url.render_as_string(hide_password=False)

    def run(*flags: str) -> str:
        monkeypatch.setattr(sys, "argv", ["backoffice", "--database-url", url, "sync", str(tenant.id), *flags])
        try:
            main()
        except SystemExit as exit_:
            assert exit_.code in (0, None)
        return capsys.readouterr().out

    return run


def test_sync_json_lists_the_changes_as_plain_english_texts(run_sync: Callable[..., str]) -> None:
    out = run_sync("--json")
    assert json.loads(out)["changes"] == [
        "billing info added",
        "payment method updated",
        "subscription created",
        "downgrade scheduled",
        "catalog has no price for Premium",
    ]
    assert '"changes": [\n    "billing info added",' in out


def test_the_progress_line_shows_the_step_s_english_text(
    run_sync: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(billing, "stderr", Console(file=terminal, force_terminal=True, width=120))
    run_sync()
    # The line's last state is the last step, by its text, not the member's name.
    shown = terminal.getvalue()
    assert SyncStep.Done.value in shown and "SyncStep" not in shown

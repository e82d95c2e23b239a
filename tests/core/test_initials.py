"""An account's initials badge (docs/rules.md R121) and its account state
(docs/rules.md R122)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, update

from core.account_detail import account_detail, account_summary
from core.account_status import AccountState, AccountStatus, account_state
from core.accounts import list_accounts
from core.initials import NO_INITIALS, colour_index, initials
from db.models import Subscription
from tests import factories as f

NOW = f.NOW


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Nordlys ApS", "NA"),
        ("nordlys aps", "NA"),
        ("Skovly", "SK"),
        ("X", "X"),
        ("Ærø Cykler", "ÆC"),
        ("Ærø", "ÆR"),
        ("Ölands-Bröd AB", "ÖB"),  # punctuation separates words
        ("  Klint   Lab  ", "KL"),
        ("3D Print", "3P"),
        ("Δέλτα Ομάδα", "ΔΟ"),
        ("Москва Софт", "МС"),
        ("株式会社 ソニー", "株"),  # a wide letter fills the badge alone
        ("ßeta", "ßE"),  # "ß" would become two letters uppercased: kept
        ("e\u0301cole", "ÉC"),  # a combining accent stays with its letter
        ("", NO_INITIALS),
        ("  -- & --  ", NO_INITIALS),
        (None, NO_INITIALS),
    ],
)
def test_initials(name: str | None, expected: str) -> None:
    assert initials(name) == expected


def test_the_colour_is_stable_and_spread_over_the_palette() -> None:
    assert colour_index(1234567890123, 8) == colour_index("1234567890123", 8) == colour_index(1234567890123, 8)
    # A known value: the same on every run and machine (CRC-32, not Python's salted hash).
    assert colour_index("1", 8) == 0x83DCEFB7 % 8
    used = {colour_index(7_000_000_000_000 + n, 8) for n in range(200)}
    assert used == set(range(8))
    assert all(0 <= colour_index(n, 5) < 5 for n in range(100))


def test_a_palette_needs_a_colour() -> None:
    with pytest.raises(ValueError):
        colour_index(1, 0)


@pytest.mark.parametrize(
    ("status", "tenant_state", "failing", "expected"),
    [
        (AccountStatus.Active, "Suspended", False, AccountState.Suspended),
        (AccountStatus.Canceled, "Suspended", True, AccountState.Suspended),
        (AccountStatus.Active, "Active", True, AccountState.PastDue),
        (AccountStatus.Canceling, "Active", True, AccountState.PastDue),
        *((status, "Active", False, AccountState(status.value)) for status in AccountStatus),
    ],
)
def test_account_state_first_match_wins(
    status: AccountStatus, tenant_state: str, failing: bool, expected: AccountState
) -> None:
    assert account_state(status, tenant_state, failing) is expected


def test_every_status_is_a_state() -> None:
    assert {status.value for status in AccountStatus} < {state.value for state in AccountState}


def test_the_list_detail_and_pane_carry_the_state(conn: Connection) -> None:
    suspended = f.tenant(conn, name="Skovly IVS", plan="Standard", state="Suspended")
    past_due = f.tenant(conn, name="Birk", plan="Standard")
    conn.execute(update(Subscription).where(Subscription.tenant_id == past_due.id).values(first_payment_failed_at=NOW))
    free = f.tenant(conn, name="Havblik", plan="Basis")
    rows = {row.name: row for row in list_accounts(conn).items}
    assert rows["Skovly IVS"].account_state is AccountState.Suspended
    assert rows["Birk"].account_state is AccountState.PastDue and rows["Birk"].status is AccountStatus.Active
    assert rows["Havblik"].account_state is AccountState.Free
    assert account_detail(conn, suspended.id, NOW).account_state is AccountState.Suspended
    assert account_detail(conn, past_due.id, NOW).account_state is AccountState.PastDue
    assert account_summary(conn, past_due.id, NOW).account_state is AccountState.PastDue
    assert account_summary(conn, free.id, NOW).account_state is AccountState.Free

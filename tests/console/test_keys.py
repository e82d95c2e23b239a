"""console/keys.py holds docs/rules.md R99, once each."""

from __future__ import annotations

from collections import Counter

from console import keys
from console.app import BackofficeApp
from console.screens import SCREENS

CONTRACT = {
    "d": "navigate('dashboard')",
    "a": "navigate('accounts')",
    "u": "navigate('users')",
    "b": "navigate('billing_events')",
    "i": "navigate('invoices')",
    "slash": "focus_search",
    "f": "open_filters",
    "p": "cycle_period",
    "enter": "open_selected",
    "escape": "back",
    "pageup": "previous_page",
    "pagedown": "next_page",
    "s": "sync",
    "A": "acknowledge_drift",
    "ctrl+k": "leave_kiosk",
    "ctrl+p": "command_palette",
    "question_mark": "help",
    "q": "quit_unless_kiosk",
}


def test_the_contract_keys_are_declared() -> None:
    declared = {entry.key: entry.action for entry in keys.KEYS}
    assert {key: declared.get(key) for key in CONTRACT} == CONTRACT


def test_j_and_k_only_move() -> None:
    """Vim users press j and k in lists: they move, and toggle nothing."""
    assert {entry.key: entry.action for entry in keys.KEYS if entry.key in {"j", "k"}} == {
        "j": "line(1)",
        "k": "line(-1)",
    }


def test_no_key_is_bound_twice_in_a_scope() -> None:
    for scope in keys.SCOPE_ORDER:
        counts = Counter(entry.key for entry in keys.keys_in(scope))
        assert [key for key, count in counts.items() if count > 1] == [], scope
    assert {entry.scope for entry in keys.KEYS} == set(keys.SCOPE_ORDER)


def test_global_actions_exist_on_the_app_and_navigation_targets_are_registered() -> None:
    for entry in keys.keys_in("global"):
        name = entry.action.split("(")[0]
        assert hasattr(BackofficeApp, f"action_{name}"), entry
        if name == "navigate":
            assert entry.action.split("'")[1] in SCREENS


def test_admin_actions_are_marked() -> None:
    assert {entry.key for entry in keys.KEYS if entry.admin} >= {"s", "A"}
    assert keys.is_admin_action("sync") and not keys.is_admin_action("help")

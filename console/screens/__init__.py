"""The screen registry: `app.navigate(name, **params)` looks names up here.

SECTIONS are the side menu's destinations: each gets its own Textual mode, so
its state survives navigating away and back. Every other name is a detail
screen, pushed on top of the current section with `cls(**params)`.
To add a screen: write its module, subclass `BackofficeScreen`, register it here.
"""

from __future__ import annotations

from console.screens.account import AccountScreen
from console.screens.accounts import AccountsScreen
from console.screens.base import BackofficeScreen
from console.screens.billing_events import BillingEventsScreen
from console.screens.coming_soon import FeatureFlagsScreen, SupportScreen, WaitListScreen
from console.screens.dashboard import DashboardScreen
from console.screens.invoices import InvoicesScreen
from console.screens.user import UserScreen
from console.screens.users import UsersScreen

SCREENS: dict[str, type[BackofficeScreen]] = {
    screen.NAME: screen
    for screen in (
        DashboardScreen,
        AccountsScreen,
        UsersScreen,
        InvoicesScreen,
        BillingEventsScreen,
        FeatureFlagsScreen,
        SupportScreen,
        WaitListScreen,
        AccountScreen,
        UserScreen,
    )
}

SECTIONS: tuple[str, ...] = (
    "dashboard",
    "accounts",
    "users",
    "invoices",
    "billing_events",
    "feature_flags",
    "support",
    "wait_list",
)

__all__ = ["SCREENS", "SECTIONS", "BackofficeScreen"]

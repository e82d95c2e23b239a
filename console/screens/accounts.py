"""Accounts list and account detail (placeholders until the real screens land)."""

from __future__ import annotations

from console.screens.placeholder import PlaceholderScreen


class AccountsScreen(PlaceholderScreen):
    NAME = "accounts"
    TITLE_KEY = "menu.accounts"
    KEY_SCOPES = ("list",)


class AccountScreen(PlaceholderScreen):
    """navigate("account", tenant_id=...)."""

    NAME = "account"
    TITLE_KEY = "screen.account"
    MENU_ITEM = "accounts"
    KEY_SCOPES = ("account",)

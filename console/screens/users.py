"""Users list and user detail (placeholders until the real screens land)."""

from __future__ import annotations

from console.screens.placeholder import PlaceholderScreen


class UsersScreen(PlaceholderScreen):
    NAME = "users"
    TITLE_KEY = "menu.users"
    KEY_SCOPES = ("list",)


class UserScreen(PlaceholderScreen):
    """navigate("user", user_id=...)."""

    NAME = "user"
    TITLE_KEY = "screen.user"
    MENU_ITEM = "users"

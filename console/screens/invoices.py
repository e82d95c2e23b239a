"""Platform-wide invoices (placeholder until the real screen lands)."""

from __future__ import annotations

from console.screens.placeholder import PlaceholderScreen


class InvoicesScreen(PlaceholderScreen):
    NAME = "invoices"
    TITLE_KEY = "menu.invoices"
    KEY_SCOPES = ("list",)

"""Platform-wide billing events (placeholder until the real screen lands)."""

from __future__ import annotations

from console.screens.placeholder import PlaceholderScreen


class BillingEventsScreen(PlaceholderScreen):
    NAME = "billing_events"
    TITLE_KEY = "menu.billing_events"
    KEY_SCOPES = ("list", "period")
